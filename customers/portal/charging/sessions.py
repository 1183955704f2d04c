"""A session as its driver sees it: live figures while it runs (energy, power, state of charge, cost so far),
the price explanation of its charge record once it is rated, and stopping it from the portal.

The live figures are plain JSON-ready dicts, the same for the page's first render and the websocket's updates,
so that the page and its script show one thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.cdrs.estimate import CostEstimate, latest_energy_reading, session_cost_estimate
from billing.models import ChargeDetailRecord
from billing.portal_selectors import driver_explanation
from customers.models import User
from stations.commands import command_request
from stations.models import ChargingSession, MeterValue, StationCommand

POWER = MeterValue.Measurand.POWER_IMPORT
SOC = MeterValue.Measurand.SOC


class StopRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def session_with_relations(queryset, pk: int) -> ChargingSession | None:
    """The session among `queryset` (the user's visible sessions), with what the page and rating read."""
    return (queryset.select_related("charge_point__location", "evse", "connector", "customer", "id_token")
            .filter(pk=pk).first())


def cost_json(estimate: CostEstimate | None) -> dict | None:
    if estimate is None:
        return None
    return {"amount": f"{estimate.incl_vat}", "currency": estimate.currency, "as_of": estimate.as_of.isoformat()}


def live_figures(session: ChargingSession) -> dict:
    """What the live page shows of an active session, read from its stored meter values."""
    as_of, register_wh = latest_energy_reading(session)
    latest = _latest_values(session, (POWER, SOC))
    return {
        "type": "snapshot",
        "session_id": session.pk,
        "state": session.state,
        "started_at": session.started_at.isoformat(),
        "energy_wh": register_wh - session.meter_start_wh,
        "power_w": int(latest[POWER]) if POWER in latest else None,
        "soc": int(latest[SOC]) if SOC in latest else None,
        "timestamp": as_of.isoformat(),
        "connector_status": session.connector.status,
        "cost": cost_json(session_cost_estimate(session)),
    }


def reading_figures(session: ChargingSession, event: dict, *, with_cost: bool) -> dict:
    """A session.reading event as the page shows it; the cost so far is computed when asked for."""
    figures = {"type": "reading", "session_id": session.pk, "energy_wh": event.get("energy_wh"),
               "power_w": event.get("power_w"), "soc": event.get("soc"), "timestamp": event.get("timestamp")}
    if with_cost:
        figures["cost"] = cost_json(session_cost_estimate(session))
    return figures


def _latest_values(session: ChargingSession, measurands: tuple[str, ...]) -> dict[str, Decimal]:
    """The latest total (no phase) value of each measurand in the session, in its stored unit (W, %)."""
    found = {}
    for measurand in measurands:
        row = (MeterValue.objects.filter(session=session, measurand=measurand, phase="", location__in=("", "Outlet",
                                                                                                         "EV"))
               .order_by("-timestamp", "-id").values_list("value", "unit").first())
        if row is not None:
            value, unit = row
            found[measurand] = Decimal(value) * (1000 if unit == "kW" else 1)
    return found


# --- after the session -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionOutcome:
    record: ChargeDetailRecord | None
    pricing_state: str  # priced | pricing | review
    explanation: list[str]  # the record's, incl. VAT as the driver reads it; empty before it is priced
    energy_wh: int | None
    duration_s: int | None
    parking_time_s: int | None

    @property
    def energy_kwh(self) -> Decimal | None:
        return kwh(self.energy_wh)

    @property
    def parking_minutes(self) -> int:
        return -(-(self.parking_time_s or 0) // 60)


def kwh(energy_wh: int | None) -> Decimal | None:
    return None if energy_wh is None else (Decimal(energy_wh) / 1000).quantize(Decimal("0.001"))


def kw(power_w: int | None) -> Decimal | None:
    return None if power_w is None else (Decimal(power_w) / 1000).quantize(Decimal("0.1"))


def current_record(session: ChargingSession) -> ChargeDetailRecord | None:
    """The charge record that stands for the session: the newest charge record no credit has cancelled."""
    return (ChargeDetailRecord.objects.filter(session=session, kind=ChargeDetailRecord.Kind.CHARGE,
                                              credits__isnull=True).order_by("-created_at", "-id").first())


def session_outcome(session: ChargingSession) -> SessionOutcome:
    record = current_record(session)
    if record is not None:
        return SessionOutcome(record, "priced", driver_explanation(record), record.total_energy_wh,
                              record.total_time_s + record.total_parking_time_s, record.total_parking_time_s)
    state = "review" if session.needs_review else "pricing"
    return SessionOutcome(None, state, [], session.energy_wh, session.duration_s, None)


def ended_json(session: ChargingSession) -> dict:
    """The end of a session for the live page, as stored (re-read: the event names the session only), with
    whether it is being priced or waits for a person first."""
    session.refresh_from_db(fields=["state", "stopped_at", "meter_stop_wh", "needs_review"])
    return {"type": "stopped", "session_id": session.pk, "energy_wh": session.energy_wh,
            "stopped_at": session.stopped_at.isoformat() if session.stopped_at else None,
            "pricing_state": "review" if session.needs_review else "pricing"}


def priced_json(session: ChargingSession) -> dict | None:
    """The final price for the live page once the record exists; None while it is being priced."""
    record = current_record(session)
    if record is None:
        return None
    return {"type": "priced", "session_id": session.pk, "amount": f"{record.total_cost_incl_vat:.2f}",
            "currency": str(record.currency), "energy_wh": record.total_energy_wh,
            "parking_time_s": record.total_parking_time_s, "explanation": driver_explanation(record)}


# --- stopping -------------------------------------------------------------------------------------------
def charging_stop(*, user: User, session: ChargingSession) -> StationCommand:
    """RemoteStopTransaction for a session the user can see (the caller scoped it)."""
    if session.state != ChargingSession.State.ACTIVE:
        raise StopRefused(_("This session has already ended."))
    if not session.transaction_id.isdigit():
        raise StopRefused(_("This session cannot be stopped from the portal; please stop it at the station."))
    return command_request(charge_point=session.charge_point, action="RemoteStopTransaction", requested_by=user,
                           payload={"transactionId": int(session.transaction_id)})


def stop_command_is_for(command_id: int, session: ChargingSession) -> StationCommand | None:
    """The stop command `command_id` if it stops this session (events name commands by id only)."""
    return (StationCommand.objects.filter(pk=command_id, charge_point_id=session.charge_point_id,
                                          action="RemoteStopTransaction",
                                          payload__transactionId=int(session.transaction_id)).first()
            if session.transaction_id.isdigit() else None)


def stop_outcome_message(command: StationCommand) -> tuple[str, str]:
    """(level, message) for the driver about a stop request's outcome."""
    State = StationCommand.State
    if command.state == State.ACCEPTED:
        return "ok", _("The station is stopping the session.")
    if command.state == State.OFFLINE:
        return "bad", _("The station is offline and could not be stopped from here. Stop at the station with "
                        "your card, or end charging from your vehicle.")
    if command.state == State.REJECTED:
        return "bad", _("The station refused to stop. Please stop at the station with your card or from your "
                        "vehicle.")
    if command.state in (State.FAILED, State.TIMEOUT):
        return "bad", _("The station did not answer the stop request. Please try again, or stop at the station.")
    return "info", _("Stop requested; waiting for the station…")
