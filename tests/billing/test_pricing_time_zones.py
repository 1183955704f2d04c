"""Restrictions read the location's wall clock and calendar; durations and energy follow real time. Europe/Berlin
changes to summer time on 2026-03-29 (02:00 CET -> 03:00 CEST, at 01:00 UTC) and back on 2026-10-25 (03:00 CEST
-> 02:00 CET, at 01:00 UTC)."""

from datetime import UTC, datetime
from decimal import Decimal

from billing.pricing import Dimension, MeterInterval, SessionFacts, price_session

from .sessions import Charge, billed, component, element, session, tariff

NIGHT_ENERGY = tariff(
    element(component("ENERGY", "0.29"), start_time="22:00", end_time="06:00"),
    element(component("ENERGY", "0.39")),
)


def steady(start_utc: datetime, stop_utc: datetime, power_w: int, zone: str = "Europe/Berlin") -> SessionFacts:
    """A session at constant power, given in UTC so that the real duration is unambiguous."""
    hours = Decimal((stop_utc - start_utc).total_seconds()) / 3600
    energy_wh = int(power_w * hours)
    return SessionFacts(start_utc, stop_utc, zone, (MeterInterval(start_utc, stop_utc, energy_wh, power_w),))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_night_in_spring_is_an_hour_shorter():
    # Local 21:00 (20:00 UTC) to 07:00 CEST (05:00 UTC): 9 real hours, of which 22:00 CET to 06:00 CEST is 7.
    priced = price_session(NIGHT_ENERGY, steady(utc("2026-03-28 20:00"), utc("2026-03-29 05:00"), 10_000))

    assert [(p.element_index, p.consumed) for p in priced.periods] == [
        (1, Decimal(10_000)),
        (0, Decimal(70_000)),
        (1, Decimal(10_000)),
    ]
    assert [p.start for p in priced.periods] == [
        utc("2026-03-28 20:00"),
        utc("2026-03-28 21:00"),
        utc("2026-03-29 04:00"),
    ]


def test_night_in_autumn_is_an_hour_longer():
    # Local 21:00 CEST (19:00 UTC) to 07:00 CET (06:00 UTC): 11 real hours, of which the night is 9.
    priced = price_session(NIGHT_ENERGY, steady(utc("2026-10-24 19:00"), utc("2026-10-25 06:00"), 10_000))

    assert [(p.element_index, p.consumed) for p in priced.periods] == [
        (1, Decimal(10_000)),
        (0, Decimal(90_000)),
        (1, Decimal(10_000)),
    ]


def test_a_time_inside_the_skipped_spring_hour_is_passed_at_the_jump():
    # 02:30-04:00 on 2026-03-29: the clock jumps from 02:00 to 03:00, passing 02:30 at 01:00 UTC; the element is
    # active from the jump to 04:00 CEST, one real hour.
    after_half_past_two = tariff(element(component("TIME", "1.00"), start_time="02:30", end_time="04:00"))
    priced = price_session(after_half_past_two, steady(utc("2026-03-28 23:00"), utc("2026-03-29 04:00"), 7_000))

    [period] = priced.periods
    assert (period.start, period.end) == (utc("2026-03-29 01:00"), utc("2026-03-29 02:00"))


def test_the_skipped_spring_hour_never_happens():
    two_to_three = tariff(element(component("TIME", "1.00"), start_time="02:00", end_time="03:00"))
    priced = price_session(two_to_three, steady(utc("2026-03-28 23:00"), utc("2026-03-29 04:00"), 7_000))

    assert priced.periods == ()


def test_the_repeated_autumn_hour_happens_twice():
    # 02:00-03:00 local on 2026-10-25 is 00:00-01:00 UTC (CEST) and again 01:00-02:00 UTC (CET).
    two_to_three = tariff(element(component("TIME", "1.00"), start_time="02:00", end_time="03:00"))
    priced = price_session(two_to_three, steady(utc("2026-10-24 22:00"), utc("2026-10-25 04:00"), 7_000))

    assert [(p.start, p.end) for p in priced.periods] == [(utc("2026-10-25 00:00"), utc("2026-10-25 02:00"))]
    assert priced.periods[0].consumed == 7200


def test_durations_count_real_time_across_a_daylight_saving_change():
    # The first 3 hours cheap: from 01:00 CET (00:00 UTC) that is until 05:00 CEST (03:00 UTC), not 04:00.
    first_three_hours = tariff(
        element(component("TIME", "1.00"), max_duration=3 * 3600), element(component("TIME", "4.00"))
    )
    priced = price_session(first_three_hours, steady(utc("2026-03-29 00:00"), utc("2026-03-29 04:00"), 7_000))

    assert [(p.element_index, p.end) for p in priced.periods] == [
        (0, utc("2026-03-29 03:00")),
        (1, utc("2026-03-29 04:00")),
    ]


def test_a_weekday_restriction_across_the_autumn_night_switches_at_local_midnight():
    # Saturday 24 October 23:00 CEST to Sunday 01:00 CET... the change is at 03:00, so midnight is 22:00 UTC.
    sunday = tariff(element(component("TIME", "2.00"), day_of_week=["SUNDAY"]), element(component("TIME", "1.00")))
    priced = price_session(sunday, steady(utc("2026-10-24 21:00"), utc("2026-10-25 03:00"), 7_000))

    assert [(p.element_index, p.start) for p in priced.periods] == [
        (1, utc("2026-10-24 21:00")),
        (0, utc("2026-10-24 22:00")),
    ]


def test_the_location_time_zone_is_used_not_utc():
    # The same instants, priced in New York: 22:00 EDT is 02:00 UTC.
    priced = price_session(
        NIGHT_ENERGY, steady(utc("2026-06-02 01:00"), utc("2026-06-02 03:00"), 11_000, zone="America/New_York")
    )

    assert [(p.element_index, p.start) for p in priced.periods] == [
        (1, utc("2026-06-02 01:00")),
        (0, utc("2026-06-02 02:00")),
    ]
    assert priced.explanation[0].startswith("Mon 21:00-22:00")


def test_a_zone_with_a_half_hour_offset():
    # Kolkata is UTC+05:30: 22:00 local is 16:30 UTC.
    priced = price_session(
        tariff(
            element(component("ENERGY", "5.00"), start_time="22:00", end_time="06:00"),
            element(component("ENERGY", "9.00")),
            currency="INR",
        ),
        steady(utc("2026-06-02 16:00"), utc("2026-06-02 17:00"), 7_000, zone="Asia/Kolkata"),
    )

    assert [p.start for p in priced.periods] == [utc("2026-06-02 16:00"), utc("2026-06-02 16:30")]
    assert priced.total.excl_vat == Decimal("49.00")  # 3.5 kWh x 9 + 3.5 kWh x 5


def test_a_session_over_midnight_and_over_a_price_change_keeps_every_part():
    # Charging time 2.40/h until 20:00 and 3.60/h after, energy cheaper at night: a session 19:00-01:00 is
    # cut at 20:00 (time), 22:00 (energy) and midnight (nothing changes there, so the parts join again).
    evening = tariff(
        element(component("TIME", "2.40"), start_time="06:00", end_time="20:00"),
        element(component("TIME", "3.60")),
        element(component("ENERGY", "0.29"), start_time="22:00", end_time="06:00"),
        element(component("ENERGY", "0.39")),
    )
    priced = price_session(evening, session("2026-06-05 19:00", Charge(360, 66_000, 11_000)))

    assert billed(priced, Dimension.TIME) == [(0, Decimal(3600), Decimal("2.4")), (1, Decimal(5 * 3600), Decimal("18"))]
    assert billed(priced, Dimension.ENERGY) == [
        (3, Decimal(33_000), Decimal("12.87")),
        (2, Decimal(33_000), Decimal("9.57")),
    ]
    assert [p.end.hour for p in priced.charging_periods] == [18, 20, 23]  # UTC: 20:00, 22:00, 01:00 local
