"""Operator commands to stations: one service requests any OCPP operation, the channel layer carries it to
the server process that holds the station's socket, and the outcome is recorded on the command row.

The admin, the REST API and tasks all call `command_request`; the consumer calls the rest.
"""

import logging
from datetime import UTC, datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from ocpp.messages import Call

from staff.roles import command_permitted
from stations.models import ChargePoint, LocalListEntry, Reservation, StationCommand
from stations.protocol.frames import FrameError, validate_payload

logger = logging.getLogger(__name__)

# Every Central System -> Charge Point operation of the six OCPP 1.6 feature profiles.
COMMANDS_16 = (
    "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector", "ChangeAvailability",
    "ChangeConfiguration", "GetConfiguration", "ClearCache", "DataTransfer", "UpdateFirmware", "GetDiagnostics",
    "SendLocalList", "GetLocalListVersion", "ReserveNow", "CancelReservation", "SetChargingProfile",
    "ClearChargingProfile", "GetCompositeSchedule", "TriggerMessage",
)
# Answers whose "status" is one of these mean the station will do it.
POSITIVE_STATUSES = {"Accepted", "Unlocked", "Scheduled", "RebootRequired"}


def connection_group(identity: str) -> str:
    """Channel-layer group holding the one connection of a station, in whichever server process."""
    return f"ocpp.{identity}"


def command_request(*, charge_point: ChargePoint, action: str, payload: dict,
                    requested_by=None) -> StationCommand:
    """Validate and queue a command; it is sent at once if the station is connected, else marked offline."""
    if action not in COMMANDS_16:
        raise ValidationError({"action": f"{action!r} is not an OCPP 1.6 command. Choose one of: "
                                         f"{', '.join(COMMANDS_16)}."})
    with transaction.atomic():
        payload = _prepare(charge_point, action, dict(payload or {}))
        try:
            validate_payload(Call("0", action, payload), "1.6")
        except FrameError as error:
            raise ValidationError({"payload": f"Not a valid {action} request: {error.description}"}) from None
        connected = ChargePoint.objects.filter(pk=charge_point.pk, is_connected=True).exists()
        command = StationCommand.objects.create(
            charge_point=charge_point, action=action, payload=payload, requested_by=requested_by,
            state=StationCommand.State.PENDING if connected else StationCommand.State.OFFLINE,
            completed_at=None if connected else timezone.now(),
            error="" if connected else "The station is not connected.",
        )
        if connected:
            group, message = connection_group(charge_point.identity), {"type": "ocpp.command", "command_id": command.pk}
            transaction.on_commit(lambda: _deliver(group, message))
    return command


def command_request_for_operator(*, charge_point: ChargePoint, action: str, payload: dict,
                                 requested_by=None) -> StationCommand:
    """As command_request, filling in what operators should not have to write by hand: a SendLocalList
    with only an updateType gets its list (full, or the changes since the last send) from our tokens."""
    if requested_by is not None and not command_permitted(requested_by, action):
        raise PermissionDenied(f"Your role may not send {action}.")  # staff/roles.py: session-level or any
    if action == "SendLocalList" and "localAuthorizationList" not in payload:
        update_type = payload.get("updateType", "Differential")
        if update_type not in ("Full", "Differential"):
            raise ValidationError({"payload": "updateType is Full or Differential."})
        payload = local_list_payload(charge_point=charge_point, full=update_type == "Full")
    return command_request(charge_point=charge_point, action=action, payload=payload, requested_by=requested_by)


def _deliver(group: str, message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        logger.exception("Could not hand command %s to the channel layer", message["command_id"])
        StationCommand.objects.filter(pk=message["command_id"], state=StationCommand.State.PENDING).update(
            state=StationCommand.State.FAILED, error="The channel layer is unreachable.", completed_at=timezone.now()
        )


def _prepare(charge_point: ChargePoint, action: str, payload: dict) -> dict:
    """Fill in what we own: the reservation id of a ReserveNow (its Reservation row)."""
    if action == "ReserveNow" and "reservationId" not in payload:
        try:
            expires = datetime.fromisoformat(payload["expiryDate"]).astimezone(UTC)
        except (KeyError, TypeError, ValueError):
            raise ValidationError({"payload": "ReserveNow needs expiryDate as an ISO 8601 time."}) from None
        reservation = Reservation.objects.create(
            charge_point=charge_point, connector_id=payload.get("connectorId", 0),
            id_tag=str(payload.get("idTag", ""))[:36], expires_at=expires,
        )
        payload["reservationId"] = reservation.pk
    return payload


def command_mark_sent(*, command_id: int, channel_name: str) -> StationCommand | None:
    """Claims a pending command for one connection; None if someone else claimed it already."""
    claimed = StationCommand.objects.filter(pk=command_id, state=StationCommand.State.PENDING).update(
        state=StationCommand.State.SENT, sent_at=timezone.now(), channel_name=channel_name
    )
    return StationCommand.objects.get(pk=command_id) if claimed else None


def command_record_result(*, command_id: int, outcome: str, response: dict | None = None, error: str = "") -> None:
    """Records how a command ended: answered (accepted or rejected by its status), failed, or timeout."""
    with transaction.atomic():
        command = StationCommand.objects.select_for_update().select_related("charge_point").get(pk=command_id)
        if command.is_final:
            return
        if outcome == "answered":
            status = (response or {}).get("status")
            accepted = status is None or status in POSITIVE_STATUSES
            command.state = StationCommand.State.ACCEPTED if accepted else StationCommand.State.REJECTED
            command.response = response
            if accepted:
                _apply(command)
            elif command.action == "ReserveNow":
                Reservation.objects.filter(pk=command.payload["reservationId"]).update(
                    state=Reservation.State.REJECTED)
        else:
            command.state = StationCommand.State.TIMEOUT if outcome == "timeout" else StationCommand.State.FAILED
            command.error = error or ("The station did not answer in time." if outcome == "timeout" else "")
        command.completed_at = timezone.now()
        command.save()
        from stations.events import publish_after_commit

        publish_after_commit(command.charge_point.identity, {
            "type": "station.command", "identity": command.charge_point.identity, "command_id": command.pk,
            "action": command.action, "state": command.state,
        })


def _apply(command: StationCommand) -> None:
    """What an accepted command changes on our side."""
    station = command.charge_point
    if command.action == "ReserveNow":
        Reservation.objects.filter(pk=command.payload["reservationId"]).update(state=Reservation.State.ACTIVE)
    elif command.action == "CancelReservation":
        Reservation.objects.filter(pk=command.payload["reservationId"], charge_point=station).update(
            state=Reservation.State.CANCELLED)
    elif command.action == "SendLocalList":
        _local_list_apply(station, command.payload)


def commands_abandon(*, charge_point_id: int, channel_name: str) -> int:
    """A connection closed: commands it sent that were never answered have failed."""
    return StationCommand.objects.filter(
        charge_point_id=charge_point_id, channel_name=channel_name, state=StationCommand.State.SENT
    ).update(state=StationCommand.State.FAILED, error="The connection closed before the station answered.",
             completed_at=timezone.now())


def commands_expire(*, older_than_s: int = 120) -> int:
    """Pending commands nobody picked up (the process holding the socket died) time out."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_s)
    return StationCommand.objects.filter(
        state__in=[StationCommand.State.PENDING, StationCommand.State.SENT], created_at__lt=cutoff
    ).update(state=StationCommand.State.TIMEOUT, error="No server process delivered the command in time.",
             completed_at=timezone.now())


# --- local authorisation list -----------------------------------------------------------------------------
def local_list_payload(*, charge_point: ChargePoint, full: bool) -> dict:
    """SendLocalList payload from our tokens: all of them (Full) or what changed since the last send."""
    from customers.models import IdToken

    wanted = _wanted_entries(IdToken.objects.select_related("customer").order_by("uid"))
    version = charge_point.local_list_version + 1
    if full:
        return {"listVersion": version, "updateType": "Full", "localAuthorizationList": list(wanted.values())}
    changes = _list_changes({e.id_tag: e for e in charge_point.local_list.order_by("id_tag")}, wanted)
    return {"listVersion": version, "updateType": "Differential", "localAuthorizationList": changes}


def local_list_corrections(*, charge_point: ChargePoint) -> dict | None:
    """A Differential SendLocalList for the cards the station's list holds whose entry is no longer what our
    tokens say (blocked, expired, deleted or moved to another group while the station was offline, when the
    push of the change could not reach it); None if its list is current. Cards it does not hold are not
    added: what goes on a station's list is the operator's choice (a Full or Differential send)."""
    from customers.models import IdToken

    held = {e.id_tag: e for e in charge_point.local_list.order_by("id_tag")}
    if not held:
        return None
    wanted = _wanted_entries(IdToken.objects.select_related("customer").filter(uid__in=held).order_by("uid"))
    changes = _list_changes(held, wanted)
    if not changes:
        return None
    return {"listVersion": charge_point.local_list_version + 1, "updateType": "Differential",
            "localAuthorizationList": changes}


def _wanted_entries(tokens) -> dict[str, dict]:
    """The local-list entry of each token (by uid), decided as Authorize would decide now."""
    from billing.payments import prepaid_customers_short
    from stations.services.station_reports import token_decision

    now = timezone.now()
    tokens = list(tokens)
    short = prepaid_customers_short(customer_ids={token.customer_id for token in tokens})
    wanted = {}
    for token in tokens:
        info = token_decision(token, moment=now, short_of_funds=token.customer_id in short).as_ocpp16()
        wanted[token.uid] = {"idTag": token.uid, "idTagInfo": {
            "status": info["status"], **({"expiryDate": info["expiry_date"]} if "expiry_date" in info else {}),
            **({"parentIdTag": info["parent_id_tag"]} if "parent_id_tag" in info else {}),
        }}
    return wanted


def _list_changes(held: dict[str, LocalListEntry], wanted: dict[str, dict]) -> list[dict]:
    """Differential entries from what the station holds to what we want: new or changed entries, then removals."""
    changes = [entry for tag, entry in wanted.items() if _entry_changed(held.get(tag), entry)]
    return changes + [{"idTag": tag} for tag in held if tag not in wanted]  # no idTagInfo: remove from the list


def _entry_changed(held: LocalListEntry | None, entry: dict) -> bool:
    info = entry["idTagInfo"]
    if held is None:
        return True
    expiry = held.expiry_date.isoformat().replace("+00:00", "Z") if held.expiry_date else None
    return (held.status, expiry, held.parent_id_tag or None) != (
        info["status"], info.get("expiryDate"), info.get("parentIdTag"))


def _local_list_apply(station: ChargePoint, payload: dict) -> None:
    if payload["updateType"] == "Full":
        station.local_list.all().delete()
    for entry in payload.get("localAuthorizationList", []):
        info = entry.get("idTagInfo")
        if info is None:
            station.local_list.filter(id_tag=entry["idTag"]).delete()
            continue
        expiry = datetime.fromisoformat(info["expiryDate"]) if info.get("expiryDate") else None
        LocalListEntry.objects.update_or_create(
            charge_point=station, id_tag=entry["idTag"],
            defaults={"status": info["status"], "expiry_date": expiry, "parent_id_tag": info.get("parentIdTag", "")},
        )
    ChargePoint.objects.filter(pk=station.pk).update(local_list_version=payload["listVersion"])
