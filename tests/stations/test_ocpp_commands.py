"""Operator commands to a connected 1.6 station: the CALL it receives, how its answer (or silence) is
recorded, one call in flight, the local authorisation list and reservations."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import IdToken
from stations.commands import command_request, local_list_payload
from stations.models import ChargePoint, ChargingSession, LocalListEntry, OcppMessage, Reservation, StationCommand
from stations.protocol.journal import journal
from tests.factories import IdTokenFactory
from tests.stations.ocpp_helpers import Station, eventually, in_db, iso, start

pytestmark = pytest.mark.asyncio


async def request(station: ChargePoint, action: str, payload: dict) -> StationCommand:
    return await in_db(command_request, charge_point=station, action=action, payload=payload)


def finished(command_id: int) -> StationCommand | None:
    command = StationCommand.objects.get(pk=command_id)
    return command if command.is_final else None


async def outcome(command: StationCommand) -> StationCommand:
    """The command once the station's answer (or its absence) has been recorded."""
    done = await eventually(finished, command.pk)
    assert done is not None, f"{command.action} never reached a final state"
    return done


# --- one command, every outcome ---------------------------------------------------------------------------
async def test_reset_reaches_the_station_and_an_accepted_answer_is_recorded(station):
    async with Station(station.identity) as cp:
        command = await request(station, "Reset", {"type": "Soft"})
        _, unique_id, action, payload = await cp.receive_call()
        assert (action, payload) == ("Reset", {"type": "Soft"})
        assert (await in_db(StationCommand.objects.get, pk=command.pk)).state == "sent"
        await cp.answer(unique_id, {"status": "Accepted"})
        done = await outcome(command)
    assert (done.state, done.response) == ("accepted", {"status": "Accepted"})
    assert done.sent_at is not None and done.completed_at >= done.sent_at
    await journal.flush()
    journaled = await in_db(lambda: list(OcppMessage.objects.filter(unique_id=unique_id).order_by("id")))
    assert [(m.direction, m.message_type, m.action) for m in journaled] == [("out", 2, "Reset"), ("in", 3, "Reset")]


async def test_rejected_answer_is_recorded_as_rejected(station):
    async with Station(station.identity) as cp:
        command = await request(station, "UnlockConnector", {"connectorId": 1})
        _, unique_id, *_ = await cp.receive_call()
        await cp.answer(unique_id, {"status": "NotSupported"})
        done = await outcome(command)
    assert (done.state, done.response) == ("rejected", {"status": "NotSupported"})


async def test_call_error_answer_is_recorded_as_failed(station):
    async with Station(station.identity) as cp:
        command = await request(station, "ClearCache", {})
        _, unique_id, *_ = await cp.receive_call()
        await cp.answer_error(unique_id, "NotImplemented", "no cache here")
        done = await outcome(command)
        assert await cp.heartbeat_answered()
    assert done.state == "failed"
    assert "NotImplemented" in done.error


@pytest.mark.parametrize(("frame", "message_type"), [
    ('[3, "%s"]', 3),  # no payload
    ('[3, "%s", ["Accepted"]]', 3),  # payload not an object
    ('[4, "%s", "InternalError"]', 4),  # a CALLERROR without description and details
    ('[3, "%s", {"status": "Accepted\\u0000"}]', 3),  # a NUL, which no column can store
], ids=["no-payload", "array-payload", "short-call-error", "nul"])
async def test_unreadable_answer_is_not_answered_and_fails_the_command_at_once(station, settings, frame,
                                                                                message_type):
    # OCPP-J 1.6: a CALLERROR answers only a CALL; a station sent one for its own answer would be confused.
    settings.OCPP_RESPONSE_TIMEOUT_S = 30  # failing at once, not by timing out
    async with Station(station.identity) as cp:
        command = await request(station, "ClearCache", {})
        _, unique_id, *_ = await cp.receive_call()
        await cp.comm.send_to(text_data=frame % unique_id)
        assert await cp.nothing_sent()
        done = await outcome(command)
        assert await cp.heartbeat_answered()
    assert done.state == "failed"
    assert "could not be read" in done.error
    await journal.flush()
    journaled = await in_db(lambda: list(OcppMessage.objects.filter(unique_id=unique_id).order_by("id")))
    assert [(m.direction, m.message_type, m.action) for m in journaled] == [
        ("out", 2, "ClearCache"), ("in", message_type, "ClearCache")]


async def test_unreadable_answer_to_no_call_of_ours_is_journaled_and_not_answered(station):
    async with Station(station.identity) as cp:
        await cp.comm.send_to(text_data='[3, "nobody-asked", "Accepted"]')
        assert await cp.nothing_sent()
        assert await cp.heartbeat_answered()
    await journal.flush()
    journaled = await in_db(lambda: list(OcppMessage.objects.filter(unique_id="nobody-asked")))
    assert [(m.direction, m.message_type, m.action) for m in journaled] == [("in", 3, "")]


async def test_no_answer_within_the_response_timeout_is_recorded_as_timeout(station, settings):
    settings.OCPP_RESPONSE_TIMEOUT_S = 0.3
    async with Station(station.identity) as cp:
        command = await request(station, "TriggerMessage", {"requestedMessage": "Heartbeat"})
        await cp.receive_call()  # ... and never answered
        done = await outcome(command)
        assert await cp.heartbeat_answered()
    assert done.state == "timeout"


async def test_late_answer_after_a_timeout_does_not_confuse_the_next_command(station, settings):
    settings.OCPP_RESPONSE_TIMEOUT_S = 0.3
    async with Station(station.identity) as cp:
        first = await request(station, "ClearCache", {})
        _, late_id, *_ = await cp.receive_call()
        assert (await outcome(first)).state == "timeout"
        await cp.answer(late_id, {"status": "Accepted"})
        second = await request(station, "ClearCache", {})
        _, unique_id, *_ = await cp.receive_call()
        await cp.answer(unique_id, {"status": "Rejected"})
        assert (await outcome(second)).state == "rejected"
    assert (await in_db(StationCommand.objects.get, pk=first.pk)).state == "timeout"


async def test_command_to_a_station_that_is_not_connected_is_offline_at_once(station):
    command = await request(station, "Reset", {"type": "Hard"})
    assert (command.state, command.completed_at is not None) == ("offline", True)


@pytest.mark.parametrize("action, payload", [
    ("Reset", {"type": "Medium"}),
    ("Reset", {}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": 60}),
    ("MakeCoffee", {}),
    ("BootNotification", {"chargePointVendor": "x", "chargePointModel": "y"}),  # a station's message
    ("ReserveNow", {"connectorId": 1, "idTag": "04AA"}),  # no expiryDate
])
async def test_invalid_payload_or_unknown_action_is_a_validation_error(station, action, payload):
    with pytest.raises(ValidationError):
        await request(station, action, payload)
    assert not await in_db(StationCommand.objects.exists)
    assert not await in_db(Reservation.objects.exists)


async def test_disconnect_while_a_command_is_in_flight_marks_it_failed(station):
    cp = Station(station.identity)
    assert await cp.connect()
    command = await request(station, "GetDiagnostics", {"location": "ftp://logs.example.com/"})
    await cp.receive_call()
    await cp.close()
    done = await outcome(command)
    assert done.state == "failed"


# --- configuration (certification: invalid configuration key) ---------------------------------------------
async def test_get_configuration_with_an_unknown_key_stores_the_stations_unknown_key_list(station):
    async with Station(station.identity) as cp:
        command = await request(station, "GetConfiguration", {"key": ["HeartbeatInterval", "NoSuchKey"]})
        _, unique_id, _, payload = await cp.receive_call()
        assert payload == {"key": ["HeartbeatInterval", "NoSuchKey"]}
        answer = {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
                  "unknownKey": ["NoSuchKey"]}
        await cp.answer(unique_id, answer)
        done = await outcome(command)
    assert done.state == "accepted"
    assert done.response == answer


async def test_invalid_configuration_key_change_answered_not_supported_is_rejected(station):
    async with Station(station.identity) as cp:
        command = await request(station, "ChangeConfiguration", {"key": "NoSuchKey", "value": "1"})
        _, unique_id, *_ = await cp.receive_call()
        await cp.answer(unique_id, {"status": "NotSupported"})
        done = await outcome(command)
    assert done.state == "rejected"


async def test_answer_with_decimal_numbers_is_recorded(station):
    async with Station(station.identity) as cp:
        command = await request(station, "GetCompositeSchedule", {"connectorId": 1, "duration": 3600})
        _, unique_id, *_ = await cp.receive_call()
        schedule = {"chargingRateUnit": "A", "minChargingRate": 6.1,
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5}]}
        await cp.answer(unique_id, {"status": "Accepted", "connectorId": 1, "chargingSchedule": schedule})
        done = await outcome(command)
    assert done.state == "accepted"
    assert done.response["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 16.5}]


async def test_set_charging_profile_with_a_decimal_limit_is_sent(station):
    profile = {"chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Absolute", "chargingSchedule": {
                   "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}]}}
    async with Station(station.identity) as cp:
        command = await request(station, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
        _, unique_id, _, payload = await cp.receive_call()
        assert payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 21.4
        await cp.answer(unique_id, {"status": "Accepted"})
        assert (await outcome(command)).state == "accepted"


# --- one call in flight -----------------------------------------------------------------------------------
async def test_second_command_is_sent_only_after_the_first_was_answered(station):
    async with Station(station.identity) as cp:
        first = await request(station, "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
        second = await request(station, "ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
        _, first_id, _, first_payload = await cp.receive_call()
        assert first_payload["connectorId"] == 1
        assert await cp.nothing_sent(0.3), "a second CALL was sent before the first was answered"
        # The station may still talk while a command waits for its answer.
        assert await cp.heartbeat_answered()

        await cp.answer(first_id, {"status": "Scheduled"})
        _, second_id, _, second_payload = await cp.receive_call()
        assert second_payload["connectorId"] == 2
        await cp.answer(second_id, {"status": "Rejected"})
        assert [(await outcome(c)).state for c in (first, second)] == ["accepted", "rejected"]


# --- local authorisation list -----------------------------------------------------------------------------
def local_list(station: ChargePoint) -> dict[str, str]:
    return dict(LocalListEntry.objects.filter(charge_point=station).values_list("id_tag", "status"))


async def send_local_list(cp: Station, station: ChargePoint, full: bool) -> tuple[dict, StationCommand]:
    current = await in_db(ChargePoint.objects.get, pk=station.pk)
    payload = await in_db(local_list_payload, charge_point=current, full=full)
    command = await request(current, "SendLocalList", payload)
    _, unique_id, action, sent = await cp.receive_call()
    assert (action, sent) == ("SendLocalList", payload)
    await cp.answer(unique_id, {"status": "Accepted"})
    return payload, await outcome(command)


async def test_send_local_list_full_then_differential(station):
    expires = timezone.now().replace(microsecond=0) + timedelta(days=90)
    await in_db(IdTokenFactory, uid="04AAAA", group_id="FLEET-1", expires_at=expires)
    blocked_later = await in_db(IdTokenFactory, uid="04BBBB")
    async with Station(station.identity) as cp:
        full, command = await send_local_list(cp, station, full=True)
        assert command.state == "accepted"
        assert (full["listVersion"], full["updateType"]) == (1, "Full")
        assert {e["idTag"]: e["idTagInfo"]["status"] for e in full["localAuthorizationList"]} == {
            "04AAAA": "Accepted", "04BBBB": "Accepted"}
        assert await in_db(local_list, station) == {"04AAAA": "Accepted", "04BBBB": "Accepted"}
        assert (await in_db(ChargePoint.objects.get, pk=station.pk)).local_list_version == 1

        await in_db(IdToken.objects.filter(pk=blocked_later.pk).update, status=IdToken.Status.BLOCKED)
        differential, command = await send_local_list(cp, station, full=False)
    assert (differential["listVersion"], differential["updateType"]) == (2, "Differential")
    assert differential["localAuthorizationList"] == [{"idTag": "04BBBB", "idTagInfo": {"status": "Blocked"}}]
    assert await in_db(local_list, station) == {"04AAAA": "Accepted", "04BBBB": "Blocked"}
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).local_list_version == 2


async def test_send_local_list_not_accepted_leaves_our_copy_as_it_was(station):
    await in_db(IdTokenFactory, uid="04AAAA")
    async with Station(station.identity) as cp:
        payload = await in_db(local_list_payload, charge_point=station, full=True)
        command = await request(station, "SendLocalList", payload)
        _, unique_id, *_ = await cp.receive_call()
        await cp.answer(unique_id, {"status": "VersionMismatch"})
        assert (await outcome(command)).state == "rejected"
    assert await in_db(local_list, station) == {}
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).local_list_version == 0


async def test_a_card_blocked_while_the_station_was_offline_is_corrected_in_its_list_when_it_reconnects(station):
    from customers.tokens import token_block

    await in_db(IdTokenFactory, uid="04AAAA")
    lost = await in_db(IdTokenFactory, uid="04BBBB")
    gone = await in_db(IdTokenFactory, uid="04CCCC")
    async with Station(station.identity) as cp:
        await send_local_list(cp, station, full=True)
    await eventually(lambda: not ChargePoint.objects.get(pk=station.pk).is_connected)

    await in_db(token_block, token=lost)  # the push cannot reach the offline station
    assert await in_db(lambda: StationCommand.objects.filter(action="SendLocalList").latest("pk").state) == "offline"
    await in_db(gone.delete)

    async with Station(station.identity) as cp:
        assert await cp.nothing_sent(0.3)  # not before the station has spoken on this connection
        assert await cp.heartbeat_answered()
        _, unique_id, action, sent = await cp.receive_call()
        assert (action, sent) == ("SendLocalList", {"listVersion": 2, "updateType": "Differential",
                                                    "localAuthorizationList": [
                                                        {"idTag": "04BBBB", "idTagInfo": {"status": "Blocked"}},
                                                        {"idTag": "04CCCC"}]})
        await cp.answer(unique_id, {"status": "Accepted"})
        await eventually(lambda: ChargePoint.objects.get(pk=station.pk).local_list_version == 2)
    assert await in_db(local_list, station) == {"04AAAA": "Accepted", "04BBBB": "Blocked"}


async def test_a_station_whose_list_is_current_is_sent_nothing_when_it_reconnects(station):
    await in_db(IdTokenFactory, uid="04AAAA")
    async with Station(station.identity) as cp:
        await send_local_list(cp, station, full=True)
    await eventually(lambda: not ChargePoint.objects.get(pk=station.pk).is_connected)
    async with Station(station.identity) as cp:
        assert await cp.heartbeat_answered()
        assert await cp.nothing_sent(0.5)
    assert await in_db(StationCommand.objects.filter(action="SendLocalList").count) == 1


# --- reservations -----------------------------------------------------------------------------------------
async def test_reserve_now_accepted_makes_an_active_reservation_used_by_the_next_start(station):
    await in_db(IdTokenFactory, uid="04RESV")
    async with Station(station.identity) as cp:
        command = await request(station, "ReserveNow", {
            "connectorId": 1, "idTag": "04RESV", "expiryDate": iso(timezone.now() + timedelta(minutes=15))})
        _, unique_id, _, payload = await cp.receive_call()
        reservation = await in_db(Reservation.objects.get, pk=payload["reservationId"])
        assert (reservation.state, reservation.connector_id, reservation.id_tag) == ("requested", 1, "04RESV")
        await cp.answer(unique_id, {"status": "Accepted"})
        assert (await outcome(command)).state == "accepted"
        assert (await in_db(Reservation.objects.get, pk=reservation.pk)).state == "active"

        started = await cp.result("StartTransaction", start(1, "04RESV", 0, timezone.now(),
                                                           reservationId=reservation.pk))
    assert started["idTagInfo"]["status"] == "Accepted"
    assert (await in_db(Reservation.objects.get, pk=reservation.pk)).state == "used"
    assert await in_db(ChargingSession.objects.filter(transaction_id=str(started["transactionId"])).exists)


async def test_reserve_now_answered_occupied_rejects_the_reservation(station):
    async with Station(station.identity) as cp:
        command = await request(station, "ReserveNow", {
            "connectorId": 2, "idTag": "04RESV", "expiryDate": iso(timezone.now() + timedelta(minutes=15))})
        _, unique_id, _, payload = await cp.receive_call()
        await cp.answer(unique_id, {"status": "Occupied"})
        assert (await outcome(command)).state == "rejected"
    assert (await in_db(Reservation.objects.get, pk=payload["reservationId"])).state == "rejected"
