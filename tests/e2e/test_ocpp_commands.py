"""Operator commands over a real websocket: stations.commands sends each OCPP 1.6 operation through the real
server to a simulated station, which answers and acts as a real one does, and the outcome is recorded
(OCPP 1.6 certification scenarios: configuration, availability, reset, firmware, diagnostics, local list,
reservation, smart charging, remote trigger, data transfer)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from customers.models import IdToken
from stations.commands import command_request_for_operator
from stations.models import (
    ChargePoint,
    ChargingSession,
    LocalListEntry,
    MeterValue,
    Reservation,
    StationCommand,
    StationEvent,
    StatusEvent,
)
from stations.simulator import Clock, SimulatedStation
from stations.simulator.clock import iso
from tests.e2e.conftest import STATION_PASSWORD, four_minutes_at_11_kw, parked_for_hours, request_command

pytestmark = pytest.mark.e2e
ACCEPTED, REJECTED = StationCommand.State.ACCEPTED, StationCommand.State.REJECTED


@pytest.fixture
def station(registered_station, ocpp_url):
    return SimulatedStation(registered_station.identity, ocpp_url, STATION_PASSWORD, connectors=2,
                            clock=Clock(120), plans=parked_for_hours)


@pytest.fixture
def send(registered_station, eventually):
    """Request a command and wait until the station's answer is recorded; returns the command row."""

    def send(action: str, payload: dict, *, service=None) -> StationCommand:
        extra = {"service": service} if service else {}
        charge_point = ChargePoint.objects.get(pk=registered_station.pk)  # as the API and admin read it
        command = request_command(charge_point=charge_point, action=action, payload=payload, **extra)
        return eventually(lambda: StationCommand.objects.filter(
            pk=command.pk, state__in=StationCommand.FINAL_STATES).first(), what=f"the answer to {action}")

    return send


def statuses(charge_point, connector_id: int) -> list[str]:
    events = StatusEvent.objects.filter(charge_point=charge_point, connector__evse__ocpp_evse_id=connector_id)
    return list(events.order_by("timestamp", "id").values_list("status", flat=True))


def test_get_configuration_and_change_configuration_with_valid_invalid_and_read_only_keys(
        registered_station, station, station_thread, send):
    with station_thread(station):
        some = send("GetConfiguration", {"key": ["HeartbeatInterval", "MeterValueSampleInterval", "NoSuchKey"]})
        everything = send("GetConfiguration", {})
        changed = send("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"})
        unknown = send("ChangeConfiguration", {"key": "NoSuchKey", "value": "1"})
        read_only = send("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "4"})
        not_a_number = send("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "often"})

    assert some.state == ACCEPTED and some.response["unknownKey"] == ["NoSuchKey"]
    values = {entry["key"]: entry["value"] for entry in some.response["configurationKey"]}
    # The station adopted the heartbeat interval the server answered at boot.
    assert values == {"HeartbeatInterval": str(settings.OCPP_HEARTBEAT_INTERVAL_S), "MeterValueSampleInterval": "60"}
    keys = {entry["key"]: entry for entry in everything.response["configurationKey"]}
    assert {"AuthorizeRemoteTxRequests", "LocalAuthListEnabled", "LocalAuthListMaxLength", "ConnectionTimeOut",
            "MeterValuesSampledData", "SupportedFeatureProfiles"} <= set(keys)
    assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True, "value": "2"}
    assert (changed.state, changed.response) == (ACCEPTED, {"status": "Accepted"})
    assert station.config.int("MeterValueSampleInterval") == 30
    assert (unknown.state, unknown.response) == (REJECTED, {"status": "NotSupported"})
    assert (read_only.state, read_only.response) == (REJECTED, {"status": "Rejected"})
    assert (not_a_number.state, not_a_number.response) == (REJECTED, {"status": "Rejected"})


def test_change_availability_unlock_clear_cache_and_unknown_data_transfer(
        registered_station, station, station_thread, send, eventually):
    with station_thread(station):
        inoperative = send("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
        eventually(lambda: statuses(registered_station, 2)[-1:] == ["Unavailable"], what="Unavailable")
        operative = send("ChangeAvailability", {"connectorId": 2, "type": "Operative"})
        eventually(lambda: statuses(registered_station, 2)[-1:] == ["Available"], what="Available again")
        unlocked = send("UnlockConnector", {"connectorId": 1})
        no_such_connector = send("UnlockConnector", {"connectorId": 9})
        cleared = send("ClearCache", {})
        transfer = send("DataTransfer", {"vendorId": "com.example", "messageId": "hello"})

    assert inoperative.state == operative.state == ACCEPTED
    assert statuses(registered_station, 2) == ["Available", "Unavailable", "Available"]
    assert (unlocked.state, unlocked.response) == (ACCEPTED, {"status": "Unlocked"})
    assert (no_such_connector.state, no_such_connector.response) == (REJECTED, {"status": "NotSupported"})
    assert (cleared.state, cleared.response) == (ACCEPTED, {"status": "Accepted"})
    assert transfer.response == {"status": "UnknownVendorId"}


def test_soft_reset_stops_the_running_session_and_the_station_boots_again(
        registered_station, valid_tag, station, station_thread, send, eventually):
    with station_thread(station):
        assert send("RemoteStartTransaction", {"connectorId": 1, "idTag": valid_tag}).state == ACCEPTED
        eventually(lambda: (s := station.connectors[1].session) and s.transaction_id, what="charging")
        reset = send("Reset", {"type": "Soft"})
        session = eventually(lambda: ChargingSession.objects.filter(
            charge_point=registered_station, state=ChargingSession.State.COMPLETED).first(), what="the stop")
        eventually(lambda: StationEvent.objects.filter(charge_point=registered_station,
                                                       kind=StationEvent.Kind.BOOT).count() == 2, what="reboot")
        eventually(lambda: station.is_connected and ChargePoint.objects.get(pk=registered_station.pk).is_connected,
                   what="the station to be back online")

    assert (reset.state, reset.response) == (ACCEPTED, {"status": "Accepted"})
    assert session.stop_reason == "SoftReset"


def test_firmware_update_and_diagnostics_report_their_progress(registered_station, station, station_thread, send,
                                                                eventually):
    with station_thread(station):
        update = send("UpdateFirmware", {"location": "https://firmware.example/eve-6.5.0.bin",
                                         "retrieveDate": iso(datetime.now(UTC))})
        diagnostics = send("GetDiagnostics", {"location": "ftp://diagnostics.example/upload/"})
        station_row = eventually(lambda: ChargePoint.objects.filter(
            pk=registered_station.pk, firmware_status="Installed", diagnostics_status="Uploaded").first(),
            what="firmware installed and diagnostics uploaded")

    assert update.state == diagnostics.state == ACCEPTED
    assert diagnostics.response["fileName"].startswith(registered_station.identity)
    events = StationEvent.objects.filter(charge_point=station_row).order_by("timestamp", "id")
    assert list(events.filter(kind=StationEvent.Kind.FIRMWARE_STATUS).values_list("summary", flat=True)) == [
        "Downloading", "Downloaded", "Installing", "Installed"]
    assert list(events.filter(kind=StationEvent.Kind.DIAGNOSTICS_STATUS).values_list("summary", flat=True)) == [
        "Uploading", "Uploaded"]
    assert station.firmware_version == "eve-6.5.0"


def test_local_list_is_sent_in_full_then_as_a_differential_update(
        registered_station, valid_tag, station, station_thread, send):
    with station_thread(station):
        full = send("SendLocalList", {"updateType": "Full"}, service=command_request_for_operator)
        version = send("GetLocalListVersion", {})
        IdToken.objects.filter(uid=valid_tag).update(status=IdToken.Status.BLOCKED)
        differential = send("SendLocalList", {"updateType": "Differential"}, service=command_request_for_operator)
        stale = send("SendLocalList", {"listVersion": 1, "updateType": "Differential",
                                       "localAuthorizationList": []})

    assert full.state == differential.state == ACCEPTED
    assert version.response == {"listVersion": 1}
    assert station.local_list_version == 2 and station.local_list[valid_tag]["status"] == "Blocked"
    assert LocalListEntry.objects.get(charge_point=registered_station, id_tag=valid_tag).status == "Blocked"
    assert (stale.state, stale.response) == (REJECTED, {"status": "VersionMismatch"})


def test_reservation_holds_the_connector_until_it_is_cancelled(
        registered_station, valid_tag, station, station_thread, send, eventually):
    expiry = iso(datetime.now(UTC) + timedelta(hours=1))
    with station_thread(station):
        reserved = send("ReserveNow", {"connectorId": 1, "expiryDate": expiry, "idTag": valid_tag})
        eventually(lambda: statuses(registered_station, 1)[-1:] == ["Reserved"], what="Reserved")
        taken = send("ReserveNow", {"connectorId": 1, "expiryDate": expiry, "idTag": "04AAAAAAAAAAAA"})
        cancelled = send("CancelReservation", {"reservationId": reserved.payload["reservationId"]})
        eventually(lambda: statuses(registered_station, 1)[-1:] == ["Available"], what="Available again")
        unknown = send("CancelReservation", {"reservationId": 424242})

    assert reserved.state == cancelled.state == ACCEPTED
    assert (taken.state, taken.response) == (REJECTED, {"status": "Occupied"})
    assert Reservation.objects.get(pk=reserved.payload["reservationId"]).state == Reservation.State.CANCELLED
    assert Reservation.objects.get(pk=taken.payload["reservationId"]).state == Reservation.State.REJECTED
    assert (unknown.state, unknown.response) == (REJECTED, {"status": "Rejected"})
    assert statuses(registered_station, 1) == ["Available", "Reserved", "Available"]


def test_charging_profile_limits_power_and_shapes_the_composite_schedule(
        registered_station, valid_tag, station, station_thread, send):
    start = iso(timezone.now() - timedelta(minutes=1))
    profile = {"chargingProfileId": 7, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Absolute", "chargingSchedule": {
                   "startSchedule": start, "chargingRateUnit": "A",
                   "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}, {"startPeriod": 1800, "limit": 6.0}]}}
    with station_thread(station) as running:
        installed = send("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
        schedule = send("GetCompositeSchedule", {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"})
        session = running.run(station.charge(1, valid_tag, plan=four_minutes_at_11_kw()))
        cleared = send("ClearChargingProfile", {"id": 7})
        unlimited = send("GetCompositeSchedule", {"connectorId": 1, "duration": 600, "chargingRateUnit": "W"})
        nothing_left = send("ClearChargingProfile", {"id": 7})

    assert installed.state == schedule.state == cleared.state == ACCEPTED
    periods = schedule.response["chargingSchedule"]["chargingSchedulePeriod"]
    assert [(p["limit"], p["numberPhases"]) for p in periods] == [(10.0, 3), (6.0, 3)]
    assert 1700 <= periods[1]["startPeriod"] <= 1741  # 30 minutes after the profile's start, a minute ago
    # 10 A on three phases of 230 V: the 11 kW car draws 6.9 kW.
    powers = MeterValue.objects.filter(session__transaction_id=str(session.transaction_id),
                                       session__charge_point=registered_station, measurand="Power.Active.Import")
    assert {int(v) for v in powers.values_list("value", flat=True)} == {6900}
    assert unlimited.response["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 22000.0,
                                                                                 "numberPhases": 3}]
    assert (nothing_left.state, nothing_left.response) == (REJECTED, {"status": "Unknown"})


def test_trigger_message_makes_the_station_send_the_requested_message(
        registered_station, station, station_thread, send, eventually):
    with station_thread(station):
        boots_before = StationEvent.objects.filter(charge_point=registered_station, kind="boot").count()
        status = send("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1})
        eventually(lambda: len(statuses(registered_station, 1)) == 2, what="the triggered StatusNotification")
        meter = send("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 2})
        eventually(lambda: MeterValue.objects.filter(charge_point=registered_station, context="Trigger").exists(),
                   what="the triggered MeterValues")
        boot = send("TriggerMessage", {"requestedMessage": "BootNotification"})
        eventually(lambda: StationEvent.objects.filter(charge_point=registered_station, kind="boot").count()
                   == boots_before + 1, what="the triggered BootNotification")
        no_connector = send("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 7})

    assert status.state == meter.state == boot.state == ACCEPTED
    triggered = MeterValue.objects.filter(charge_point=registered_station, context="Trigger")
    assert {v.connector.evse.ocpp_evse_id for v in triggered} == {2}
    assert triggered.get(measurand="Energy.Active.Import.Register").value == int(station.connectors[2].meter_wh)
    assert (no_connector.state, no_connector.response) == (REJECTED, {"status": "Rejected"})
