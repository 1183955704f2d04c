"""Every worked example of the OCPI 2.2.1 tariff module (mod_tariffs.asciidoc), priced to the cent.

Each test is named after the example's heading and uses the example's tariff verbatim (tests/billing/
spec_tariffs.py). The step_size examples are in test_pricing_step_size.py."""

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.pricing import Amount, Dimension, PricingError, SessionFacts, price_session, tariff_from_ocpi

from .sessions import Charge, Park, billed, local, session, spec_tariff, totals
from .spec_tariffs import load


def test_simple_tariff_example_0_25_euro_per_kwh():
    # "This tariff will result in costs of € 5.00 (excl. VAT) or € 5.50 (incl. VAT) when 20 kWh are charged."
    priced = price_session(spec_tariff("tariff_8_simple_025kwh"), session("2026-06-01 10:00", Charge(120, 20_000)))

    assert totals(priced) == ("5.00", "5.50")
    assert priced.vat_breakdown[0].rate == Decimal("10.0")


def test_tariff_example_0_25_euro_per_kwh_start_fee():
    # "total cost of € 5.50 (excl. VAT) or € 6.10 (incl. VAT) when 20 kWh are charged."
    priced = price_session(spec_tariff("tariff_9_025kwh_start"), session("2026-06-01 10:00", Charge(120, 20_000)))

    assert totals(priced) == ("5.50", "6.10")
    assert priced.fixed_cost.incl_vat == Decimal("0.60")


def test_tariff_example_0_25_euro_per_kwh_minimum_price():
    # "€ 5.00 (excl. VAT) or € 5.50 (incl. VAT) when 20 kWh are charged. But if less than 2 kWh is charged,
    # € 0.50 (excl. VAT) or € 0.55 (incl. VAT) will be billed."
    tariff = spec_tariff("tariff_12_025kwh_min_price")

    assert totals(price_session(tariff, session("2026-06-01 10:00", Charge(120, 20_000)))) == ("5.00", "5.50")
    small = price_session(tariff, session("2026-06-01 10:00", Charge(10, 1_200)))
    assert totals(small) == ("0.50", "0.55")
    assert small.limit == "min_price"
    assert small.subtotal.excl_vat == Decimal("0.3")
    assert small.limit_adjustment.excl_vat == Decimal("0.2")
    assert totals(price_session(tariff, session("2026-06-01 10:00", Charge(10, 2_000)))) == ("0.50", "0.55")


def test_tariff_example_0_25_euro_per_kwh_parking_fee_start_fee():
    # 20 kWh, parked 40 minutes after charging: "€ 7.00 (excl. VAT) or € 7.90 (incl. VAT) ... the driver has to
    # pay for 45 minutes of parking even though they left 40 minutes after their vehicle stopped charging."
    priced = price_session(
        spec_tariff("tariff_10_025kwh_parking_start"), session("2026-06-01 10:00", Charge(120, 20_000), Park(40))
    )

    assert totals(priced) == ("7.00", "7.90")
    assert billed(priced, Dimension.PARKING_TIME) == [(0, Decimal(45 * 60), Decimal("1.5"))]


def test_tariff_example_0_25_euro_per_kwh_start_fee_max_price_tariff_end_date():
    # "For a charging session where 50 kWh are charged, this tariff will result in costs of € 10.00 (excl. VAT)
    # or € 11.00 (incl. VAT) due to the price limit. If only 30 kWh were charged, the costs would be € 8.00
    # (excl. VAT) and € 8.85 (incl. VAT)". The tariff ends 2019-06-30T23:59:59Z.
    tariff = spec_tariff("tariff_6_025kwh_start_max_price")

    capped = price_session(tariff, session("2019-06-03 10:00", Charge(300, 50_000)))
    assert totals(capped) == ("10.00", "11.00")
    assert capped.limit == "max_price"
    assert (capped.subtotal.excl_vat, capped.subtotal.incl_vat) == (Decimal("13.00"), Decimal("14.35"))
    assert totals(price_session(tariff, session("2019-06-03 10:00", Charge(180, 30_000)))) == ("8.00", "8.85")
    with pytest.raises(PricingError, match="not in force"):
        price_session(tariff, session("2019-07-01 10:00", Charge(180, 30_000)))


def test_simple_tariff_example_2_euro_per_hour():
    # "For a charging session of 2.5 hours, this tariff will result in costs of € 5.00 (excl. VAT) or € 5.50
    # (incl. VAT)." Only TIME is priced, so parking after charging is free.
    priced = price_session(
        spec_tariff("tariff_1_simple_2hour"), session("2026-06-01 10:00", Charge(150, 18_000), Park(30))
    )

    assert totals(priced) == ("5.00", "5.50")
    assert priced.parking_time_cost.excl_vat == 0


def test_simple_tariff_example_3_euro_per_hour_5_euro_per_hour_parking():
    # 150 minutes charging + 42 minutes parking: "total cost of € 11.25 (excl. VAT) or € 12.75 (incl. VAT).
    # Because the parking time is billed per 5 minutes, the driver has to pay for 45 minutes of parking"
    priced = price_session(
        spec_tariff("tariff_13_simple_3hour_5parking"), session("2026-06-01 10:00", Charge(150, 18_000), Park(42))
    )

    assert totals(priced) == ("11.25", "12.75")
    assert billed(priced, Dimension.TIME) == [(0, Decimal(150 * 60), Decimal("7.5"))]
    assert billed(priced, Dimension.PARKING_TIME) == [(0, Decimal(45 * 60), Decimal("3.75"))]


def test_ad_hoc_simple_tariff_example_with_multiple_languages():
    # € 1.90 per hour, 5.2 % VAT, per 5 minutes: "For a charging session of 2.5 hours, this tariff will result
    # in costs of € 4.75 (excl. VAT) or € 5.00 (incl. VAT)." (4.997 rounds to 5.00.)
    priced = price_session(spec_tariff("tariff_2_alt_text"), session("2026-06-01 10:00", Charge(150, 18_000)))

    assert totals(priced) == ("4.75", "5.00")
    assert priced.exact_total.incl_vat == Decimal("4.997")


def test_ad_hoc_tariff_example_not_possible_with_ocpi():
    # No figures in the text, but its alt text says "2.00 euro p/hour, start tariff ... credit card: 0.50 euro
    # including VAT": 0.40 + 25 % = 0.50 and 1.90 + 5.2 % = 1.9988, so one hour is 2.50 incl. VAT.
    priced = price_session(
        spec_tariff("tariff_11_not_possible_alt_text"), session("2026-06-01 10:00", Charge(60, 7_000))
    )

    assert totals(priced) == ("2.30", "2.50")
    assert priced.fixed_cost.incl_vat == Decimal("0.50")


def test_simple_tariff_example_with_alternative_url():
    # 20.45 kWh billed per 100 Wh: energy 20.5 kWh "€ 5.13 (excl. VAT), € 5.64 (incl. VAT)", start fee
    # € 0.50 / € 0.60, "Total: € 5.63 (excl. VAT), € 6.24 (incl. VAT)".
    priced = price_session(spec_tariff("tariff_3_alt_url"), session("2026-06-01 10:00", Charge(120, 20_450)))

    assert totals(priced) == ("5.63", "6.24")
    assert billed(priced, Dimension.ENERGY) == [(0, Decimal(20_500), Decimal("5.125"))]
    assert priced.energy_cost.excl_vat.quantize(Decimal("0.01"), "ROUND_HALF_UP") == Decimal("5.13")
    assert priced.energy_cost.incl_vat.quantize(Decimal("0.01"), "ROUND_HALF_UP") == Decimal("5.64")


def test_simple_tariff_example_with_alternative_url_at_the_real_time_price():
    # "With an assumed current energy price of € 0.22 per kWh ... Energy costs: € 4.51 (excl. VAT), € 4.96
    # (incl. VAT) Total: € 5.01 (excl. VAT), € 5.56 (incl. VAT)". Expressed as a dynamic price: the feed says
    # 0.22, margin 0; the announced price stays 0.25.
    document = load("tariff_3_alt_url")
    document["elements"][0]["price_components"][1]["dynamic_price"] = {"feed": "operator-real-time", "margin": 0}
    priced = price_session(
        tariff_from_ocpi(document),
        session("2026-06-01 10:00", Charge(120, 20_450)),
        price_feed=lambda interval_start: Decimal("0.22"),
    )

    assert totals(priced) == ("5.01", "5.56")
    assert priced.energy_cost.excl_vat == Decimal("4.51")


def test_complex_tariff_example_monday_morning():
    # Monday 09:30, 165 minutes at most 16 A, then 42 minutes parking: "€ 9.00 (excl. VAT) or € 10.30 (incl.
    # VAT)". Breakdown: flat 2.50 / 2.875, charging time 165 min 2.75 / 3.30, parking 45 min 3.75 / 4.125.
    priced = price_session(
        spec_tariff("tariff_4_complex"),
        session("2026-06-01 09:30", Charge(165, 10_120, 3_680, 16), Park(42)),
    )

    assert totals(priced) == ("9.00", "10.30")
    assert billed(priced, Dimension.FLAT) == [(0, 1, Decimal("2.50"))]
    # "The charging time is not affected by step_size because it is followed by another time-based period."
    assert billed(priced, Dimension.TIME) == [(1, Decimal(165 * 60), Decimal("2.75"))]
    # "the parking time duration of 42 minutes is rounded up to 45"
    assert billed(priced, Dimension.PARKING_TIME) == [(4, Decimal(45 * 60), Decimal("3.75"))]
    assert [(line.rate, line.incl_vat) for line in priced.vat_breakdown] == [
        (Decimal("10.0"), Decimal("4.125")),
        (Decimal("15.0"), Decimal("2.875")),
        (Decimal("20.0"), Decimal("3.30")),
    ]


def test_complex_tariff_example_saturday_afternoon_as_the_rules_say():
    """Saturday 13:30, 114 minutes at 43 A, then 71 minutes parking.

    The specification says 12.28 EUR excl. VAT / 13.861 EUR incl. VAT, with charging time at "1.25 per hour"
    costing 2.28 / 2.736. That is an arithmetic slip: 114 minutes is 1.9 h, and 1.9 h x 1.25 EUR/h = 2.375 EUR
    (2.28 is 1.9 h x 1.20). With the spec's own flat fee (2.50 / 2.875) and parking (75 minutes x 6.00 EUR/h =
    7.50 / 8.25, which it computes right), the rules give 12.375 EUR excl. VAT and 13.975 EUR incl. VAT
    (2.375 x 1.20 = 2.85), i.e. 12.38 / 13.98 after rounding. (13.861 is also left unrounded in the spec.)"""
    priced = price_session(
        spec_tariff("tariff_4_complex"),
        session("2026-06-06 13:30", Charge(114, 20_000, 29_670, 43), Park(71)),
    )

    assert billed(priced, Dimension.TIME) == [(3, Decimal(114 * 60), Decimal("2.375"))]
    assert billed(priced, Dimension.PARKING_TIME) == [(5, Decimal(75 * 60), Decimal("7.5"))]
    assert (priced.exact_total.excl_vat, priced.exact_total.incl_vat) == (Decimal("12.375"), Decimal("13.975"))
    assert totals(priced) == ("12.38", "13.98")


def test_free_of_charge_tariff_example():
    # One FLAT component of 0.00 with step_size 0 and no VAT: any session costs nothing.
    priced = price_session(
        spec_tariff("tariff_5_free_of_charge"), session("2026-06-01 10:00", Charge(90, 30_000), Park(600))
    )

    assert totals(priced) == ("0.00", "0.00")
    assert [(line.rate, line.excl_vat) for line in priced.vat_breakdown] == [(None, 0)]


def test_tariff_example_with_reservation_price():
    # Started charging 15 minutes after the reservation, 20 kWh: "€ 6.75 (excl. VAT) or € 7.60 (incl. VAT)":
    # flat 0.50 / 0.60, energy 5.00 / 5.50, reservation 15 minutes at 5.00/h 1.25 / 1.50.
    priced = price_session(
        spec_tariff("tariff_15_reservation_5_euro_per_hour"),
        session("2026-06-01 10:00", Charge(120, 20_000), reserved_minutes=15),
    )

    assert totals(priced) == ("6.75", "7.60")
    assert billed(priced, Dimension.TIME, reservation=True) == [(0, Decimal(15 * 60), Decimal("1.25"))]
    assert priced.reservation_cost == Amount(Decimal("1.25"), Decimal("1.50"))
    assert priced.time_cost.excl_vat == 0


def test_tariff_example_with_reservation_price_and_fee():
    # Charging 13 minutes after the reservation, 20 kWh: "€ 8.75 (excl. VAT) or € 10.00 (incl. VAT)": reservation
    # fee 2.00, 13 minutes billed as 15 (per 5 minutes) 1.25, start fee 0.50, energy 5.00.
    priced = price_session(
        spec_tariff("tariff_16_reservation_2_euro_fee_5_euro_per_hour"),
        session("2026-06-01 10:00", Charge(120, 20_000), reserved_minutes=13),
    )

    assert totals(priced) == ("8.75", "10.00")
    assert billed(priced, Dimension.FLAT, reservation=True) == [(0, 1, Decimal("2.00"))]
    assert billed(priced, Dimension.TIME, reservation=True) == [(0, Decimal(15 * 60), Decimal("1.25"))]
    assert billed(priced, Dimension.FLAT) == [(1, 1, Decimal("0.50"))]


def test_tariff_example_with_reservation_price_and_expire_fee():
    # Charging 22 minutes after the reservation: "€ 6.50 (excl. VAT) or € 7.30 (incl. VAT)" (30 minutes of
    # reservation at 2.00/h, start fee, energy). Expired after 1 hour: "€ 6.00 (excl. VAT) or € 7.20 (incl. VAT)"
    # (expiration fee 4.00 and 60 minutes at 2.00/h).
    tariff = spec_tariff("tariff_17_reservation_with_expire_fee")

    used = price_session(tariff, session("2026-06-01 10:00", Charge(120, 20_000), reserved_minutes=22))
    assert totals(used) == ("6.50", "7.30")
    assert billed(used, Dimension.TIME, reservation=True) == [(1, Decimal(30 * 60), Decimal("1.00"))]

    expired = price_session(tariff, SessionFacts.expired_reservation("Europe/Berlin", *_hour_from("10:00", 60)))
    assert totals(expired) == ("6.00", "7.20")
    assert billed(expired, Dimension.FLAT, reservation=True) == [(0, 1, Decimal("4.00"))]
    assert billed(expired, Dimension.TIME, reservation=True) == [(1, Decimal(3600), Decimal("2.00"))]


def test_tariff_example_with_reservation_time_and_expire_time():
    # Charging 22 minutes after the reservation: "€ 7.00 (excl. VAT) or € 7.90 (incl. VAT)". Expired after 1.5
    # hours: "€ 9.00 (excl. VAT) or € 10.80 (incl. VAT)", 90 minutes at the expired rate of 6.00/h.
    tariff = spec_tariff("tariff_18_reservation_with_expire_time")

    used = price_session(tariff, session("2026-06-01 10:00", Charge(120, 20_000), reserved_minutes=22))
    assert totals(used) == ("7.00", "7.90")
    assert billed(used, Dimension.TIME, reservation=True) == [(1, Decimal(30 * 60), Decimal("1.50"))]

    expired = price_session(tariff, SessionFacts.expired_reservation("Europe/Berlin", *_hour_from("10:00", 90)))
    assert totals(expired) == ("9.00", "10.80")
    assert billed(expired, Dimension.TIME, reservation=True) == [(0, Decimal(90 * 60), Decimal("9.00"))]


def test_tariff_with_max_power_tariff_restrictions_example():
    # 1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW: "€ 20.30 (excl. VAT)": 0.20 + 20.00 + 0.10.
    priced = price_session(
        spec_tariff("tariffrestriction_example_max_power"),
        session("2026-06-01 10:00", Charge(10, 1_000, 6_000), Charge(50, 40_000, 48_000), Charge(7.5, 500, 4_000)),
    )

    assert priced.total.excl_vat == Decimal("20.30")
    assert billed(priced, Dimension.ENERGY) == [
        (0, Decimal(1_000), Decimal("0.2")),
        (2, Decimal(40_000), Decimal("20")),
        (0, Decimal(500), Decimal("0.1")),
    ]


def test_tariff_with_max_duration_tariff_restrictions_example():
    # 40 minutes, 5 kWh in the first 30 minutes (free), 1.2 kWh in the last 10 at 0.25: "€ 0.30 (excl. VAT)".
    priced = price_session(
        spec_tariff("tariffrestriction_example_max_duration"),
        session("2026-06-01 10:00", Charge(30, 5_000), Charge(10, 1_200)),
    )

    assert priced.total.excl_vat == Decimal("0.30")
    assert billed(priced, Dimension.ENERGY) == [(0, Decimal(5_000), Decimal(0)), (1, Decimal(1_200), Decimal("0.3"))]


def test_new_tariff_2_euro_per_hour_charging_time_put_example():
    # The PUT example (€ 2 per hour charging time, not parking, per 5 minutes). The parking after charging has
    # no component, so charging time is the last priced time-based period and takes the rounding: 62 -> 65 min.
    priced = price_session(spec_tariff("tariff_put_example"), session("2026-06-01 10:00", Charge(62, 11_000), Park(20)))

    assert totals(priced) == ("2.17", "2.38")  # 65 min x 2.00/h = 2.1667; + 10 % = 2.3833


def _hour_from(clock: str, minutes: int):
    start = local(f"2026-06-01 {clock}")
    return start, start + timedelta(minutes=minutes)
