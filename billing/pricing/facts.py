"""What the engine needs to know about a session: when it ran, where (time zone), and what the meter saw in
each interval. The caller derives the intervals from meter values, e.g. with `intervals_from_readings`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from .errors import SessionFactsError
from .local_time import ONE_US, US_PER_H, US_PER_S, to_us, zone

#: Average power above this is not a real charger (megawatt truck charging stays below) but a meter error.
MAX_PLAUSIBLE_POWER_W = 4_000_000


@dataclass(frozen=True)
class MeterInterval:
    """One stretch of the session with what the meter saw: like an OCPI ChargingPeriod before pricing.

    `power_w` (average) and `current_a` (sum over phases) are taken as constant during the interval; leave
    `power_w` out and the average from the energy is used. With no energy and no power, the interval is parking
    time; otherwise charging time."""

    start: datetime
    end: datetime
    energy_wh: int
    power_w: Decimal | int | None = None
    current_a: Decimal | int | None = None


@dataclass(frozen=True)
class Reservation:
    """A reservation before the session: from when it was made until the driver started charging (then it is
    the session's start) or until it expired without a session (`expired=True`)."""

    start: datetime
    end: datetime
    expired: bool = False


@dataclass(frozen=True)
class SessionFacts:
    """A session to price. `intervals` must cover `start` to `stop` without gaps or overlaps; `time_zone` is the
    location's IANA zone, in which tariff restrictions read the clock and the calendar."""

    start: datetime
    stop: datetime
    time_zone: str
    intervals: tuple[MeterInterval, ...]
    reservation: Reservation | None = None

    def __post_init__(self):
        object.__setattr__(self, "intervals", tuple(self.intervals))

    @classmethod
    def from_readings(cls, time_zone: str, readings: Iterable[MeterReading | tuple], **kwargs) -> SessionFacts:
        """A session from its first reading to its last."""
        intervals = intervals_from_readings(readings, **kwargs)
        return cls(start=intervals[0].start, stop=intervals[-1].end, time_zone=time_zone, intervals=intervals)

    @classmethod
    def expired_reservation(cls, time_zone: str, start: datetime, end: datetime) -> SessionFacts:
        """A reservation that expired without a session: only the reservation is priced."""
        return cls(end, end, time_zone, (), Reservation(start, end, expired=True))


class MeterReading(NamedTuple):
    """One meter value: when, the energy register (Wh), and optionally the power (W) and current (A) then."""

    timestamp: datetime
    energy_register_wh: int
    power_w: Decimal | int | None = None
    current_a: Decimal | int | None = None


def intervals_from_readings(
    readings: Iterable[MeterReading | tuple], *, max_power_w: int = MAX_PLAUSIBLE_POWER_W
) -> tuple[MeterInterval, ...]:
    """Intervals between consecutive readings: the energy is the register difference; power and current are
    those read at the interval's start, held until the next reading (sample and hold). Raises
    `SessionFactsError` for impossible readings: time not moving forward, the register going backwards, an
    average power no charger delivers."""
    readings = [MeterReading(*reading) for reading in readings]
    if len(readings) < 2:
        raise SessionFactsError("readings", "need at least a first and a last reading")
    intervals = []
    for index, (before, after) in enumerate(zip(readings, readings[1:], strict=False), start=1):
        for position, reading in ((index - 1, before), (index, after)):
            if not isinstance(reading.timestamp, datetime) or reading.timestamp.utcoffset() is None:
                raise SessionFactsError(f"readings[{position}].timestamp", "must be an aware date-time")
            if isinstance(reading.energy_register_wh, bool) or not isinstance(reading.energy_register_wh, int):
                raise SessionFactsError(f"readings[{position}].energy_register_wh", "must be an integer (Wh)")
        if after.timestamp <= before.timestamp:
            raise SessionFactsError(f"readings[{index}].timestamp", "must be later than the reading before")
        energy_wh = after.energy_register_wh - before.energy_register_wh
        if energy_wh < 0:
            raise SessionFactsError(
                f"readings[{index}].energy_register_wh",
                f"must not go backwards ({after.energy_register_wh} Wh after {before.energy_register_wh} Wh)",
            )
        elapsed_us = (after.timestamp - before.timestamp) // ONE_US
        if energy_wh * US_PER_H > max_power_w * elapsed_us:
            raise SessionFactsError(
                f"readings[{index}].energy_register_wh",
                f"{energy_wh} Wh in {Decimal(elapsed_us) / US_PER_S} s is more than {max_power_w} W: "
                "not a plausible meter value",
            )
        intervals.append(MeterInterval(before.timestamp, after.timestamp, energy_wh, before.power_w, before.current_a))
    return tuple(intervals)


# -- facts the engine can price -----------------------------------------------------------------------------


def checked_intervals(facts: SessionFacts, *, needs_current: bool) -> list[tuple]:
    """(start_us, end_us, energy_wh, power_w, current_a, charging) per interval, after checking that the facts
    describe a session that can be priced."""
    zone(facts.time_zone)
    for name in ("start", "stop"):
        _check_aware(getattr(facts, name), name)
    if facts.stop < facts.start:
        raise SessionFactsError("stop", "must not be before start")
    _check_reservation(facts)
    if facts.start == facts.stop and facts.intervals:
        raise SessionFactsError("intervals", "must be empty for a session without duration")
    if facts.start < facts.stop and not facts.intervals:
        raise SessionFactsError("intervals", "must cover the session from start to stop")
    result = []
    expected, expected_us = facts.start, to_us(facts.start)
    for index, interval in enumerate(facts.intervals):
        if interval.start is not expected and interval.start != expected:
            _check_aware(interval.start, f"intervals[{index}].start")
            raise SessionFactsError(
                f"intervals[{index}].start", "must be where the previous interval (or the session) starts"
            )
        result.append(_interval(interval, index, expected_us, needs_current))
        expected, expected_us = interval.end, result[-1][1]
    if expected != facts.stop:
        raise SessionFactsError(f"intervals[{len(facts.intervals) - 1}].end", "must be the session's stop")
    return result


def _interval(interval: MeterInterval, index: int, start_us: int, needs_current: bool) -> tuple:
    try:
        end_us = to_us(interval.end)
    except TypeError:  # naive, or not a datetime at all
        raise SessionFactsError(f"intervals[{index}].end", "must be an aware date-time") from None
    if end_us <= start_us:
        raise SessionFactsError(f"intervals[{index}].end", "must be after the interval's start")
    energy_wh = interval.energy_wh
    if type(energy_wh) is not int or energy_wh < 0:
        raise SessionFactsError(f"intervals[{index}].energy_wh", "must be a whole, non-negative number of Wh")
    if energy_wh * US_PER_H > MAX_PLAUSIBLE_POWER_W * (end_us - start_us):
        raise SessionFactsError(
            f"intervals[{index}].energy_wh", f"{energy_wh} Wh in that time is not a plausible meter value"
        )
    power_w, current_a = interval.power_w, interval.current_a
    if power_w is not None and not _is_measurement(power_w):
        _refuse_measurement(power_w, index, "power_w")
    if current_a is not None and not _is_measurement(current_a):
        _refuse_measurement(current_a, index, "current_a")
    charging = energy_wh > 0 or (power_w is not None and power_w > 0)
    if power_w is None:
        power_w = Decimal(energy_wh * US_PER_H) / (end_us - start_us)
    if current_a is None:
        if needs_current and charging:
            raise SessionFactsError(f"intervals[{index}].current_a", "is required: the tariff has current restrictions")
        current_a = Decimal(0)
    return start_us, end_us, energy_wh, power_w, current_a, charging


def _is_measurement(value) -> bool:
    kind = value.__class__
    return (kind is int or (kind is Decimal and value.is_finite())) and value >= 0


def _refuse_measurement(value, index: int, name: str) -> None:
    kind = type(value)
    if kind is not int and (kind is not Decimal or not value.is_finite()):
        raise SessionFactsError(f"intervals[{index}].{name}", "must be an int or a finite Decimal")
    raise SessionFactsError(f"intervals[{index}].{name}", "must not be negative (discharging is not priced)")


def _check_aware(moment, path: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise SessionFactsError(path, "must be an aware date-time")


def _check_reservation(facts: SessionFacts) -> None:
    reservation = facts.reservation
    if reservation is None:
        return
    _check_aware(reservation.start, "reservation.start")
    _check_aware(reservation.end, "reservation.end")
    if reservation.end < reservation.start:
        raise SessionFactsError("reservation.end", "must not be before the reservation's start")
    if reservation.expired and (facts.intervals or facts.start != facts.stop or facts.start != reservation.end):
        raise SessionFactsError("reservation.expired", "an expired reservation has no session after it")
    if not reservation.expired and reservation.end != facts.start:
        raise SessionFactsError("reservation.end", "must be the session's start (charging ends the reservation)")
