"""The choices where the specification is silent (billing/pricing/__init__.py, "Choices where the specification
is silent"), each pinned by a test, plus min/max price, VAT rates, the explanation and the CDR periods."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.pricing import Amount, Dimension, MeterInterval, PricingError, SessionFacts, price_session, quantize_price

from .sessions import Charge, Park, billed, component, element, session, spec_tariff, tariff, totals


def test_rounding_happens_once_on_the_total_not_per_period():
    # Two periods of 0.005 EUR each: rounding each would bill 0.02; the exact total is 0.01.
    split_minute = tariff(
        element(component("TIME", "0.30", vat="20"), end_time="10:01"), element(component("TIME", "0.30", vat="20"))
    )
    priced = price_session(split_minute, session("2026-06-01 10:00", Charge(2, 100)))

    assert [p.amount_excl_vat for p in priced.periods] == [Decimal("0.005"), Decimal("0.005")]
    assert totals(priced) == ("0.01", "0.01")  # 0.012 incl. VAT


def test_totals_round_half_up_to_the_currency_minor_unit():
    assert quantize_price(Decimal("0.125"), "EUR") == Decimal("0.13")
    assert quantize_price(Decimal("0.135"), "EUR") == Decimal("0.14")
    assert quantize_price(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert quantize_price(Decimal("1.2345"), "KWD") == Decimal("1.235")


def test_money_is_exact_even_when_periods_cost_repeating_decimals():
    # One hour at 1.00/h, in 7 s and 11 s stretches alternating between two elements (by power): each period
    # costs a repeating decimal (7/3600 EUR), and yet the total is exactly 1.
    by_power = tariff(element(component("TIME", "1.00"), max_power=22), element(component("TIME", "1.00")))
    start = session("2026-06-01 10:00").start
    durations = [7, 11] * 163 + [666]
    intervals, moment = [], start
    for index, seconds in enumerate(durations):
        intervals.append(MeterInterval(moment, moment + timedelta(seconds=seconds), 1, 11_000 if index % 2 else 50_000))
        moment += timedelta(seconds=seconds)
    priced = price_session(by_power, SessionFacts(start, moment, "Europe/Berlin", intervals))

    assert len(priced.periods) == len(durations)
    assert priced.periods[0].amount_excl_vat != priced.periods[0].amount_excl_vat.quantize(Decimal("1E-20"))
    assert priced.exact_total.excl_vat == Decimal(1)


def test_a_dimension_no_element_prices_is_free_then_and_not_counted_for_the_step():
    # Energy is only priced at night, per kWh; the day's energy is free and does not count towards the step.
    night_only = tariff(element(component("ENERGY", "0.29", step_size=1000), start_time="22:00", end_time="06:00"))
    priced = price_session(night_only, session("2026-06-01 21:00", Charge(120, 22_000, 11_000)))

    assert billed(priced, Dimension.ENERGY) == [(0, Decimal(11_000), Decimal("3.19"))]
    assert priced.explanation[0].startswith("Mon 22:00-23:00 [22:00-06:00]: 11.000 kWh")


def test_flat_is_charged_once_at_the_first_moment_a_flat_component_matches():
    # A "long stay" fee: FLAT 5.00 once the session passes 4 hours.
    long_stay = tariff(element(component("ENERGY", "0.39")), element(component("FLAT", "5.00"), min_duration=4 * 3600))

    short = price_session(long_stay, session("2026-06-01 10:00", Charge(60, 10_000)))
    long = price_session(long_stay, session("2026-06-01 10:00", Charge(60, 10_000), Park(200)))

    assert short.periods_of(Dimension.FLAT) == ()
    [fee] = long.periods_of(Dimension.FLAT)
    assert (fee.start, fee.amount_excl_vat) == (session("2026-06-01 14:00").start, Decimal("5.00"))


def test_a_flat_start_fee_depends_on_the_element_matching_at_the_start():
    night_start = tariff(
        element(component("FLAT", "1.00"), start_time="22:00", end_time="06:00"), element(component("FLAT", "0.50"))
    )
    priced = price_session(night_start, session("2026-06-01 21:30", Charge(120, 10_000)))

    assert billed(priced, Dimension.FLAT) == [(1, 1, Decimal("0.50"))]


def test_a_session_without_duration_still_pays_the_flat_fee():
    start = session("2026-06-01 10:00").start
    priced = price_session(spec_tariff("tariff_9_025kwh_start"), SessionFacts(start, start, "Europe/Berlin", ()))

    assert totals(priced) == ("0.50", "0.60")


def test_energy_split_inside_a_meter_interval_is_whole_wh_rounded_down_on_the_earlier_side():
    # 21:50-22:10 with 2,001 Wh: 1,000 Wh before 22:00, 1,001 Wh after.
    peak = tariff(
        element(component("ENERGY", "0.29"), start_time="22:00", end_time="06:00"), element(component("ENERGY", "0.39"))
    )
    priced = price_session(peak, session("2026-06-01 21:50", Charge(20, 2_001)))

    assert [p.consumed for p in priced.periods] == [Decimal(1_000), Decimal(1_001)]


def test_max_price_without_incl_vat_keeps_the_sessions_vat_mix():
    capped = tariff(
        element(component("FLAT", "1.00", vat="20"), component("ENERGY", "0.50", vat="10")),
        max_price={"excl_vat": Decimal("5.50")},
    )
    priced = price_session(capped, session("2026-06-01 10:00", Charge(120, 20_000)))

    # components: 11.00 excl., 12.20 incl.; capped to 5.50 excl., and incl. in the same proportion: 6.10
    assert priced.limit == "max_price"
    assert totals(priced) == ("5.50", "6.10")
    assert priced.limit_adjustment == Amount(Decimal("-5.50"), Decimal("-6.10"))


def test_min_price_on_a_session_that_cost_nothing_uses_the_tariffs_single_vat_rate():
    minimum = tariff(element(component("ENERGY", "0.25", vat="10")), min_price={"excl_vat": Decimal("1.00")})
    start = session("2026-06-01 10:00").start

    priced = price_session(minimum, SessionFacts(start, start, "Europe/Berlin", ()))

    assert totals(priced) == ("1.00", "1.10")


def test_min_and_max_price_apply_to_the_total_including_the_reservation():
    capped = tariff(
        element(component("TIME", "5.00", vat="20"), reservation="RESERVATION"),
        element(component("ENERGY", "0.25", vat="20")),
        max_price={"excl_vat": Decimal("6.00"), "incl_vat": Decimal("7.20")},
    )
    priced = price_session(capped, session("2026-06-01 10:00", Charge(120, 20_000), reserved_minutes=30))

    assert (priced.subtotal.excl_vat, totals(priced)) == (Decimal("7.50"), ("6.00", "7.20"))
    assert priced.explanation[-2:] == (
        "Maximum price applies: the components cost 7.50 EUR excl. VAT, 9.00 EUR incl. VAT",
        "Total: 6.00 EUR excl. VAT, 7.20 EUR incl. VAT",
    )


def test_vat_omitted_and_vat_zero_are_different_rates():
    two_rates = tariff(element(component("FLAT", "1.00"), component("ENERGY", "0.20", vat="0")))
    priced = price_session(two_rates, session("2026-06-01 10:00", Charge(60, 10_000)))

    assert [(line.rate, line.excl_vat, line.vat) for line in priced.vat_breakdown] == [
        (None, Decimal("1.00"), 0),
        (Decimal("0"), Decimal("2.00"), 0),
    ]


def test_a_tariff_applies_from_its_start_and_keeps_pricing_a_session_that_outlives_it():
    limited = tariff(
        element(component("ENERGY", "0.30")),
        start_date_time="2026-06-01T08:00:00Z",
        end_date_time="2026-06-01T09:00:00Z",
    )

    with pytest.raises(PricingError, match="not in force"):
        price_session(limited, session("2026-06-01 09:59", Charge(60, 10_000)))  # 07:59 UTC
    outlived = price_session(limited, session("2026-06-01 10:30", Charge(120, 10_000)))  # until 10:30 UTC
    assert outlived.total.excl_vat == Decimal("3.00")


def test_the_explanation_reads_as_a_receipt():
    priced = price_session(
        spec_tariff("tariff_4_complex"), session("2026-06-01 09:30", Charge(165, 10_120, 3_680, 16), Park(42))
    )

    assert priced.explanation == (
        "Mon 09:30: flat fee = 2.50 EUR",
        "Mon 09:30-12:15 [< 32 A]: charging 2 h 45 min x 1.00 EUR/h = 2.75 EUR",
        "Mon 12:15-12:57 [09:00-18:00, Mon-Fri]: "
        "parking 42 min (billed 45 min: steps of 5 min) x 5.00 EUR/h = 3.75 EUR",
        "VAT 10% on 3.75 EUR = 0.38 EUR",
        "VAT 15% on 2.50 EUR = 0.38 EUR",
        "VAT 20% on 2.75 EUR = 0.55 EUR",
        "Total: 9.00 EUR excl. VAT, 10.30 EUR incl. VAT",
    )


def test_priced_sessions_carry_what_an_ocpi_cdr_needs():
    priced = price_session(
        spec_tariff("tariff_4_complex"), session("2026-06-01 09:30", Charge(165, 10_120, 3_680, 16), Park(42))
    )

    assert [
        (p.start, p.end, p.energy_wh, p.charging_time_s, p.parking_time_s, p.elements) for p in priced.charging_periods
    ] == [
        (_utc(7, 30), _utc(10, 15), 10_120, 9900, 0, ((Dimension.TIME, 1),)),
        (_utc(10, 15), _utc(10, 57), 0, 0, 2520, ((Dimension.PARKING_TIME, 4),)),
    ]
    assert (priced.fixed_cost, priced.time_cost, priced.parking_time_cost, priced.energy_cost) == (
        Amount(Decimal("2.50"), Decimal("2.875")),
        Amount(Decimal("2.75"), Decimal("3.30")),
        Amount(Decimal("3.75"), Decimal("4.125")),
        Amount(Decimal(0), Decimal(0)),
    )
    assert priced.charging_periods[0].max_current_a == 16


def _utc(hour, minute):
    return datetime(2026, 6, 1, hour, minute, tzinfo=UTC)
