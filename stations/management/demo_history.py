"""A month of charging history for the demo network: simulated sessions with their meter values.

The simulation is plain arithmetic on a seeded random.Random, so the same network gets the same history
(relative to the moment it is generated); the rows are written with bulk_create to stay fast.
"""

import math
import random
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Max

from customers.models import Customer, IdToken
from stations import demo
from stations.models import ChargePoint, ChargingSession, Connector, ConnectorStatus, Evse, MeterValue

HISTORY_DAYS = 30
SEED = 2025
_MV = MeterValue.Measurand
_STOP = ChargingSession.StopReason
STOP_REASONS = [_STOP.EV_DISCONNECTED, _STOP.LOCAL, _STOP.REMOTE, _STOP.DE_AUTHORIZED, _STOP.POWER_LOSS]
STOP_WEIGHTS = [50, 32, 14, 2, 2]
# Sessions an EVSE sees per day (AC: mostly one car parked for hours; DC: several quick stops).
AC_DAILY = ([0, 1, 2, 3], [30, 45, 20, 5])
DC_DAILY = ([0, 1, 2, 3, 4], [20, 35, 25, 15, 5])
# Local hour a session starts: commuters in the morning, shoppers by day, residents in the evening.
AC_HOURS = [1, 0, 0, 0, 0, 1, 3, 8, 9, 6, 4, 4, 4, 4, 4, 5, 6, 8, 8, 7, 5, 3, 2, 1]
DC_HOURS = [1, 0, 0, 0, 0, 1, 2, 4, 5, 6, 7, 8, 9, 8, 7, 7, 8, 9, 9, 7, 5, 4, 2, 1]
# Cards we do not know: we answered Invalid, the station charged anyway (free-vend or offline start), and
# the session waits for a person to review it, as stations.station_reports flags such starts.
UNKNOWN_TAG_SHARE = 0.01
UNKNOWN_TAG_REVIEW = "Started with an id tag we answered Invalid."


@dataclass(frozen=True)
class Sample:
    offset_s: int
    energy_wh: int  # since the start of the session
    power_w: int
    soc: int | None = None


@dataclass(frozen=True)
class Charge:
    """One vehicle's charge as the meter saw it: duration and the samples the station sent."""

    duration_s: int
    samples: tuple[Sample, ...]

    @property
    def energy_wh(self) -> int:
        return self.samples[-1].energy_wh


def _sampled(points: list[tuple[int, float, float, float | None]], interval_s: int) -> tuple[Sample, ...]:
    """Keeps the points a station would send: the start, every interval_s, and the end."""
    last = points[-1][0]
    kept = [p for p in points if p[0] % interval_s == 0 or p[0] == last]
    return tuple(
        Sample(t, round(e), round(p), None if soc is None else min(100, round(soc))) for t, e, p, soc in kept
    )


def simulate_ac(rng: random.Random, plug: demo.Plug, interval_s: int, plugged_s: int) -> Charge:
    """A car on an AC socket: constant power at what the car's charger takes, then idle until unplugged."""
    power_kw = min(plug.max_power_w / 1000, rng.choice([3.7, 7.4, 11, 11, 11, 11, 22]))
    # 5-40 kWh in 1-8 hours: stay long enough for 5 kWh, never past 8 hours.
    plugged_s = min(8 * 3600, max(plugged_s, math.ceil(5.2 / power_kw * 3600)))
    charging_s = min(plugged_s, rng.uniform(5.2, 40) / power_kw * 3600)
    points = []
    for t in range(0, plugged_s + 1, 60):
        charging = 0 < t < charging_s
        power_w = power_kw * 1000 * rng.uniform(0.96, 1.0) if charging else 0
        points.append((t, power_kw * 1000 * min(t, charging_s) / 3600, power_w, None))
    return Charge(points[-1][0], _sampled(points, interval_s))


def simulate_dc(rng: random.Random, plug: demo.Plug, interval_s: int) -> Charge:
    """A fast charge: full power to about 50 % state of charge, then the car tapers; 15-60 min, 15-70 kWh."""
    capacity_kwh = rng.choice([52, 58, 64, 77, 82, 95])
    soc = rng.uniform(8, 40)
    target_soc = rng.uniform(75, 92)
    car_peak_kw = 46 if plug.standard == Connector.Standard.CHADEMO else rng.choice([50, 100, 135, 150, 175, 230])
    peak_kw = min(plug.max_power_w / 1000, car_peak_kw)
    t, energy_wh, points = 0, 0.0, [(0, 0.0, 0.0, soc)]
    while t < 3600 and soc < 99 and (soc < target_soc or t < 900 or energy_wh < 15_000):
        taper = 1.0 if soc < 50 else max(0.25, 1 - (soc - 50) / 40 * 0.75)
        power_kw = peak_kw * taper * rng.uniform(0.95, 1.0) * (0.6 if t == 0 else 1.0)
        if energy_wh + power_kw * 1000 / 60 > 70_000:
            break
        energy_wh += power_kw * 1000 / 60
        soc += power_kw / 60 / capacity_kwh * 100
        t += 60
        points.append((t, energy_wh, power_kw * 1000, soc))
    return Charge(t, _sampled(points, interval_s))


@dataclass
class _Evse:
    evse: Evse
    station: demo.Station
    hardware: demo.Hardware
    site: demo.Site
    connectors: list[Connector]
    register_wh: int  # the EVSE's energy meter


@dataclass
class _Session:
    slot: _Evse
    connector: Connector
    started_at: datetime
    charge: Charge
    token: IdToken | None
    id_tag: str
    stop_reason: str = ""
    active_for_s: int | None = None  # elapsed seconds of a session still running


def _open_hours(site: demo.Site, day: date) -> tuple[time, time] | None:
    if site.opening_hours.get("twentyfourseven"):
        return time(0, 0), time(23, 59)
    for period in site.opening_hours["regular_hours"]:
        if period["weekday"] == day.isoweekday():
            return time.fromisoformat(period["period_begin"]), time.fromisoformat(period["period_end"])
    return None


def _day_plan(rng: random.Random, slot: _Evse, day: date) -> list[tuple[datetime, int, datetime | None]]:
    """Candidate sessions of one local day: start, seconds plugged in (AC), and closing time if any."""
    hours = _open_hours(slot.site, day)
    if hours is None:
        return []
    tz = zoneinfo.ZoneInfo(slot.site.time_zone)
    counts, weights = DC_DAILY if slot.hardware.is_dc else AC_DAILY
    profile = DC_HOURS if slot.hardware.is_dc else AC_HOURS
    opens, closes = (datetime.combine(day, h, tzinfo=tz) for h in hours)
    limited = not slot.site.opening_hours.get("twentyfourseven")
    plan = []
    for _ in range(rng.choices(counts, weights)[0]):
        start = datetime.combine(day, time(rng.choices(range(24), profile)[0], rng.randrange(60)), tzinfo=tz)
        if not opens <= start <= closes - timedelta(minutes=60):
            continue
        if limited:  # shoppers stay one to three hours and leave when the car park closes
            plugged_s = rng.randint(3600, 3 * 3600)
        elif start.hour < 10:  # commuters: a working day
            plugged_s = rng.randint(5 * 3600, 8 * 3600)
        else:
            plugged_s = rng.randint(3600, 6 * 3600)
        plan.append((start, plugged_s, closes if limited else None))
    return sorted(plan)


def _charge(rng: random.Random, slot: _Evse, plugged_s: int) -> tuple[Connector, Charge]:
    connector = slot.connectors[0]
    if len(slot.connectors) > 1 and rng.random() < 0.12:
        connector = slot.connectors[1]  # the rarer CHAdeMO cable
    plug = slot.hardware.evses[slot.evse.ocpp_evse_id - 1][connector.ocpp_connector_id - 1]
    interval_s = slot.hardware.sample_interval_s
    if plug.is_dc:
        return connector, simulate_dc(rng, plug, interval_s)
    return connector, simulate_ac(rng, plug, interval_s, plugged_s)


class _Tokens:
    """Who charges where: mostly customers from the site's city, some from elsewhere, rarely a stranger."""

    def __init__(self, now: datetime):
        cards = {card.uid: card for account in demo.ACCOUNTS for person in account.people for card in person.cards}
        self.entries = []
        for token in IdToken.objects.filter(uid__in=cards).select_related("customer").order_by("uid"):
            ended_ago = cards[token.uid].ended_ago
            if token.customer.status == Customer.Status.SUSPENDED:
                ended_ago = timedelta(days=6)  # suspended for unpaid invoices last week
            self.entries.append((token, now - ended_ago if ended_ago else now))

    def pick(self, rng: random.Random, site: demo.Site, at: datetime) -> tuple[IdToken | None, str]:
        if rng.random() < UNKNOWN_TAG_SHARE:
            return None, f"{rng.getrandbits(32):08X}"
        usable = [(token, until) for token, until in self.entries if until > at]
        weights = [
            6 if token.customer.city == site.city else 2 if token.customer.country == site.country else 0.3
            for token, _ in usable
        ]
        token = rng.choices([token for token, _ in usable], weights)[0]
        return token, token.uid


def _history(rng: random.Random, slot: _Evse, tokens: _Tokens, now: datetime, end: datetime) -> list[_Session]:
    tz = zoneinfo.ZoneInfo(slot.site.time_zone)
    first = (now - timedelta(days=HISTORY_DAYS)).astimezone(tz).date()
    sessions, free_at = [], now - timedelta(days=HISTORY_DAYS)
    for n in range(HISTORY_DAYS + 1):
        for start, plugged_s, closes in _day_plan(rng, slot, first + timedelta(days=n)):
            if start < free_at:
                continue
            connector, charge = _charge(rng, slot, plugged_s)
            stop = start + timedelta(seconds=charge.duration_s)
            if stop > end or (closes is not None and stop > closes):
                continue
            token, id_tag = tokens.pick(rng, slot.site, start)
            reason = rng.choices(STOP_REASONS, STOP_WEIGHTS)[0]
            sessions.append(_Session(slot, connector, start, charge, token, id_tag, reason))
            free_at = stop + timedelta(minutes=rng.randint(5, 90))
    return sessions


def _active(rng: random.Random, slot: _Evse, tokens: _Tokens, now: datetime) -> _Session:
    """The session a Charging EVSE is in now: longer than it has run so far, sampled up to now."""
    elapsed_s = int(slot.station.states[slot.evse.ocpp_evse_id].since.total_seconds())
    while True:
        connector, charge = _charge(rng, slot, elapsed_s + rng.randint(1800, 3 * 3600))
        if charge.duration_s > elapsed_s + 300:
            break
    samples = tuple(s for s in charge.samples if s.offset_s <= elapsed_s)
    started_at = now - timedelta(seconds=elapsed_s)
    token, id_tag = tokens.pick(rng, slot.site, started_at)
    return _Session(slot, connector, started_at, Charge(elapsed_s, samples), token, id_tag, active_for_s=elapsed_s)


def _slots() -> list[_Evse]:
    stations = {s.identity: s for s in demo.STATIONS}
    evses = (
        Evse.objects.filter(
            charge_point__identity__in=stations,
            charge_point__registration_status=ChargePoint.RegistrationStatus.ACCEPTED,
        )
        .select_related("charge_point")
        .prefetch_related("connectors")
        .order_by("evse_id")
    )
    slots, charge_points = [], {}
    for evse in evses:
        # One instance per station, so its OCPP 1.6 transaction counter is shared by its EVSEs.
        evse.charge_point = charge_points.setdefault(evse.charge_point_id, evse.charge_point)
        station = stations[evse.charge_point.identity]
        hardware = demo.HARDWARE[station.hardware]
        rng = random.Random(f"{SEED}:{evse.evse_id}:register")
        register_wh = rng.randint(20_000_000, 250_000_000) if hardware.is_dc else rng.randint(800_000, 9_000_000)
        slots.append(_Evse(evse, station, hardware, demo.SITE_BY_CODE[station.site],
                           list(evse.connectors.all()), register_wh))
    return slots


def _window_end(slot: _Evse, now: datetime) -> datetime:
    """Completed sessions end before the EVSE went out of order, the station went offline, or the current
    session began."""
    end = now
    state = slot.station.states.get(slot.evse.ocpp_evse_id)
    if state is not None:
        end = now - state.since - (timedelta(minutes=10) if state.status == ConnectorStatus.CHARGING else timedelta())
    if not slot.station.is_connected and slot.station.last_seen is not None:
        end = min(end, now - slot.station.last_seen)
    return end


def demo_history_exists() -> bool:
    """True once any demo station has sessions: a re-run, or real use by a simulator, leaves them alone."""
    return ChargingSession.objects.filter(charge_point__identity__in=[s.identity for s in demo.STATIONS]).exists()


def history_create(*, now: datetime) -> tuple[int, int]:
    """Writes the month of sessions and their meter values; returns (sessions, meter values) created."""
    rng = random.Random(SEED)
    tokens = _Tokens(now)
    planned = []
    for slot in _slots():
        evse_rng = random.Random(f"{SEED}:{slot.evse.evse_id}")
        planned += _history(evse_rng, slot, tokens, now, _window_end(slot, now))
        state = slot.station.states.get(slot.evse.ocpp_evse_id)
        if state is not None and state.status == ConnectorStatus.CHARGING:
            planned.append(_active(evse_rng, slot, tokens, now))
    planned.sort(key=lambda s: (s.started_at, s.slot.evse.evse_id))
    sessions = _session_rows(planned, rng)
    ChargingSession.objects.bulk_create(sessions, batch_size=500)
    charge_points = {plan.slot.evse.charge_point for plan in planned}
    ChargePoint.objects.bulk_update(charge_points, ["last_transaction_id"])
    values = [mv for session, plan in zip(sessions, planned, strict=True) for mv in _meter_rows(session, plan)]
    MeterValue.objects.bulk_create(values, batch_size=2000)
    _statuses_follow_history()
    return len(sessions), len(values)


def _session_rows(planned: list[_Session], rng: random.Random) -> list[ChargingSession]:
    # OCPP 1.6: we hand out integer transaction ids from a counter per station (what the OCPP server does,
    # so it carries on from ChargePoint.last_transaction_id); OCPP 2.0.1 stations make their own.
    rows = []
    for plan in planned:
        charge_point = plan.slot.evse.charge_point
        if charge_point.ocpp_version == ChargePoint.OcppVersion.V16:
            charge_point.last_transaction_id += 1
            transaction_id = str(charge_point.last_transaction_id)
        else:
            transaction_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        meter_start_wh = plan.slot.register_wh
        active = plan.active_for_s is not None
        if not active:
            plan.slot.register_wh += plan.charge.energy_wh
        rows.append(ChargingSession(
            charge_point=plan.slot.evse.charge_point, evse=plan.slot.evse, connector=plan.connector,
            transaction_id=transaction_id, id_token=plan.token, id_tag=plan.id_tag,
            customer=plan.token.customer if plan.token else None,
            id_tag_status="Accepted" if plan.token else "Invalid",
            needs_review=plan.token is None, review_reason="" if plan.token else UNKNOWN_TAG_REVIEW,
            started_at=plan.started_at,
            stopped_at=None if active else plan.started_at + timedelta(seconds=plan.charge.duration_s),
            meter_start_wh=meter_start_wh,
            meter_stop_wh=None if active else meter_start_wh + plan.charge.energy_wh,
            stop_reason=plan.stop_reason,
            state=ChargingSession.State.ACTIVE if active else ChargingSession.State.COMPLETED,
            created_at=plan.started_at,
        ))
    return rows


def _meter_rows(session: ChargingSession, plan: _Session) -> list[MeterValue]:
    rows = []
    last = plan.charge.samples[-1].offset_s
    for sample in plan.charge.samples:
        if sample.offset_s == 0:
            context = "Transaction.Begin"
        elif sample.offset_s == last and plan.active_for_s is None:
            context = "Transaction.End"
        else:
            context = "Sample.Periodic"
        common = {
            "session": session, "charge_point": session.charge_point, "connector": session.connector,
            "timestamp": session.started_at + timedelta(seconds=sample.offset_s), "context": context,
        }
        rows.append(MeterValue(measurand=_MV.ENERGY_IMPORT_REGISTER, location="Outlet", unit="Wh",
                               value=session.meter_start_wh + sample.energy_wh, **common))
        rows.append(MeterValue(measurand=_MV.POWER_IMPORT, location="Outlet", unit="W", value=sample.power_w,
                               **common))
        if sample.soc is not None:
            rows.append(MeterValue(measurand=_MV.SOC, location="EV", unit="%", value=sample.soc, **common))
    return rows


def _statuses_follow_history() -> None:
    """Free connectors have been Available since their EVSE's last session ended."""
    last_stops = dict(
        ChargingSession.objects.filter(charge_point__identity__in=[s.identity for s in demo.STATIONS])
        .values_list("evse_id")
        .annotate(Max("stopped_at"))
    )
    connectors = list(Connector.objects.filter(evse_id__in=last_stops, status=ConnectorStatus.AVAILABLE))
    for connector in connectors:
        connector.status_changed_at = last_stops[connector.evse_id]
    Connector.objects.bulk_update(connectors, ["status_changed_at"], batch_size=500)
