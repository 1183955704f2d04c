"""Charging profiles as a simulated OCPP 1.6 station keeps them (Smart Charging profile, section 3.13): the
SetChargingProfile and ClearChargingProfile rules, the limit in force at a moment, and the composite
schedule GetCompositeSchedule reports. Profiles are kept as the `ocpp` library hands them over (snake_case).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from stations.simulator.charging import PHASE_VOLTAGE_V, ConnectorSpec

MAX_PROFILE = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX_PROFILE = "TxProfile"
RECURRENCE_S = {"Daily": 86_400, "Weekly": 7 * 86_400}
DC_VOLTAGE_V = 400.0  # to compare ampere and watt limits on DC


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class Installed:
    connector_id: int
    profile: dict

    @property
    def purpose(self) -> str:
        return self.profile["charging_profile_purpose"]

    @property
    def stack_level(self) -> int:
        return self.profile["stack_level"]


class ChargingProfiles:
    def __init__(self) -> None:
        self.installed: dict[int, Installed] = {}  # by chargingProfileId

    def set(self, connector_id: int, profile: dict, *, has_transaction: bool) -> str:
        purpose = profile["charging_profile_purpose"]
        if purpose == MAX_PROFILE and connector_id != 0:
            return "Rejected"
        if purpose == TX_PROFILE and (connector_id == 0 or not has_transaction):
            return "Rejected"
        for key, kept in list(self.installed.items()):
            # A profile with the same id, or the same purpose and stack level on the connector, is replaced.
            if key == profile["charging_profile_id"] or (
                    kept.connector_id == connector_id and kept.purpose == purpose
                    and kept.stack_level == profile["stack_level"]):
                del self.installed[key]
        self.installed[profile["charging_profile_id"]] = Installed(connector_id, profile)
        return "Accepted"

    def clear(self, *, id: int | None = None, connector_id: int | None = None, purpose: str | None = None,
              stack_level: int | None = None) -> str:
        if id is not None:
            removed = [id] if id in self.installed else []
        else:
            removed = [key for key, kept in self.installed.items()
                       if (connector_id is None or kept.connector_id == connector_id)
                       and (purpose is None or kept.purpose == purpose)
                       and (stack_level is None or kept.stack_level == stack_level)]
        for key in removed:
            del self.installed[key]
        return "Accepted" if removed else "Unknown"

    def transaction_ended(self, connector_id: int) -> None:
        """A TxProfile lives as long as its transaction."""
        self.clear(connector_id=connector_id, purpose=TX_PROFILE)

    def limit_w(self, spec: ConnectorSpec, moment: datetime, tx_started_at: datetime | None) -> float | None:
        """The lowest limit in force on the connector now, in W; None when no profile applies."""
        station_max = self._purpose_limit_w(spec, MAX_PROFILE, moment, tx_started_at)
        # A TxProfile in force overrules the default profile for its transaction.
        tx_limit = self._purpose_limit_w(spec, TX_PROFILE, moment, tx_started_at)
        if tx_limit is None:
            tx_limit = self._purpose_limit_w(spec, TX_DEFAULT, moment, tx_started_at)
        limits = [limit for limit in (station_max, tx_limit) if limit is not None]
        return min(limits) if limits else None

    def composite(self, spec: ConnectorSpec, *, now: datetime, duration_s: int, unit: str | None,
                  tx_started_at: datetime | None) -> dict:
        """GetCompositeSchedule's chargingSchedule: the limits in force over the next `duration_s`."""
        unit = unit or ("W" if spec.is_dc else "A")
        periods: list[dict] = []
        for offset in self._breakpoints(now, duration_s, tx_started_at):
            limit_w = self.limit_w(spec, now + timedelta(seconds=offset), tx_started_at)
            limit_w = spec.max_power_w if limit_w is None else min(limit_w, spec.max_power_w)
            limit = round(limit_w if unit == "W" else limit_w / _watts_per_amp(spec, None), 1)
            if not periods or periods[-1]["limit"] != limit:
                period = {"start_period": offset, "limit": limit}
                if not spec.is_dc:
                    period["number_phases"] = spec.phases
                periods.append(period)
        return {"duration": duration_s, "start_schedule": now.isoformat().replace("+00:00", "Z"),
                "charging_rate_unit": unit, "charging_schedule_period": periods}

    # --- internals --------------------------------------------------------------------------------------
    def _candidates(self, spec: ConnectorSpec, purpose: str) -> list[Installed]:
        # A connector's own profile wins over one installed for the whole station (connector 0).
        own = [k for k in self.installed.values() if k.purpose == purpose and k.connector_id == spec.connector_id]
        return own or [k for k in self.installed.values() if k.purpose == purpose and k.connector_id == 0]

    def _purpose_limit_w(self, spec, purpose, moment, tx_started_at) -> float | None:
        if purpose == TX_PROFILE and tx_started_at is None:
            return None
        for kept in sorted(self._candidates(spec, purpose), key=lambda k: -k.stack_level):
            limit = _limit_at(kept.profile, moment, tx_started_at)
            if limit is not None:  # the highest stack level valid at this moment decides
                amount, unit, phases = limit
                return amount if unit == "W" else amount * _watts_per_amp(spec, phases)
        return None

    def _breakpoints(self, now: datetime, duration_s: int, tx_started_at: datetime | None) -> list[int]:
        points = {0}
        for kept in self.installed.values():
            start = _schedule_start(kept.profile, now, tx_started_at)
            schedule = kept.profile["charging_schedule"]
            recurrence = RECURRENCE_S.get(kept.profile.get("recurrency_kind"), 0)
            for base in (start, start + timedelta(seconds=recurrence)) if recurrence else (start,):
                for period in schedule["charging_schedule_period"]:
                    points.add(int((base - now).total_seconds()) + period["start_period"])
                if schedule.get("duration"):
                    points.add(int((base - now).total_seconds()) + schedule["duration"])
        return sorted(p for p in points if 0 <= p < duration_s)


def _watts_per_amp(spec: ConnectorSpec, phases: int | None) -> float:
    return DC_VOLTAGE_V if spec.is_dc else PHASE_VOLTAGE_V * (phases or spec.phases)


def _schedule_start(profile: dict, moment: datetime, tx_started_at: datetime | None) -> datetime:
    schedule = profile["charging_schedule"]
    kind = profile["charging_profile_kind"]
    if kind == "Relative":
        return tx_started_at or moment
    base = parse_time(schedule.get("start_schedule")) or parse_time(profile.get("valid_from")) or moment
    recurrence = RECURRENCE_S.get(profile.get("recurrency_kind"), 0)
    if kind == "Recurring" and recurrence and moment >= base:
        return base + timedelta(seconds=recurrence * ((moment - base).total_seconds() // recurrence))
    return base


def _limit_at(profile: dict, moment: datetime, tx_started_at: datetime | None) -> tuple[float, str, int] | None:
    valid_from, valid_to = parse_time(profile.get("valid_from")), parse_time(profile.get("valid_to"))
    if (valid_from and moment < valid_from) or (valid_to and moment >= valid_to):
        return None
    schedule = profile["charging_schedule"]
    offset = (moment - _schedule_start(profile, moment, tx_started_at)).total_seconds()
    if offset < 0 or (schedule.get("duration") and offset >= schedule["duration"]):
        return None
    current = None
    for period in sorted(schedule["charging_schedule_period"], key=lambda p: p["start_period"]):
        if period["start_period"] <= offset:
            current = period
    if current is None:
        return None
    return float(current["limit"]), schedule["charging_rate_unit"], current.get("number_phases") or 0
