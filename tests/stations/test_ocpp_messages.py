"""Messages a 1.6 station sends outside of sessions: BootNotification, Heartbeat, StatusNotification,
Authorize, DataTransfer, firmware/diagnostics/security notifications; the live events and the journal."""

import asyncio
from datetime import timedelta

import pytest
from channels.layers import get_channel_layer
from django.utils import timezone

from customers.models import Customer, IdToken
from stations.models import ChargePoint, Connector, OcppMessage, StationEvent, StatusEvent
from stations.protocol.journal import journal
from tests.factories import ChargePointFactory, ChargingSessionFactory, IdTokenFactory
from tests.stations.ocpp_helpers import Station, boot, in_db, parse_iso, start, status, stop

pytestmark = pytest.mark.asyncio


def connector(station: ChargePoint, number: int) -> Connector:
    return Connector.objects.get(evse__charge_point=station, evse__ocpp_evse_id=number)


# --- BootNotification and Heartbeat -----------------------------------------------------------------------
async def test_cold_boot_is_accepted_with_the_configured_interval_and_records_the_station(station, settings):
    settings.OCPP_HEARTBEAT_INTERVAL_S = 123
    async with Station(station.identity) as cp:
        answer = await cp.result("BootNotification", boot(
            "Wallbox", "Commander 2", chargePointSerialNumber="WB-0042", firmwareVersion="5.17.3",
            iccid="8949000000000000001", meterType="EM340",
        ))
    assert answer["status"] == "Accepted"
    assert answer["interval"] == 123
    assert abs(parse_iso(answer["currentTime"]) - timezone.now()) < timedelta(seconds=5)

    booted = await in_db(ChargePoint.objects.get, pk=station.pk)
    assert (booted.vendor, booted.model, booted.serial_number, booted.firmware_version) == (
        "Wallbox", "Commander 2", "WB-0042", "5.17.3")
    assert (booted.iccid, booted.meter_type) == ("8949000000000000001", "EM340")
    assert await in_db(StationEvent.objects.filter(charge_point=station, kind="boot").exists)


async def test_cold_boot_reads_the_serial_from_charge_box_serial_number_too(station):
    async with Station(station.identity) as cp:
        await cp.result("BootNotification", boot(chargeBoxSerialNumber="BOX-7"))
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).serial_number == "BOX-7"


@pytest.mark.parametrize("registration", ["Pending", "Rejected"])
async def test_cold_boot_of_a_station_not_yet_accepted_is_answered_with_its_registration_status(
        station, registration):
    await in_db(ChargePoint.objects.filter(pk=station.pk).update, registration_status=registration)
    async with Station(station.identity) as cp:
        answer = await cp.result("BootNotification", boot())
    assert answer["status"] == registration
    assert 0 < answer["interval"] <= 60  # asks again soon


async def test_heartbeat_answers_the_current_time_and_updates_last_seen(station):
    async with Station(station.identity) as cp:
        await cp.result("BootNotification", boot())
        long_ago = timezone.now() - timedelta(hours=1)
        await in_db(ChargePoint.objects.filter(pk=station.pk).update, last_seen_at=long_ago)
        answer = await cp.result("Heartbeat", {})
    assert abs(parse_iso(answer["currentTime"]) - timezone.now()) < timedelta(seconds=5)
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).last_seen_at > long_ago + timedelta(minutes=59)


# --- StatusNotification -----------------------------------------------------------------------------------
async def test_status_notification_sets_the_connector_status_and_keeps_history(station):
    t0 = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    async with Station(station.identity) as cp:
        assert await cp.result("StatusNotification", status(1, "Preparing", at=t0)) == {}
        await cp.result("StatusNotification", status(1, "Faulted", "GroundFailure", at=t0 + timedelta(minutes=1),
                                                     info="RCD tripped", vendorErrorCode="E-17"))

    plug = await in_db(connector, station, 1)
    assert (plug.status, plug.error_code, plug.status_changed_at) == ("Faulted", "GroundFailure",
                                                                      t0 + timedelta(minutes=1))
    history = await in_db(lambda: list(StatusEvent.objects.filter(connector=plug).order_by("timestamp")))
    assert [(e.status, e.error_code) for e in history] == [("Preparing", "NoError"), ("Faulted", "GroundFailure")]
    assert (history[1].info, history[1].vendor_error_code) == ("RCD tripped", "E-17")
    assert (await in_db(connector, station, 2)).status == "Unknown"


async def test_status_notification_for_connector_0_is_the_stations_own_status(station):
    async with Station(station.identity) as cp:
        await cp.result("StatusNotification", status(0, "Unavailable", at=timezone.now()))
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).status == "Unavailable"
    assert (await in_db(connector, station, 1)).status == "Unknown"
    assert await in_db(StatusEvent.objects.filter(charge_point=station, connector=None, status="Unavailable").exists)


async def test_status_notification_without_timestamp_uses_the_arrival_time(station):
    async with Station(station.identity) as cp:
        await cp.result("StatusNotification", status(1, "Available"))
    plug = await in_db(connector, station, 1)
    assert plug.status == "Available"
    assert abs(plug.status_changed_at - timezone.now()) < timedelta(seconds=5)


async def test_late_status_notification_goes_into_history_without_overriding_the_current_status(station):
    now = timezone.now().replace(microsecond=0)
    async with Station(station.identity) as cp:
        await cp.result("StatusNotification", status(1, "Charging", at=now))
        # queued while offline, delivered after the newer one
        await cp.result("StatusNotification", status(1, "Preparing", at=now - timedelta(minutes=3)))

    plug = await in_db(connector, station, 1)
    assert (plug.status, plug.status_changed_at) == ("Charging", now)
    assert await in_db(StatusEvent.objects.filter(connector=plug, status="Preparing").exists)


async def test_status_notification_for_an_unknown_connector_creates_it_and_flags_it(station):
    async with Station(station.identity) as cp:
        await cp.result("StatusNotification", status(3, "Available", at=timezone.now()))
    added = await in_db(connector, station, 3)
    assert added.status == "Available"
    assert added.standard == ""  # not described by the operator yet
    assert await in_db(StationEvent.objects.filter(charge_point=station, needs_review=True,
                                                   summary__contains="connector 3").exists)


# --- Authorize --------------------------------------------------------------------------------------------
async def authorize(station, id_tag: str) -> dict:
    async with Station(station.identity) as cp:
        return (await cp.result("Authorize", {"idTag": id_tag}))["idTagInfo"]


async def test_authorize_valid_tag_is_accepted_with_parent_id_and_expiry(station):
    expires = timezone.now().replace(microsecond=0) + timedelta(days=30)
    await in_db(IdTokenFactory, uid="04AABBCC", group_id="FLEET-7", expires_at=expires)
    info = await authorize(station, "04AABBCC")
    assert info["status"] == "Accepted"
    assert info["parentIdTag"] == "FLEET-7"
    assert parse_iso(info["expiryDate"]) == expires


async def test_authorize_valid_tag_in_lower_case_matches_the_card(station):
    await in_db(IdTokenFactory, uid="04AABBCC")
    assert (await authorize(station, "04aabbcc"))["status"] == "Accepted"


async def test_authorize_invalid_for_an_unknown_tag(station):
    assert await authorize(station, "DEADBEEF") == {"status": "Invalid"}


async def test_authorize_blocked_tag(station):
    await in_db(IdTokenFactory, uid="04BLOCKED", status=IdToken.Status.BLOCKED)
    assert (await authorize(station, "04BLOCKED"))["status"] == "Blocked"


async def test_authorize_expired_by_status(station):
    await in_db(IdTokenFactory, uid="04EXPIRED", status=IdToken.Status.EXPIRED)
    assert (await authorize(station, "04EXPIRED"))["status"] == "Expired"


async def test_authorize_expired_by_expiry_date_in_the_past(station):
    await in_db(IdTokenFactory, uid="04OLD", expires_at=timezone.now() - timedelta(minutes=1))
    assert (await authorize(station, "04OLD"))["status"] == "Expired"


async def test_authorize_blocked_when_the_customer_is_suspended(station):
    token = await in_db(IdTokenFactory, uid="04SUSP")
    await in_db(Customer.objects.filter(pk=token.customer_id).update, status=Customer.Status.SUSPENDED)
    assert (await authorize(station, "04SUSP"))["status"] == "Blocked"


async def test_authorize_concurrent_tx_for_a_tag_already_charging(station):
    token = await in_db(IdTokenFactory, uid="04BUSY")
    await in_db(lambda: ChargingSessionFactory(connector=connector(station, 2), id_token=token))
    assert (await authorize(station, "04BUSY"))["status"] == "ConcurrentTx"


# --- other notifications ----------------------------------------------------------------------------------
async def test_data_transfer_is_answered_unknown_vendor_id_and_recorded(station):
    async with Station(station.identity) as cp:
        answer = await cp.result("DataTransfer", {"vendorId": "com.acme", "messageId": "Hello", "data": "{\"a\":1}"})
    assert answer == {"status": "UnknownVendorId"}
    event = await in_db(StationEvent.objects.get, charge_point=station, kind="data_transfer")
    assert event.payload == {"vendor_id": "com.acme", "message_id": "Hello", "data": "{\"a\":1}"}


@pytest.mark.parametrize("state, flagged", [("Downloading", False), ("InstallationFailed", True)])
async def test_firmware_status_notification_is_recorded(station, state, flagged):
    async with Station(station.identity) as cp:
        assert await cp.result("FirmwareStatusNotification", {"status": state}) == {}
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).firmware_status == state
    event = await in_db(StationEvent.objects.get, charge_point=station, kind="firmware_status")
    assert (event.summary, event.needs_review) == (state, flagged)


@pytest.mark.parametrize("state, flagged", [("Uploaded", False), ("UploadFailed", True)])
async def test_diagnostics_status_notification_is_recorded(station, state, flagged):
    async with Station(station.identity) as cp:
        assert await cp.result("DiagnosticsStatusNotification", {"status": state}) == {}
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).diagnostics_status == state
    event = await in_db(StationEvent.objects.get, charge_point=station, kind="diagnostics_status")
    assert event.needs_review is flagged


@pytest.mark.parametrize("event_type, critical", [("TamperDetectionActivated", True), ("DoorOpened", False)])
async def test_security_event_notification_is_recorded_and_critical_ones_flagged(station, event_type, critical):
    happened = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    async with Station(station.identity) as cp:
        payload = {"type": event_type, "timestamp": happened.isoformat(), "techInfo": "sensor 2"}
        assert await cp.result("SecurityEventNotification", payload) == {}
    event = await in_db(StationEvent.objects.get, charge_point=station, kind="security_event")
    assert (event.summary, event.timestamp, event.needs_review) == (event_type, happened, critical)
    assert event.payload["tech_info"] == "sensor 2"


# --- live events ------------------------------------------------------------------------------------------
async def next_event(layer, channel: str, kind: str) -> dict:
    while True:
        event = await asyncio.wait_for(layer.receive(channel), 5)
        if event["type"] == kind:
            return event


async def test_status_and_session_start_are_published_to_the_station_group_and_the_dashboard(station):
    layer = get_channel_layer()
    station_listener, dashboard_listener = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(f"station.{station.identity}", station_listener)
    await layer.group_add("dashboard", dashboard_listener)
    await in_db(IdTokenFactory, uid="04LIVE")

    async with Station(station.identity) as cp:
        await cp.result("StatusNotification", status(1, "Charging", at=timezone.now()))
        started = await cp.result("StartTransaction", start(1, "04LIVE", 100, timezone.now()))

    for listener in (station_listener, dashboard_listener):
        changed = await next_event(layer, listener, "station.status")
        assert (changed["identity"], changed["connector_id"], changed["status"]) == (station.identity, 1, "Charging")
        session = await next_event(layer, listener, "session.started")
        assert session["transaction_id"] == str(started["transactionId"])



async def test_session_stop_is_published_with_its_energy_to_the_station_group_and_the_drivers_group(station):
    layer = get_channel_layer()
    station_listener, customer_listener = await layer.new_channel(), await layer.new_channel()
    token = await in_db(IdTokenFactory, uid="04LIVE")
    await layer.group_add(f"station.{station.identity}", station_listener)
    await layer.group_add(f"customer.{token.customer_id}", customer_listener)

    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04LIVE", 100, timezone.now()))
        await cp.result("StopTransaction", stop(started["transactionId"], 2600, timezone.now()))

    for listener in (station_listener, customer_listener):
        stopped = await next_event(layer, listener, "session.stopped")
        assert (stopped["identity"], stopped["transaction_id"], stopped["energy_wh"]) == (
            station.identity, str(started["transactionId"]), 2500)


# --- journal ----------------------------------------------------------------------------------------------
async def test_every_frame_in_and_out_is_journaled_with_its_action(station):
    async with Station(station.identity) as cp:
        await cp.result("BootNotification", boot())
        await cp.call("NoSuchAction", {})
        await cp.send_raw("not json")
    await journal.flush()

    rows = await in_db(lambda: list(OcppMessage.objects.filter(charge_point=station).order_by("created_at", "id")))
    seen = [(m.direction, m.message_type, m.action) for m in rows]
    assert seen == [
        ("in", 2, "BootNotification"), ("out", 3, "BootNotification"),
        ("in", 2, "NoSuchAction"), ("out", 4, "NoSuchAction"),
        ("in", None, ""), ("out", 4, ""),
    ]
    assert rows[0].unique_id == rows[1].unique_id
    assert rows[4].frame == "not json"
    assert '"FormationViolation"' in rows[5].frame


async def test_journal_keeps_the_other_stations_frames_when_a_station_was_deleted_meanwhile(station):
    onboarding = await in_db(ChargePointFactory, identity="CP-REFUSED-1")
    refused_pk = onboarding.pk
    # The operator refused it while its frames waited to be written. Deleted first and then queued, so the
    # frame surely meets a missing station: the other order races the writer's own flush (on PostgreSQL the
    # frame could be written first, and then the delete, not the journal, fails).
    await in_db(onboarding.delete)
    journal.record(refused_pk, "in", raw='[2, "x-1", "Heartbeat", {}]')
    async with Station(station.identity) as cp:
        await cp.result("Heartbeat", {})
    await journal.flush()
    assert await in_db(OcppMessage.objects.filter(charge_point=station).count) == 2
