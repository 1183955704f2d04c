"""Every restriction type switches elements on and off during a session, and the session is cut there."""

import math
from datetime import timedelta
from decimal import Decimal

import pytest

from billing.pricing import Dimension, SessionFacts, SessionFactsError, price_session

from .sessions import Charge, Park, billed, component, element, session, spec_tariff, tariff

PEAK_OFF_PEAK = tariff(
    element(component("ENERGY", "0.29", vat="19"), start_time="22:00", end_time="06:00"),
    element(component("ENERGY", "0.39", vat="19")),
)


def test_a_session_crossing_22_00_is_priced_in_two_parts():
    # 21:00-23:00 at a steady 11 kW: 11 kWh at the day price, 11 kWh at the night price.
    priced = price_session(PEAK_OFF_PEAK, session("2026-06-02 21:00", Charge(120, 22_000, 11_000)))

    assert billed(priced, Dimension.ENERGY) == [
        (1, Decimal(11_000), Decimal("4.29")),
        (0, Decimal(11_000), Decimal("3.19")),
    ]
    assert priced.explanation[:2] == (
        "Tue 21:00-22:00: 11.000 kWh x 0.39 EUR/kWh = 4.29 EUR",
        "Tue 22:00-23:00 [22:00-06:00]: 11.000 kWh x 0.29 EUR/kWh = 3.19 EUR",
    )


def test_a_time_window_wrapping_past_midnight_covers_the_night():
    # 23:00-07:00: 7 hours at night (to 06:00), 1 hour of day.
    priced = price_session(PEAK_OFF_PEAK, session("2026-06-02 23:00", Charge(480, 8_000, 1_000)))

    assert [(p.element_index, p.consumed) for p in priced.periods] == [(0, Decimal(7_000)), (1, Decimal(1_000))]


@pytest.mark.parametrize(
    ("window", "active_minutes"),
    [
        ({"start_time": "21:30"}, 30),  # from 21:30 until midnight
        ({"end_time": "20:30"}, 30),  # from midnight until 20:30
        ({"start_time": "20:15", "end_time": "00:00"}, 105),  # 00:00 ends the day
        ({"start_time": "20:20", "end_time": "20:20"}, 120),  # equal start and end: the whole day
        ({"start_time": "20:45", "end_time": "20:15"}, 90),  # wraps: 20:45-24:00 and 00:00-20:15
    ],
)
def test_time_of_day_windows(window, active_minutes):
    # A session 20:00-22:00; how much of it each window covers.
    priced = price_session(
        tariff(element(component("TIME", "60.00"), **window)), session("2026-06-02 20:00", Charge(120, 10_000))
    )

    assert sum(p.consumed for p in priced.periods) == active_minutes * 60


def test_day_of_week_switches_at_local_midnight():
    # Friday 23:00 to Saturday 01:00: the weekend price starts at midnight.
    weekend = tariff(
        element(component("TIME", "1.20"), day_of_week=["SATURDAY", "SUNDAY"]),
        element(component("TIME", "2.40")),
    )
    priced = price_session(weekend, session("2026-06-05 23:00", Charge(120, 10_000)))

    assert billed(priced, Dimension.TIME) == [(1, Decimal(3600), Decimal("2.4")), (0, Decimal(3600), Decimal("1.2"))]


def test_start_and_end_date_switch_at_local_midnight_with_the_end_date_exclusive():
    # A launch promotion 2026-01-01 to 2026-01-08 (exclusive); a session from 7 Jan 23:00 to 8 Jan 01:00.
    promotion = tariff(
        element(component("ENERGY", "0.19"), start_date="2026-01-01", end_date="2026-01-08"),
        element(component("ENERGY", "0.39")),
    )
    priced = price_session(promotion, session("2026-01-07 23:00", Charge(120, 20_000, 10_000)))

    assert billed(priced, Dimension.ENERGY) == [
        (0, Decimal(10_000), Decimal("1.9")),
        (1, Decimal(10_000), Decimal("3.9")),
    ]
    before = price_session(promotion, session("2025-12-31 22:00", Charge(60, 10_000)))
    assert [p.element_index for p in before.periods] == [1]


def test_min_kwh_switches_elements_when_the_session_energy_reaches_it():
    # 0.39 for the first 20 kWh, then 0.29; and 3.00/h charging time once 20 kWh are in. A steady 10 kW for
    # 3 hours reaches 20 kWh after exactly 2 hours.
    rate_by_energy = tariff(
        element(component("ENERGY", "0.29"), component("TIME", "3.00"), min_kwh=20),
        element(component("ENERGY", "0.39")),
    )
    priced = price_session(rate_by_energy, session("2026-06-01 10:00", Charge(180, 30_000, 10_000)))

    assert billed(priced, Dimension.ENERGY) == [
        (1, Decimal(20_000), Decimal("7.8")),
        (0, Decimal(10_000), Decimal("2.9")),
    ]
    [time] = priced.periods_of(Dimension.TIME)
    assert (time.start, time.consumed) == (session("2026-06-01 12:00").start, Decimal(3600))


def test_max_kwh_is_exclusive_and_min_kwh_inclusive_at_the_same_threshold():
    # Energy arrives unevenly across meter intervals; the threshold falls inside the second interval.
    tiers = tariff(
        element(component("ENERGY", "0.50"), max_kwh=Decimal("10")),
        element(component("ENERGY", "0.30"), min_kwh=Decimal("10")),
    )
    priced = price_session(tiers, session("2026-06-01 10:00", Charge(30, 6_000), Charge(30, 7_000)))

    assert billed(priced, Dimension.ENERGY) == [(0, Decimal(10_000), Decimal("5")), (1, Decimal(3_000), Decimal("0.9"))]
    # 10 kWh is reached 4 kWh into the second interval's 7 kWh: 4/7 of its 30 minutes, rounded up to the µs
    crossing = session("2026-06-01 10:30").start + timedelta(microseconds=math.ceil(30 * 60 * 10**6 * 4 / 7))
    assert priced.periods[0].end == priced.periods[1].start == crossing
    # a CDR charging period per active component: the meter intervals' own boundary is not one
    assert [p.end for p in priced.charging_periods] == [crossing, session("2026-06-01 11:00").start]
    assert [p.energy_wh for p in priced.charging_periods] == [10_000, 3_000]


def test_min_duration_starts_an_idle_fee_after_two_hours():
    # "0.10 EUR/min after 2 h": 6.00/h charging time from the 120th minute on.
    long_stay = tariff(element(component("ENERGY", "0.39")), element(component("TIME", "6.00"), min_duration=7200))
    priced = price_session(long_stay, session("2026-06-01 10:00", Charge(150, 20_000)))

    [time] = priced.periods_of(Dimension.TIME)
    assert (time.start, time.billed, time.amount_excl_vat) == (session("2026-06-01 12:00").start, 1800, Decimal("3"))


def test_max_duration_ends_a_free_first_half_hour():
    free_start = tariff(
        element(component("TIME", "0.00"), max_duration=1800), element(component("TIME", "2.00", step_size=60))
    )
    priced = price_session(free_start, session("2026-06-01 10:00", Charge(45, 5_000)))

    assert billed(priced, Dimension.TIME) == [(0, Decimal(1800), Decimal(0)), (1, Decimal(900), Decimal("0.5"))]


def test_min_and_max_power_follow_power_changes_during_the_session():
    # AC below 22 kW, HPC from 50 kW, DC in between (the fallback).
    by_power = tariff(
        element(component("ENERGY", "0.39"), max_power=22),
        element(component("ENERGY", "0.69"), min_power=50),
        element(component("ENERGY", "0.59")),
    )
    priced = price_session(
        by_power,
        session(
            "2026-06-01 10:00", Charge(20, 50_000, 150_000), Charge(30, 20_000, 40_000), Charge(60, 11_000, 11_000)
        ),
    )

    assert [p.element_index for p in priced.periods] == [1, 2, 0]
    assert priced.total.excl_vat == Decimal("34.50") + Decimal("11.80") + Decimal("4.29")


def test_power_missing_from_the_facts_is_the_interval_average():
    by_power = tariff(element(component("ENERGY", "0.39"), max_power=22), element(component("ENERGY", "0.59")))
    priced = price_session(by_power, session("2026-06-01 10:00", Charge(60, 11_000), Charge(60, 40_000)))

    assert [p.element_index for p in priced.periods] == [0, 1]


def test_min_and_max_current_follow_current_changes_during_the_session():
    # The complex tariff on a Wednesday: 16 A for an hour (1.00/h), then 40 A for an hour (2.00/h).
    priced = price_session(
        spec_tariff("tariff_4_complex"),
        session("2026-06-03 10:00", Charge(60, 3_700, 3_680, 16), Charge(60, 27_000, 27_600, 40)),
    )

    assert billed(priced, Dimension.TIME) == [(1, Decimal(3600), Decimal("1")), (2, Decimal(3600), Decimal("2"))]


def test_a_tariff_with_current_restrictions_refuses_facts_without_current():
    with pytest.raises(SessionFactsError) as error:
        price_session(spec_tariff("tariff_4_complex"), session("2026-06-03 10:00", Charge(60, 3_700)))

    assert (error.value.field, error.value.rule) == (
        "intervals[0].current_a",
        "is required: the tariff has current restrictions",
    )


def test_all_restrictions_of_an_element_must_match():
    # Weekday evenings with fast charging only.
    evening_fast = tariff(
        element(
            component("ENERGY", "0.79"), start_time="17:00", end_time="20:00", min_power=50, day_of_week=["MONDAY"]
        ),
        element(component("ENERGY", "0.49")),
    )
    monday = price_session(evening_fast, session("2026-06-01 16:30", Charge(60, 60_000, 60_000)))
    tuesday = price_session(evening_fast, session("2026-06-02 16:30", Charge(60, 60_000, 60_000)))
    slow = price_session(evening_fast, session("2026-06-01 16:30", Charge(60, 11_000, 11_000)))

    assert [p.element_index for p in monday.periods] == [1, 0]
    assert [p.element_index for p in tuesday.periods] == [1]
    assert [p.element_index for p in slow.periods] == [1]


def test_the_first_matching_element_in_order_wins():
    both_match = tariff(element(component("ENERGY", "0.10")), element(component("ENERGY", "0.90"), min_kwh=0))
    priced = price_session(both_match, session("2026-06-01 10:00", Charge(60, 1_000)))

    assert [p.element_index for p in priced.periods] == [0]


def test_each_dimension_takes_its_own_first_matching_element():
    # The spec: elements are looked up per dimension, so ENERGY can come from a later element than TIME.
    mixed = tariff(
        element(component("TIME", "1.00")),
        element(component("ENERGY", "0.30"), component("TIME", "9.00")),
    )
    priced = price_session(mixed, session("2026-06-01 10:00", Charge(60, 10_000)))

    assert [(p.dimension, p.element_index) for p in priced.periods] == [(Dimension.ENERGY, 1), (Dimension.TIME, 0)]


def test_reservation_expires_elements_win_over_reservation_elements_whatever_their_order():
    # The spec's note: an expired reservation's time is priced by the RESERVATION_EXPIRES element.
    reserved = tariff(
        element(component("TIME", "3.00"), reservation="RESERVATION"),
        element(component("TIME", "6.00"), reservation="RESERVATION_EXPIRES"),
        element(component("ENERGY", "0.25")),
    )
    start = session("2026-06-01 10:00").start
    expired = price_session(reserved, SessionFacts.expired_reservation("Europe/Berlin", start, start.replace(hour=11)))
    used = price_session(reserved, session("2026-06-01 11:00", Charge(60, 10_000), reserved_minutes=60))

    assert billed(expired, Dimension.TIME, reservation=True) == [(1, Decimal(3600), Decimal("6"))]
    assert billed(used, Dimension.TIME, reservation=True) == [(0, Decimal(3600), Decimal("3"))]


def test_reservation_elements_do_not_price_the_charging_session():
    reserved = tariff(
        element(component("TIME", "5.00"), reservation="RESERVATION"), element(component("ENERGY", "0.25"))
    )
    priced = price_session(reserved, session("2026-06-01 10:00", Charge(60, 10_000), Park(30)))

    assert [p.dimension for p in priced.periods] == [Dimension.ENERGY]


@pytest.mark.parametrize(
    ("restrictions", "words"),
    [
        ({"start_time": "22:00", "end_time": "06:00"}, "22:00-06:00"),
        ({"end_time": "06:00"}, "00:00-06:00"),
        ({"day_of_week": ["SATURDAY", "SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY"]}, "Mon-Wed, Sat, Sun"),
        ({"min_kwh": 20, "max_kwh": 50}, "20-50 kWh"),
        ({"min_power": Decimal("50.5")}, ">= 50.5 kW"),
        ({"max_current": 32}, "< 32 A"),
        ({"min_duration": 5400}, "after 1 h 30 min"),
        ({"start_date": "2026-01-01", "end_date": "2026-02-01"}, "from 2026-01-01, before 2026-02-01"),
        ({"reservation": "RESERVATION_EXPIRES"}, "expired reservation"),
    ],
)
def test_restrictions_read_as_plain_words_in_the_explanation(restrictions, words):
    described = tariff(element(component("TIME", "1.00"), **restrictions))

    assert described.elements[0].restrictions.describe() == words
