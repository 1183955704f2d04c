"""Dynamic energy prices: feed price + margin, clamped, per feed interval in which the energy was delivered."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from billing.pricing import (
    Dimension,
    PriceFeed,
    PriceFeedError,
    PricingError,
    TariffError,
    price_session,
    tariff_from_ocpi,
    tariff_to_ocpi,
)

from .sessions import Charge, Park, billed, component, element, local, session, tariff

DYNAMIC = {
    "feed": "epex-day-ahead-de-lu",
    "margin": Decimal("0.05"),
    "min_price": Decimal("0.08"),
    "max_price": Decimal("0.40"),
}
DAY_AHEAD_TARIFF = tariff(
    element(component("ENERGY", "0.35", vat="19", dynamic_price=DYNAMIC)),
    element(component("FLAT", "0.50", vat="19")),
)
# Quarter-hour prices (EUR/kWh excl. VAT) from 10:00 local; one of them negative, as happens on sunny days.
QUARTERS = {
    local("2026-06-01 10:00"): Decimal("0.10"),
    local("2026-06-01 10:15"): Decimal("0.12"),
    local("2026-06-01 10:30"): Decimal("-0.05"),
    local("2026-06-01 10:45"): Decimal("0.30"),
    local("2026-06-01 11:00"): Decimal("0.50"),
}
# 10:05-11:05 at 12 kW: 200 Wh a minute.
ONE_HOUR_AT_12_KW = session("2026-06-01 10:05", Charge(60, 12_000, 12_000), Park(10))
EXPECTED_ENERGY = [
    (0, Decimal(2_000), Decimal("0.30")),  # 10:05-10:15 at 0.10 + 0.05
    (0, Decimal(3_000), Decimal("0.51")),  # 0.12 + 0.05
    (0, Decimal(3_000), Decimal("0.24")),  # -0.05 + 0.05 = 0.00, raised to min_price 0.08
    (0, Decimal(3_000), Decimal("1.05")),  # 0.30 + 0.05
    (0, Decimal(1_000), Decimal("0.40")),  # 0.55, capped at max_price 0.40
]


def test_energy_is_priced_at_the_feed_value_of_the_quarter_hour_in_which_it_was_delivered():
    priced = price_session(DAY_AHEAD_TARIFF, ONE_HOUR_AT_12_KW, price_feed=QUARTERS)

    assert billed(priced, Dimension.ENERGY) == EXPECTED_ENERGY
    assert [p.unit_price for p in priced.periods_of(Dimension.ENERGY)] == [
        Decimal("0.15"), Decimal("0.17"), Decimal("0.08"), Decimal("0.35"), Decimal("0.40"),
    ]  # fmt: skip
    assert [p.feed_price for p in priced.periods_of(Dimension.ENERGY)] == list(QUARTERS.values())
    assert priced.total.excl_vat == Decimal("3.00")  # 2.50 energy + 0.50 flat
    assert priced.explanation[1] == (
        "Mon 10:05-10:15: 2.000 kWh x 0.15 EUR/kWh (feed 0.10 + margin 0.05, at least 0.08, at most 0.40) = 0.30 EUR"
    )


def test_a_price_function_gives_the_same_result_as_a_mapping():
    def day_ahead(interval_start):
        return QUARTERS[interval_start]

    priced = price_session(DAY_AHEAD_TARIFF, ONE_HOUR_AT_12_KW, price_feed=day_ahead)

    assert billed(priced, Dimension.ENERGY) == EXPECTED_ENERGY


def test_hourly_prices_with_a_one_hour_feed_interval():
    hourly = {local("2026-06-01 10:00"): Decimal("0.20"), local("2026-06-01 11:00"): Decimal("0.25")}
    priced = price_session(DAY_AHEAD_TARIFF, ONE_HOUR_AT_12_KW, price_feed=PriceFeed(hourly, interval_s=3600))

    assert billed(priced, Dimension.ENERGY) == [
        (0, Decimal(11_000), Decimal("2.75")),
        (0, Decimal(1_000), Decimal("0.30")),
    ]


def test_a_moment_without_a_feed_price_is_an_error_not_a_guess():
    hourly_given_as_quarters = {local("2026-06-01 10:00"): Decimal("0.20"), local("2026-06-01 11:00"): Decimal("0.25")}

    with pytest.raises(PriceFeedError, match="has no price for 2026-06-01T08:15:00"):
        price_session(DAY_AHEAD_TARIFF, ONE_HOUR_AT_12_KW, price_feed=hourly_given_as_quarters)
    with pytest.raises(PriceFeedError, match="has no price"):
        price_session(DAY_AHEAD_TARIFF, ONE_HOUR_AT_12_KW, price_feed=lambda start: {}[start])


def test_a_dynamic_tariff_needs_a_feed():
    with pytest.raises(PricingError) as error:
        price_session(DAY_AHEAD_TARIFF, ONE_HOUR_AT_12_KW)

    assert error.value.field == "price_feed"


def test_negative_market_prices_are_never_paid_out():
    no_floor = tariff(element(component("ENERGY", "0.30", dynamic_price={"feed": "spot", "margin": Decimal("0.02")})))
    priced = price_session(
        no_floor, session("2026-06-01 10:00", Charge(15, 3_000)), price_feed=lambda _: Decimal("-0.25")
    )

    assert [p.unit_price for p in priced.periods] == [Decimal("0.0000")]


def test_a_derived_unit_price_keeps_four_decimals():
    # 85.37 EUR/MWh is 0.08537 EUR/kWh; + 0.02 = 0.10537, rounded half up to 0.1054.
    spot = tariff(element(component("ENERGY", "0.30", dynamic_price={"feed": "spot", "margin": Decimal("0.02")})))
    priced = price_session(
        spot, session("2026-06-01 10:00", Charge(15, 3_000)), price_feed=lambda _: Decimal("0.08537")
    )

    assert priced.periods[0].unit_price == Decimal("0.1054")


def test_step_size_rounding_of_dynamic_energy_is_billed_at_the_last_intervals_price():
    stepped = tariff(element(component("ENERGY", "0.30", step_size=1000, dynamic_price={"feed": "spot"})))
    priced = price_session(stepped, session("2026-06-01 10:10", Charge(10, 1_500)), price_feed=QUARTERS)

    assert billed(priced, Dimension.ENERGY) == [
        (0, Decimal(750), Decimal("0.075")),
        (0, Decimal(1_250), Decimal("0.15")),
    ]


def test_a_feed_interval_boundary_is_where_the_session_is_cut_even_within_a_meter_interval():
    priced = price_session(DAY_AHEAD_TARIFF, ONE_HOUR_AT_12_KW, price_feed=QUARTERS)

    assert [p.start for p in priced.periods_of(Dimension.ENERGY)][1:] == [
        local("2026-06-01 10:15"), local("2026-06-01 10:30"), local("2026-06-01 10:45"), local("2026-06-01 11:00"),
    ]  # fmt: skip
    assert priced.periods_of(Dimension.ENERGY)[-1].end == local("2026-06-01 11:00") + timedelta(minutes=5)


def test_dynamic_prices_survive_an_ocpi_round_trip_and_plain_ocpi_sees_the_announced_price():
    document = tariff_to_ocpi(DAY_AHEAD_TARIFF)
    plain = tariff_to_ocpi(DAY_AHEAD_TARIFF, extensions=False)

    assert tariff_from_ocpi(document) == DAY_AHEAD_TARIFF
    assert document["elements"][0]["price_components"][0]["dynamic_price"]["margin"] == Decimal("0.05")
    assert plain["elements"][0]["price_components"][0] == {
        "type": "ENERGY", "price": Decimal("0.35"), "vat": Decimal("19"), "step_size": 1,
    }  # fmt: skip


def test_only_energy_can_follow_a_feed():
    with pytest.raises(TariffError) as error:
        tariff(element(component("TIME", "1.00", dynamic_price={"feed": "spot"})))

    assert (error.value.field, error.value.rule) == (
        "elements[0].price_components[0].dynamic_price",
        "only ENERGY prices can follow a price feed",
    )


@pytest.mark.parametrize(
    ("feed", "interval_s", "rule"),
    [
        ({local("2026-06-01 10:00"): 0.1}, 900, "must be a Decimal"),
        ({datetime(2026, 6, 1, 10): Decimal("0.1")}, 900, "aware"),
        (QUARTERS, 0, "positive number of seconds"),
        ("0.10", 900, "function of the interval start or a mapping"),
    ],
)
def test_a_feed_that_cannot_be_read_is_refused(feed, interval_s, rule):
    with pytest.raises(PriceFeedError) as error:
        price_session(DAY_AHEAD_TARIFF, ONE_HOUR_AT_12_KW, price_feed=feed, feed_interval_s=interval_s)

    assert rule in error.value.rule
