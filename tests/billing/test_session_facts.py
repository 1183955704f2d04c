"""Session facts: intervals from meter readings, and facts the engine refuses to price (flagged for review)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.pricing import (
    MeterInterval,
    MeterReading,
    Reservation,
    SessionFacts,
    SessionFactsError,
    intervals_from_readings,
    price_session,
)

from .sessions import Charge, component, element, local, session, spec_tariff, tariff

T0 = local("2026-06-01 10:00")
ENERGY = tariff(element(component("ENERGY", "0.39", vat="19")), element(component("PARKING_TIME", "6.00")))


def minutes(n: float):
    return T0 + timedelta(minutes=n)


def test_intervals_from_readings_take_the_register_difference_and_hold_the_power_read_at_their_start():
    readings = [
        (minutes(0), 1_000, 11_000),
        (minutes(30), 6_500, 11_000),
        (minutes(45), 6_500, 0),
        (minutes(60), 6_500, 0),
    ]

    intervals = intervals_from_readings(readings)

    assert intervals == (
        MeterInterval(minutes(0), minutes(30), 5_500, 11_000),
        MeterInterval(minutes(30), minutes(45), 0, 11_000),  # still drawing at 10:30: charging, not parking
        MeterInterval(minutes(45), minutes(60), 0, 0),
    )


def test_a_session_from_readings_is_priced_with_charging_and_parking():
    readings = [
        MeterReading(minutes(0), 0, Decimal("7400"), Decimal("32")),
        MeterReading(minutes(60), 7_400, 0, 0),
        MeterReading(minutes(90), 7_400, 0, 0),
    ]
    facts = SessionFacts.from_readings("Europe/Berlin", readings)

    priced = price_session(ENERGY, facts)

    assert (facts.start, facts.stop) == (minutes(0), minutes(90))
    assert (priced.energy_wh, priced.charging_time_s, priced.parking_time_s) == (7_400, 3600, 1800)
    assert priced.total.excl_vat == Decimal("2.89") + Decimal("3.00")


@pytest.mark.parametrize(
    ("readings", "field", "rule"),
    [
        ([(minutes(0), 5_000), (minutes(10), 4_000)], "readings[1].energy_register_wh", "must not go backwards"),
        ([(minutes(0), 0), (minutes(1), 100_000)], "readings[1].energy_register_wh", "not a plausible meter value"),
        ([(minutes(0), 0), (minutes(0), 10)], "readings[1].timestamp", "must be later"),
        ([(minutes(0).replace(tzinfo=None), 0), (minutes(1), 10)], "readings[0].timestamp", "aware"),
        ([(minutes(0), 0), (minutes(1), Decimal("10.5"))], "readings[1].energy_register_wh", "integer"),
        ([(minutes(0), 0)], "readings", "at least a first and a last reading"),
    ],
)
def test_impossible_readings_are_refused(readings, field, rule):
    with pytest.raises(SessionFactsError) as error:
        intervals_from_readings(readings)

    assert error.value.field == field
    assert rule in error.value.rule


def _facts(*intervals, start=None, stop=None, zone="Europe/Berlin", reservation=None):
    start = intervals[0].start if start is None else start
    stop = intervals[-1].end if stop is None else stop
    return SessionFacts(start, stop, zone, intervals, reservation)


@pytest.mark.parametrize(
    ("facts", "field", "rule"),
    [
        (_facts(MeterInterval(minutes(0), minutes(10), 1_000), MeterInterval(minutes(12), minutes(20), 500)),
         "intervals[1].start", "where the previous interval"),
        (_facts(MeterInterval(minutes(0), minutes(10), 1_000), MeterInterval(minutes(8), minutes(20), 500)),
         "intervals[1].start", "where the previous interval"),
        (_facts(MeterInterval(minutes(0), minutes(10), -5)), "intervals[0].energy_wh", "non-negative"),
        (_facts(MeterInterval(minutes(0), minutes(10), 1_000, -7_000)), "intervals[0].power_w", "not be negative"),
        (_facts(MeterInterval(minutes(0), minutes(10), 1_000, 7_000.0)), "intervals[0].power_w", "int or a finite"),
        (_facts(MeterInterval(minutes(0), minutes(10), 10_000_000)), "intervals[0].energy_wh", "not a plausible"),
        (_facts(MeterInterval(minutes(0), minutes(10), 1_000), stop=minutes(15)), "intervals[0].end", "stop"),
        (_facts(MeterInterval(minutes(0), minutes(10), 1_000), zone="Europe/Atlantis"), "time_zone", "IANA"),
        (SessionFacts(minutes(10), minutes(0), "Europe/Berlin", ()), "stop", "must not be before start"),
        (SessionFacts(minutes(0), minutes(10), "Europe/Berlin", ()), "intervals", "must cover the session"),
        (SessionFacts(minutes(0).replace(tzinfo=None), minutes(0).replace(tzinfo=None), "UTC", ()), "start", "aware"),
        (_facts(MeterInterval(minutes(0), minutes(10), 1_000), reservation=Reservation(minutes(-20), minutes(-5))),
         "reservation.end", "must be the session's start"),
        (_facts(MeterInterval(minutes(0), minutes(10), 1_000), reservation=Reservation(minutes(-20), minutes(0), True)),
         "reservation.expired", "no session after it"),
    ],
)  # fmt: skip
def test_facts_that_cannot_be_priced_are_refused_naming_the_field(facts, field, rule):
    with pytest.raises(SessionFactsError) as error:
        price_session(ENERGY, facts)

    assert error.value.field == field
    assert rule in error.value.rule


def test_parking_intervals_need_no_current_even_when_the_tariff_restricts_current():
    facts = session("2026-06-01 09:30", Charge(60, 3_000, 3_000, 16))
    parked = SessionFacts(
        facts.start,
        facts.stop + timedelta(minutes=30),
        facts.time_zone,
        (*facts.intervals, MeterInterval(facts.stop, facts.stop + timedelta(minutes=30), 0)),
    )

    priced = price_session(spec_tariff("tariff_4_complex"), parked)

    assert priced.total.excl_vat == Decimal("2.50") + Decimal("1.00") + Decimal("2.50")
