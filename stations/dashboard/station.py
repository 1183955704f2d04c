"""Reads behind the station view (the charge point's admin page): its EVSEs and connectors, current sessions
with their latest readings, boots, errors, commands, journal and known configuration keys. A fixed number of
queries, each on an index that starts with the station."""

from django.db.models import OuterRef, Prefetch, Q, Subquery

from stations.models import (
    ChargePoint,
    ChargingSession,
    Connector,
    MeterValue,
    OcppMessage,
    Reservation,
    StationCommand,
    StationEvent,
    StatusEvent,
)

RECENT = 10
JOURNAL = 15
ENERGY = MeterValue.Measurand.ENERGY_IMPORT_REGISTER
POWER = MeterValue.Measurand.POWER_IMPORT


def station_overview(charge_point: ChargePoint) -> dict:
    return {
        "evses": list(charge_point.evses.order_by("ocpp_evse_id").prefetch_related(
            Prefetch("connectors", queryset=Connector.objects.order_by("ocpp_connector_id")))),
        "active_sessions": active_sessions(charge_point),
        "boots": list(charge_point.events.filter(kind=StationEvent.Kind.BOOT)[:5]),
        "station_errors": list(StatusEvent.objects.filter(charge_point=charge_point)
                       .filter(Q(status="Faulted") | ~Q(error_code__in=("", "NoError")))
                       .select_related("connector__evse")[:RECENT]),
        "to_review": list(charge_point.events.filter(needs_review=True)[:RECENT]),
        "journal": list(OcppMessage.objects.filter(charge_point=charge_point)[:JOURNAL]),
        "commands": list(charge_point.commands.select_related("requested_by")[:RECENT]),
        "reservations": list(charge_point.reservations.filter(
            state__in=(Reservation.State.REQUESTED, Reservation.State.ACTIVE))[:RECENT]),
        "configuration": known_configuration(charge_point),
    }


def active_sessions(charge_point: ChargePoint) -> list[ChargingSession]:
    """Running sessions with the latest energy register and power the station reported for each."""
    def latest(measurand: str) -> Subquery:
        return Subquery(MeterValue.objects.filter(session=OuterRef("pk"), measurand=measurand, phase="")
                        .order_by("-timestamp", "-id").values("value")[:1])

    sessions = (ChargingSession.objects.filter(charge_point=charge_point, state=ChargingSession.State.ACTIVE)
                .select_related("evse", "customer").order_by("evse__ocpp_evse_id")
                .annotate(last_register_wh=latest(ENERGY), last_power_w=latest(POWER)))
    for session in sessions:
        session.energy_so_far_wh = (int(session.last_register_wh) - session.meter_start_wh
                                    if session.last_register_wh is not None else None)
        session.power_now_w = int(session.last_power_w) if session.last_power_w is not None else None
    return list(sessions)


def known_configuration(charge_point: ChargePoint) -> dict:
    """The keys the station listed in its last answered GetConfiguration of all keys (empty if never asked)."""
    command = (charge_point.commands.filter(action="GetConfiguration", state=StationCommand.State.ACCEPTED,
                                            payload={}).order_by("-completed_at", "-id").first())
    if command is None or not isinstance(command.response, dict):
        return {"asked_at": None, "keys": []}
    keys = [entry for entry in command.response.get("configurationKey") or [] if isinstance(entry, dict)]
    return {"asked_at": command.completed_at, "command": command,
            "keys": sorted(keys, key=lambda entry: str(entry.get("key", "")))}
