"""Session facts from what the station reported: the meter start and stop of the session and the MeterValues in
between become the pricing engine's `SessionFacts`, or a `SessionFactsError` saying exactly what is wrong.

Which values count:
- Energy: `Energy.Active.Import.Register` without a phase (per-phase registers do not add up to the billing
  register and are ignored), measured at the outlet (or with no location given), in Wh or kWh.
- Power and current: `Power.Active.Import` and `Current.Import` at the outlet; a value without a phase is the
  total, otherwise the values of the phases L1..L3 at one timestamp are summed. They count only at timestamps
  that also have an energy reading (stations sample them together), and at the session's start.
- The window is [started_at, stopped_at]: the StartTransaction and StopTransaction meter values are the first
  and last reading and win over a sample at the same instant; samples outside the window (a station's clock
  running ahead, connector values sent after the stop) are not part of the session and are dropped.
- Duplicates: the same register value at the same timestamp twice (a retried MeterValues message, a periodic
  and a clock-aligned sample) is one reading; two different values at the same timestamp are contradictory and
  the session goes to review rather than guessing which one to bill.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from billing.pricing import (
    MAX_PLAUSIBLE_POWER_W,
    MeterReading,
    SessionFacts,
    SessionFactsError,
    intervals_from_readings,
)
from stations.models import ChargingSession, MeterValue

ENERGY = MeterValue.Measurand.ENERGY_IMPORT_REGISTER
POWER = MeterValue.Measurand.POWER_IMPORT
CURRENT = MeterValue.Measurand.CURRENT_IMPORT
OUTLET = ("", "Outlet")
LINE_PHASES = {"L1", "L2", "L3", "L1-N", "L2-N", "L3-N"}  # N and line-to-line phases carry no import power
UNIT_FACTORS = {
    ENERGY: {"": 1, "Wh": 1, "kWh": 1000},
    POWER: {"": 1, "W": 1, "kW": 1000},
    CURRENT: {"": 1, "A": 1},
}
#: A session's average power may exceed its connector's rating by this much (meter tolerance, rating rounded).
RATED_POWER_TOLERANCE = Decimal("1.5")
#: Below this duration meter resolution (1 Wh) makes an average power meaningless against the rating.
RATED_POWER_MIN_DURATION_S = 300


@dataclass
class _Instant:
    energy_wh: set[int] = field(default_factory=set)
    power_total: Decimal | None = None
    power_phases: dict[str, Decimal] = field(default_factory=dict)
    current_total: Decimal | None = None
    current_phases: dict[str, Decimal] = field(default_factory=dict)

    def power_w(self) -> Decimal | None:
        return _total(self.power_total, self.power_phases)

    def current_a(self) -> Decimal | None:
        return _total(self.current_total, self.current_phases)


def session_facts(session: ChargingSession) -> SessionFacts:
    """The facts to price `session` with, in its location's time zone. Raises `SessionFactsError` (with a
    reason a person can act on) for a session without usable or with impossible meter values."""
    start, stop = session.started_at, session.stopped_at
    if stop is None or session.meter_stop_wh is None:
        raise SessionFactsError("meter_stop_wh", "the session has no stop time or no meter stop reading")
    if stop < start:
        raise SessionFactsError("stopped_at", f"the stop {stop.isoformat()} is before the start {start.isoformat()}")
    if session.meter_stop_wh < session.meter_start_wh:
        raise SessionFactsError(
            "meter_stop_wh",
            f"the energy register went backwards: meter stop {session.meter_stop_wh} Wh is below meter start "
            f"{session.meter_start_wh} Wh",
        )
    location = session.charge_point.location
    if location is None:
        raise SessionFactsError("time_zone", f"charge point {session.charge_point.identity} has no location")
    if start == stop:
        if session.meter_stop_wh != session.meter_start_wh:
            raise SessionFactsError("meter_stop_wh", f"{session.energy_wh} Wh delivered in no time")
        return SessionFacts(start, stop, location.time_zone, ())
    readings = _readings(session)
    try:
        intervals = intervals_from_readings(readings)
    except SessionFactsError as error:
        raise _described(error, readings) from None
    _check_rated_power(session)
    return SessionFacts(start, stop, location.time_zone, intervals)


def _readings(session: ChargingSession) -> list[MeterReading]:
    start, stop = session.started_at, session.stopped_at
    instants = _instants(session)
    first = instants.pop(start, _Instant())
    instants.pop(stop, None)
    readings = [MeterReading(start, session.meter_start_wh, first.power_w(), first.current_a())]
    for moment in sorted(instants):
        instant = instants[moment]
        if not instant.energy_wh:
            continue
        if len(instant.energy_wh) > 1:
            values = " and ".join(f"{value} Wh" for value in sorted(instant.energy_wh))
            raise SessionFactsError("meter_values", f"two different energy readings at {moment.isoformat()}: {values}")
        readings.append(MeterReading(moment, instant.energy_wh.pop(), instant.power_w(), instant.current_a()))
    readings.append(MeterReading(stop, session.meter_stop_wh))
    return readings


def _instants(session: ChargingSession) -> dict[datetime, _Instant]:
    rows = (
        MeterValue.objects.filter(
            session=session, measurand__in=(ENERGY, POWER, CURRENT), location__in=OUTLET,
            timestamp__gte=session.started_at, timestamp__lte=session.stopped_at,
        )
        .order_by("timestamp", "id")
        .values_list("timestamp", "measurand", "phase", "value", "unit")
    )
    instants: dict[datetime, _Instant] = defaultdict(_Instant)
    for moment, measurand, phase, value, unit in rows:
        factor = UNIT_FACTORS[measurand].get(unit)
        if factor is None:
            raise SessionFactsError("meter_values", f"{measurand} at {moment.isoformat()} has an unknown unit {unit!r}")
        value = (Decimal(value) * factor).normalize()
        instant = instants[moment]
        if measurand == ENERGY:
            if not phase:
                instant.energy_wh.add(int(value.to_integral_value(ROUND_HALF_UP)))
            continue
        _check_measurement(measurand, value, moment)
        if measurand == POWER:
            _store(instant, "power", phase, value)
        else:
            _store(instant, "current", phase, value)
    return instants


def _store(instant: _Instant, name: str, phase: str, value: Decimal) -> None:
    if not phase:
        setattr(instant, f"{name}_total", value)
    elif phase in LINE_PHASES:
        getattr(instant, f"{name}_phases")[phase[:2]] = value


def _total(total: Decimal | None, phases: dict[str, Decimal]) -> Decimal | None:
    if total is not None:
        return total
    return sum(phases.values(), Decimal(0)) if phases else None


def _check_measurement(measurand: str, value: Decimal, moment: datetime) -> None:
    if value < 0:
        raise SessionFactsError("meter_values", f"{measurand} at {moment.isoformat()} is negative ({value:f})")
    if measurand == POWER and value > MAX_PLAUSIBLE_POWER_W:
        raise SessionFactsError(
            "meter_values", f"{measurand} at {moment.isoformat()} is {value:f} W: not a plausible power"
        )


def _check_rated_power(session: ChargingSession) -> None:
    rated_w = session.connector.max_power_w
    duration_s = (session.stopped_at - session.started_at).total_seconds()
    if not rated_w or duration_s < RATED_POWER_MIN_DURATION_S:
        return
    average_w = Decimal(session.energy_wh * 3600) / Decimal(duration_s)
    if average_w > rated_w * RATED_POWER_TOLERANCE:
        raise SessionFactsError(
            "meter_stop_wh",
            f"{session.energy_wh} Wh in {int(duration_s)} s is an average of {average_w:.0f} W on a connector "
            f"rated {rated_w} W: not a plausible meter value",
        )


_READING_INDEX = re.compile(r"readings\[(\d+)\]")
_READING_FIELDS = {"energy_register_wh": "the energy register", "timestamp": "the time"}


def _described(error: SessionFactsError, readings: list[MeterReading]) -> SessionFactsError:
    """The engine names readings by index; a person reviewing the session needs the time."""
    match = _READING_INDEX.match(error.field)
    if match is None:
        return error
    reading = readings[int(match.group(1))]
    what = _READING_FIELDS.get(error.field.rsplit(".", 1)[-1], error.field)
    return SessionFactsError("meter_values", f"meter reading at {reading.timestamp.isoformat()}: {what} {error.rule}")
