"""Bad input from a station: every malformed frame or payload gets the OCPP 1.6 CALLERROR the spec names,
nothing half-written is stored, and the connection stays open (proved by a Heartbeat answered after it)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from stations.models import ChargePoint, ChargingSession, Connector, Evse, OcppMessage, StationEvent, StatusEvent
from stations.services import batch_reports, station_reports
from tests.factories import IdTokenFactory
from tests.stations.ocpp_helpers import Station, boot, in_db, meter_value, sampled, start, status

pytestmark = pytest.mark.asyncio


async def assert_call_error(cp: Station, reply: list, code: str, unique_id: str | None = None) -> None:
    assert reply[0] == 4, reply
    assert reply[2] == code, reply
    assert isinstance(reply[3], str) and isinstance(reply[4], dict)
    if unique_id is not None:
        assert reply[1] == unique_id
    assert await cp.heartbeat_answered(), "the connection must stay usable after bad input"


# --- framing ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("frame", ["this is not json", '[2, "id-1", "Heartbeat", {}', ""], ids=["text", "cut", "empty"])
async def test_frame_that_is_not_json_is_a_formation_violation_with_id_minus_1(station, frame):
    async with Station(station.identity) as cp:
        if frame:
            reply = await cp.send_raw(frame)
        else:  # an empty text frame (the communicator cannot send one; the consumer sees text_data="")
            await cp.comm.send_input({"type": "websocket.receive", "text": ""})
            reply = json.loads(await cp.comm.receive_from(timeout=5))
        await assert_call_error(cp, reply, "FormationViolation", "-1")


@pytest.mark.parametrize("frame", ['{"action": "Heartbeat"}', "42", '"Heartbeat"', "[]", "null"])
async def test_json_that_is_not_an_ocpp_array_is_a_formation_violation(station, frame):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.send_raw(frame), "FormationViolation", "-1")


@pytest.mark.parametrize("frame", [
    '[2, "id-7", "Heartbeat"]',  # payload missing
    '[2, "id-7", "Heartbeat", []]',  # payload not an object
    '[2, "id-7", 5, {}]',  # action not a string
    '[9, "id-7", "Heartbeat", {}]',  # unknown MessageTypeId
    '["2", "id-7", "Heartbeat", {}]',
    '[[2], "id-7", "Heartbeat", {}]',  # unhashable: once an exception that ended the connection
    '[{"2": 2}, "id-7", "Heartbeat", {}]',
], ids=["no-payload", "array-payload", "numeric-action", "type-9", "type-as-string", "type-as-array",
        "type-as-object"])
async def test_array_without_the_elements_of_a_call_is_a_formation_violation_keeping_its_id(station, frame):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.send_raw(frame), "FormationViolation", "id-7")


async def test_unique_id_longer_than_36_characters_is_a_formation_violation(station):
    async with Station(station.identity) as cp:
        reply = await cp.send_raw(json.dumps([2, "x" * 37, "Heartbeat", {}]))
        await assert_call_error(cp, reply, "FormationViolation")


async def test_frame_longer_than_the_limit_is_refused_as_formation_violation(station, settings):
    settings.OCPP_MAX_FRAME_CHARS = 2000
    async with Station(station.identity) as cp:
        oversized = json.dumps([2, "big-1", "DataTransfer", {"vendorId": "acme", "data": "x" * 2000}])
        await assert_call_error(cp, await cp.send_raw(oversized), "FormationViolation")
    assert not await in_db(station.events.exists)


async def test_binary_frame_is_a_formation_violation(station):
    async with Station(station.identity) as cp:
        reply = await cp.send_bytes(json.dumps([2, "bin-1", "Heartbeat", {}]).encode())
        await assert_call_error(cp, reply, "FormationViolation")


# --- actions ----------------------------------------------------------------------------------------------
async def test_unknown_action_is_not_implemented(station):
    async with Station(station.identity) as cp:
        reply = await cp.call("MakeCoffee", {"strength": 3})
        await assert_call_error(cp, reply, "NotImplemented", reply[1])


@pytest.mark.parametrize("action, payload", [
    ("Reset", {"type": "Soft"}), ("RemoteStartTransaction", {"idTag": "04AABB"}), ("GetConfiguration", {}),
])
async def test_central_system_action_sent_by_the_station_is_not_supported(station, action, payload):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.call(action, payload), "NotSupported")


# --- payloads failing the schema --------------------------------------------------------------------------
@pytest.mark.parametrize("action, payload", [
    ("BootNotification", {"chargePointVendor": "Alfen"}),
    ("Authorize", {}),
    ("StartTransaction", {"connectorId": 1, "idTag": "04AA", "timestamp": "2025-01-01T00:00:00Z"}),
    ("StopTransaction", {"meterStop": 10, "timestamp": "2025-01-01T00:00:00Z"}),
    ("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2025-01-01T00:00:00Z"}]}),
])
async def test_missing_required_field_is_an_occurence_constraint_violation(station, action, payload):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.call(action, payload), "OccurenceConstraintViolation")
    assert not await in_db(ChargingSession.objects.exists)


@pytest.mark.parametrize("action, payload", [
    ("BootNotification", {"chargePointVendor": 42, "chargePointModel": "Eve"}),
    ("StatusNotification", {"connectorId": "1", "status": "Available", "errorCode": "NoError"}),
    ("StartTransaction", {"connectorId": 1, "idTag": "04AA", "meterStart": "100", "timestamp": "2025-01-01T00:00:00Z"}),
    ("Authorize", {"idTag": ["04AA"]}),
    ("Authorize", {"idTag": 1.5}),  # a fractional number where text is expected
    ("StatusNotification", {"connectorId": 1.5, "status": "Available", "errorCode": "NoError"}),
], ids=["int-for-string", "string-for-int", "meter-as-string", "array", "float-for-string", "float-for-int"])
async def test_wrong_type_is_a_type_constraint_violation(station, action, payload):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.call(action, payload), "TypeConstraintViolation")


@pytest.mark.parametrize("action, payload", [
    ("StatusNotification", {"connectorId": 1, "status": "Sleeping", "errorCode": "NoError"}),
    ("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "Hiccup"}),
    ("StopTransaction", {"transactionId": 1, "meterStop": 10, "timestamp": "2025-01-01T00:00:00Z", "reason": "Bored"}),
    ("Authorize", {"idTag": "X" * 21}),  # idToken is CiString20
    ("BootNotification", {"chargePointVendor": "V" * 21, "chargePointModel": "Eve"}),
], ids=["status", "error-code", "reason", "too-long-id-tag", "too-long-vendor"])
async def test_invalid_enum_value_or_length_is_a_property_constraint_violation(station, action, payload):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.call(action, payload), "PropertyConstraintViolation")
    assert await in_db(lambda: Connector.objects.get(evse__charge_point=station, evse__ocpp_evse_id=1).status) == \
        "Unknown"


async def test_timestamp_that_is_not_a_date_time_is_a_property_constraint_violation(station):
    async with Station(station.identity) as cp:
        reply = await cp.call("StatusNotification", {"connectorId": 1, "status": "Faulted", "errorCode": "NoError",
                                                     "timestamp": "yesterday"})
        await assert_call_error(cp, reply, "PropertyConstraintViolation")
    assert not await in_db(station.status_events.exists)


async def test_meter_value_that_is_not_a_number_is_a_property_constraint_violation(station):
    async with Station(station.identity) as cp:
        reply = await cp.call("MeterValues", {"connectorId": 1, "meterValue": [
            meter_value(timezone.now(), sampled(100), sampled("lots"))]})
        await assert_call_error(cp, reply, "PropertyConstraintViolation")
    assert not await in_db(station.meter_values.exists)


async def test_extra_property_is_a_formation_violation(station):
    async with Station(station.identity) as cp:
        reply = await cp.call("BootNotification", boot("Keba", colour="red"))
        await assert_call_error(cp, reply, "FormationViolation", reply[1])
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).vendor == "Alfen"  # as before


async def test_payload_error_answers_with_the_calls_unique_id(station):
    async with Station(station.identity) as cp:
        reply = await cp.send_raw(json.dumps([2, "my-own-id", "Authorize", {}]))
        await assert_call_error(cp, reply, "OccurenceConstraintViolation", "my-own-id")


# --- handler failures -------------------------------------------------------------------------------------
async def test_handler_failing_midway_answers_internal_error_and_leaves_nothing_half_written(station, monkeypatch):
    await in_db(IdTokenFactory, uid="04AABBCC")

    def broken_event(*args, **kwargs):  # runs after the session row and the transaction counter were written
        raise RuntimeError("live event could not be built")

    monkeypatch.setattr(station_reports, "_session_event", broken_event)
    async with Station(station.identity) as cp:
        reply = await cp.call("StartTransaction", start(3, "04AABBCC", 100, timezone.now()))
        await assert_call_error(cp, reply, "InternalError", reply[1])

    assert not await in_db(ChargingSession.objects.exists)
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).last_transaction_id == 0
    assert not await in_db(Evse.objects.filter(charge_point=station, ocpp_evse_id=3).exists)  # connector 3 too


async def test_station_keeps_working_normally_after_a_handler_failure(station, monkeypatch):
    calls = {"n": 0}
    original = batch_reports._status_event

    def fails_once(report):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        return original(report)

    monkeypatch.setattr(batch_reports, "_status_event", fails_once)
    async with Station(station.identity) as cp:
        moment = timezone.now() - timedelta(seconds=5)
        assert (await cp.call("StatusNotification", status(1, "Charging", at=moment)))[2] == "InternalError"
        assert await cp.result("StatusNotification", status(1, "Charging", at=moment)) == {}  # the station retries
    assert await in_db(lambda: Connector.objects.get(evse__charge_point=station, evse__ocpp_evse_id=1).status) == \
        "Charging"


@pytest.mark.parametrize("action, payload", [
    ("StartTransaction", start(0, "04AABBCC", 0, timezone.now())),  # a transaction is on a connector > 0
    ("StatusNotification", status(-1, "Available")),
    ("MeterValues", {"connectorId": -2, "meterValue": [meter_value(timezone.now(), sampled(1))]}),
], ids=["start-on-0", "status-negative", "meter-negative"])
async def test_connector_id_out_of_range_is_a_property_constraint_violation(station, action, payload):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.call(action, payload), "PropertyConstraintViolation")
    assert await in_db(Evse.objects.filter(charge_point=station).count) == 2


# --- the NUL character, which no database column takes --------------------------------------------------
async def test_a_raw_nul_is_a_formation_violation_and_the_frame_is_still_journaled(station):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.send_raw('[2, "nul-1", "Heartbeat", {"x": "a\x00b"}]'),
                                "FormationViolation", "-1")
    frames = await in_db(lambda: list(OcppMessage.objects.filter(direction="in").values_list("frame", flat=True)))
    assert '[2, "nul-1", "Heartbeat", {"x": "a\ufffdb"}]' in frames  # kept, with U+FFFD in its place


@pytest.mark.parametrize("frame", [
    '[2, "nul-2", "DataTransfer", {"vendorId": "acme", "data": "a\\u0000b"}]',
    '[2, "nul-2", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available", '
    '"info": "\\u0000"}]',
    '[2, "nul-2", "Authorize", {"idTag": "TAG\\u0000"}]',
], ids=["data-transfer", "status-info", "id-tag"])
async def test_an_escaped_nul_in_a_payload_is_a_property_violation_and_nothing_is_stored(station, frame):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.send_raw(frame), "PropertyConstraintViolation", "nul-2")
    assert not await in_db(StationEvent.objects.exists)
    assert not await in_db(StatusEvent.objects.exists)
    journaled = await in_db(lambda: list(OcppMessage.objects.filter(unique_id="nul-2").values_list("direction",
                                                                                                     flat=True)))
    assert sorted(journaled) == ["in", "out"]


async def test_an_escaped_nul_in_the_unique_id_is_answered_with_id_minus_1(station):
    async with Station(station.identity) as cp:
        await assert_call_error(cp, await cp.send_raw('[2, "nul\\u0000", "Heartbeat", {}]'),
                                "PropertyConstraintViolation", "-1")
