"""The station view (the charge point's admin page): what it shows, the guided command forms behind its
buttons, and its live socket."""

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evbackoffice.asgi import application
from stations.models import MeterValue, OcppMessage, StationCommand, StationEvent, StatusEvent
from tests.factories import (
    ChargePointFactory,
    ChargingSessionFactory,
    ConnectorFactory,
    EvseFactory,
    StaffUserFactory,
    UserFactory,
)


def change_url(station) -> str:
    return reverse("admin:stations_chargepoint_change", args=[station.pk])


def command_url(station, action: str, **query) -> str:
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    return reverse("admin:stations_chargepoint_command", args=[station.pk]) + f"?action={action}{extra}"


@pytest.fixture
def station(db):
    station = ChargePointFactory(identity="CP-VIEW", is_connected=True, firmware_version="6.1.2")
    for number in (1, 2):
        ConnectorFactory(evse=EvseFactory(charge_point=station, ocpp_evse_id=number))
    return station


@pytest.mark.django_db
def test_the_station_view_shows_sessions_errors_journal_and_known_configuration(admin_client, station):
    connector = station.evses.get(ocpp_evse_id=1).connectors.get()
    session = ChargingSessionFactory(connector=connector, transaction_id="4711")
    now = timezone.now()
    MeterValue.objects.create(session=session, charge_point=station, connector=connector, timestamp=now,
                              measurand="Energy.Active.Import.Register", value=Decimal(1_012_345), unit="Wh")
    MeterValue.objects.create(session=session, charge_point=station, connector=connector, timestamp=now,
                              measurand="Power.Active.Import", value=Decimal(11_040), unit="W")
    StatusEvent.objects.create(charge_point=station, connector=connector, status="Faulted",
                               error_code="GroundFailure", timestamp=now)
    StationEvent.objects.create(charge_point=station, kind="unmatched_stop", summary="tx 99 unknown",
                                needs_review=True)
    OcppMessage.objects.create(charge_point=station, direction="in", message_type=2, action="Heartbeat", frame="[]")
    StationCommand.objects.create(charge_point=station, action="GetConfiguration", payload={}, state="accepted",
                                  completed_at=now, response={"configurationKey": [
                                      {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                                      {"key": "NumberOfConnectors", "readonly": True, "value": "2"}]})

    page = admin_client.get(change_url(station)).content.decode()

    assert "Error:" not in page and "Please correct" not in page
    assert "6.1.2" in page and 'data-identity="CP-VIEW"' in page and "station.js" in page
    assert f'data-session="{session.pk}"' in page and 'data-wh="12345"' in page and 'data-w="11040"' in page
    assert "GroundFailure" in page and "tx 99 unknown" in page and "Heartbeat" in page
    assert "HeartbeatInterval" in page and "action=ChangeConfiguration&amp;key=HeartbeatInterval" in page
    assert "action=ChangeConfiguration&amp;key=NumberOfConnectors" not in page  # read-only key
    assert reverse("admin:stations_ocppmessage_changelist") + "?q=CP-VIEW" in page
    for action in ("RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector",
                   "ChangeAvailability", "ChangeConfiguration", "TriggerMessage", "UpdateFirmware", "GetDiagnostics",
                   "SendLocalList", "ReserveNow", "SetChargingProfile", "GetConfiguration"):
        assert f"?action={action}" in page


@pytest.mark.django_db
def test_the_station_view_costs_the_same_queries_with_more_history(admin_client, station,
                                                                   django_assert_max_num_queries):
    with django_assert_max_num_queries(40) as few:
        admin_client.get(change_url(station))
    connector = station.evses.get(ocpp_evse_id=2).connectors.get()
    for _ in range(30):
        OcppMessage.objects.create(charge_point=station, direction="in", action="Heartbeat", frame="[]")
        StatusEvent.objects.create(charge_point=station, connector=connector, status="Faulted",
                                   error_code="OtherError", timestamp=timezone.now())
        StationCommand.objects.create(charge_point=station, action="ClearCache", state="offline",
                                      completed_at=timezone.now())
    ChargingSessionFactory(connector=connector)

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(change_url(station)).status_code == 200


@pytest.mark.django_db
def test_a_charging_limit_in_kw_becomes_a_station_wide_charging_profile(admin_client, station):
    response = admin_client.post(command_url(station, "SetChargingProfile"), {"connector": "0", "limit_kw": "11"})

    assert response.status_code == 302 and response["Location"] == change_url(station) + "#commands"
    profile = StationCommand.objects.get().payload["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 11000}]


@pytest.mark.django_db
def test_a_connector_limit_applies_to_each_new_session_on_it(admin_client, station):
    admin_client.post(command_url(station, "SetChargingProfile"), {"connector": "2", "limit_kw": "3.7"})

    payload = StationCommand.objects.get().payload
    assert payload["connectorId"] == 2
    assert payload["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"
    assert payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 3700


@pytest.mark.django_db
@pytest.mark.parametrize("action, data", [
    ("Reset", {"type": "Hard"}),
    ("UnlockConnector", {"connector": "1"}),
    ("ChangeAvailability", {"connector": "0", "type": "Inoperative"}),
    ("UpdateFirmware", {"location": "https://fw.example.com/6.2.bin"}),
])
def test_disruptive_commands_are_sent_only_once_confirmed(admin_client, station, action, data):
    refused = admin_client.post(command_url(station, action), data)
    assert refused.status_code == 200 and "tick the confirmation box" in refused.content.decode()
    assert not StationCommand.objects.exists()

    confirmed = admin_client.post(command_url(station, action), {**data, "confirm": "on"})

    assert confirmed.status_code == 302
    assert StationCommand.objects.get().action == action


@pytest.mark.django_db
def test_making_a_connector_operative_again_needs_no_confirmation(admin_client, station):
    admin_client.post(command_url(station, "ChangeAvailability"), {"connector": "1", "type": "Operative"})

    assert StationCommand.objects.get().payload == {"connectorId": 1, "type": "Operative"}


@pytest.mark.django_db
def test_remote_stop_lists_the_running_sessions_and_stops_the_chosen_one(admin_client, station):
    ChargingSessionFactory(connector=station.evses.get(ocpp_evse_id=1).connectors.get(), transaction_id="77")
    form = admin_client.get(command_url(station, "RemoteStopTransaction")).content.decode()
    assert "tx 77 on EVSE 1" in form

    admin_client.post(command_url(station, "RemoteStopTransaction"), {"transaction": "77", "confirm": "on"})

    assert StationCommand.objects.get().payload == {"transactionId": 77}


@pytest.mark.django_db
def test_reserve_and_remote_start_and_configuration_change_build_their_requests(admin_client, station):
    admin_client.post(command_url(station, "RemoteStartTransaction"), {"connector": "2", "id_tag": "04A1B2C3"})
    admin_client.post(command_url(station, "ChangeConfiguration"), {"key": "HeartbeatInterval", "value": "600"})
    admin_client.post(command_url(station, "ReserveNow"), {"connector": "1", "id_tag": "04A1B2C3", "minutes": "15"})
    admin_client.post(command_url(station, "GetConfiguration"), {})

    payloads = {c.action: c.payload for c in StationCommand.objects.all()}
    assert payloads["RemoteStartTransaction"] == {"connectorId": 2, "idTag": "04A1B2C3"}
    assert payloads["ChangeConfiguration"] == {"key": "HeartbeatInterval", "value": "600"}
    assert payloads["ReserveNow"]["reservationId"] and payloads["ReserveNow"]["expiryDate"].endswith("Z")
    assert payloads["GetConfiguration"] == {}


@pytest.mark.django_db
def test_bad_input_on_a_guided_form_is_a_form_error_not_a_crash(admin_client, station):
    for action, data in (("SetChargingProfile", {"connector": "9", "limit_kw": "-1"}),
                         ("UpdateFirmware", {"location": "not a url", "confirm": "on"}),
                         ("ReserveNow", {"connector": "1", "id_tag": "", "minutes": "100000"}),
                         ("RemoteStopTransaction", {"transaction": "abc", "confirm": "on"})):
        response = admin_client.post(command_url(station, action), data)
        assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not StationCommand.objects.exists()


@pytest.mark.django_db
def test_commands_need_the_change_permission_and_a_csrf_token(station):
    viewer = StaffUserFactory(is_superuser=False)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_chargepoint"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)

    page = client.get(change_url(station)).content.decode()
    assert page.count("?action=Reset") == 0  # no buttons for those who may only look
    assert client.post(command_url(station, "ClearCache")).status_code == 403

    client.force_login(StaffUserFactory())
    assert client.post(command_url(station, "ClearCache")).status_code == 403  # no CSRF token
    assert not StationCommand.objects.exists()


# --- live -------------------------------------------------------------------------------------------------
def station_socket(client: Client, identity: str) -> WebsocketCommunicator:
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return WebsocketCommunicator(application, f"/ws/live/?station={identity}",
                                 headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_station_socket_carries_that_stations_readings_and_command_answers_only():
    client = Client()
    await sync_to_async(client.force_login)(await sync_to_async(StaffUserFactory)())
    socket = station_socket(client, "CP-LIVE")
    assert (await socket.connect())[0]
    layer = get_channel_layer()

    await layer.group_send("station.CP-OTHER", {"type": "session.reading", "identity": "CP-OTHER"})
    await layer.group_send("station.CP-LIVE", {"type": "session.reading", "identity": "CP-LIVE", "power_w": 7200})
    await layer.group_send("station.CP-LIVE", {"type": "station.command", "identity": "CP-LIVE", "state": "accepted"})

    assert (await socket.receive_json_from(timeout=5))["power_w"] == 7200
    assert (await socket.receive_json_from(timeout=5))["state"] == "accepted"
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_station_socket_refuses_drivers_and_staff_without_the_view_permission():
    client = Client()
    await sync_to_async(client.force_login)(await sync_to_async(UserFactory)())
    assert not (await station_socket(client, "CP-LIVE").connect())[0]

    await sync_to_async(client.force_login)(await sync_to_async(StaffUserFactory)(is_superuser=False))
    assert not (await station_socket(client, "CP-LIVE").connect())[0]


@pytest.mark.django_db
def test_recent_activity_window_is_bounded(admin_client, station):
    # An old command still shows when it is among the ten latest.
    StationCommand.objects.create(charge_point=station, action="ClearCache", state="offline",
                                  created_at=timezone.now() - timedelta(days=400), completed_at=timezone.now())
    assert "ClearCache" in admin_client.get(change_url(station)).content.decode()
