"""The live session websocket: only drivers who can see the session may subscribe; they receive its readings
with the cost so far, its end and final price, and nothing of other sessions. The last test drives the whole
path with a station speaking OCPP: start from the portal, readings live, stop from the portal."""

import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evbackoffice.asgi import application
from stations.events import customer_group, station_group
from stations.models import ChargePoint, ChargingSession, ConnectorStatus, MeterValue, StationCommand
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.conftest import close_background_connections
from tests.factories import ChargePointFactory, ChargingSessionFactory, ConnectorFactory, EvseFactory, IdTokenFactory
from tests.stations.ocpp_helpers import STATION_PASSWORD, Station, eventually, meter_value, sampled, start

pytestmark = pytest.mark.asyncio
TIMEOUT_S = 5


@pytest.fixture
def live_db(transactional_db, settings):
    """Consumers read the database from other threads: committed data, a channel layer of this test only."""
    layer = settings.CHANNEL_LAYERS["default"]
    if layer["BACKEND"] == "channels.layers.InMemoryChannelLayer":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    else:  # Redis shared with other tests and processes: a prefix of our own
        config = {**layer.get("CONFIG", {}), "prefix": f"test-{uuid.uuid4().hex[:12]}"}
        settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": config}}
    settings.OCPP_ACCEPT_UNKNOWN_STATIONS = False
    yield
    close_background_connections()


def make_session(user, *, station=None) -> ChargingSession:
    TariffAssignmentFactory(tariff=TariffFactory())
    station = station or ChargePointFactory(is_connected=True)
    connector = ConnectorFactory(evse=EvseFactory(charge_point=station))
    session = ChargingSessionFactory(connector=connector, started_at=timezone.now() - timedelta(minutes=30),
                                     id_token=IdTokenFactory(customer=user.customer, user=user))
    MeterValue.objects.create(session=session, charge_point=station, connector=connector,
                              timestamp=timezone.now() - timedelta(minutes=1), value=session.meter_start_wh + 10_000,
                              unit="Wh")
    return session


async def socket_for(user, session_pk: int) -> WebsocketCommunicator:
    client = Client()
    await sync_to_async(client.force_login)(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return WebsocketCommunicator(application, f"/ws/portal/sessions/{session_pk}/",
                                 headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")])


async def connected_socket(user, session) -> WebsocketCommunicator:
    socket = await socket_for(user, session.pk)
    connected, _ = await socket.connect(timeout=TIMEOUT_S)
    assert connected
    snapshot = await socket.receive_json_from(timeout=TIMEOUT_S)
    assert (snapshot["type"], snapshot["session_id"]) == ("snapshot", session.pk)
    return socket


def reading_event(session, energy_wh: int, **extra) -> dict:
    return {"type": "session.reading", "identity": session.charge_point.identity, "session_id": session.pk,
            "customer_id": session.customer_id, "energy_wh": energy_wh, "power_w": 11000, "soc": None,
            "timestamp": timezone.now().isoformat(), **extra}


async def test_the_owner_gets_a_snapshot_then_readings_with_the_cost_so_far(live_db, person):
    session = await sync_to_async(make_session)(person)
    socket = await socket_for(person, session.pk)
    connected, _ = await socket.connect(timeout=TIMEOUT_S)
    assert connected

    snapshot = await socket.receive_json_from(timeout=TIMEOUT_S)
    assert (snapshot["energy_wh"], snapshot["cost"]["amount"], snapshot["cost"]["currency"]) == (10000, "4.64", "EUR")

    await sync_to_async(MeterValue.objects.create)(
        session=session, charge_point_id=session.charge_point_id, connector_id=session.connector_id,
        timestamp=timezone.now(), value=session.meter_start_wh + 12_000, unit="Wh")
    await get_channel_layer().group_send(customer_group(session.customer_id), reading_event(session, 12_000))

    update = await socket.receive_json_from(timeout=TIMEOUT_S)
    assert (update["type"], update["energy_wh"], update["power_w"]) == ("reading", 12000, 11000)
    assert update["cost"]["amount"] == "5.57"  # 12 kWh x 0.4641
    await socket.disconnect()


async def test_readings_of_other_sessions_are_not_forwarded(live_db, person):
    session = await sync_to_async(make_session)(person)
    other = await sync_to_async(make_session)(person)
    socket = await connected_socket(person, session)

    await get_channel_layer().group_send(customer_group(person.customer_id), reading_event(other, 5000))
    await get_channel_layer().group_send(station_group(other.charge_point.identity), {
        "type": "station.status", "identity": other.charge_point.identity, "connector_id": 1,
        "connector_pk": other.connector_id, "status": "Faulted", "error_code": ""})

    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_another_customer_cannot_subscribe(live_db, person, other_person):
    session = await sync_to_async(make_session)(person)
    connected, code = await (await socket_for(other_person, session.pk)).connect(timeout=TIMEOUT_S)
    assert (connected, code) == (False, 4403)


async def test_a_fleet_driver_cannot_watch_a_colleagues_session_but_the_manager_can(live_db, fleet):
    managers_session = await sync_to_async(make_session)(fleet.manager)
    drivers_session = await sync_to_async(make_session)(fleet.driver)

    connected, _ = await (await socket_for(fleet.driver, managers_session.pk)).connect(timeout=TIMEOUT_S)
    assert not connected
    socket = await connected_socket(fleet.manager, drivers_session)
    await socket.disconnect()


async def test_a_visitor_and_a_foreign_origin_are_refused(live_db, person):
    session = await sync_to_async(make_session)(person)
    anonymous = WebsocketCommunicator(application, f"/ws/portal/sessions/{session.pk}/",
                                      headers=[(b"origin", b"http://testserver")])
    assert not (await anonymous.connect(timeout=TIMEOUT_S))[0]
    foreign = await socket_for(person, session.pk)
    foreign.scope["headers"] = [h for h in foreign.scope["headers"] if h[0] != b"origin"] + [
        (b"origin", b"https://evil.example")]
    assert not (await foreign.connect(timeout=TIMEOUT_S))[0]


async def test_the_connector_status_and_the_end_reach_the_page_then_the_final_price(live_db, person):
    session = await sync_to_async(make_session)(person)
    socket = await connected_socket(person, session)
    layer = get_channel_layer()

    await layer.group_send(station_group(session.charge_point.identity), {
        "type": "station.status", "identity": session.charge_point.identity, "connector_id": 1,
        "connector_pk": session.connector_id, "status": "SuspendedEV", "error_code": ""})
    assert (await socket.receive_json_from(timeout=TIMEOUT_S))["status"] == "SuspendedEV"

    def stop_and_rate():  # what StopTransaction does; billing rates it on commit (tasks run inline here)
        session.state, session.stopped_at = ChargingSession.State.COMPLETED, timezone.now()
        session.meter_stop_wh = session.meter_start_wh + 10_000
        session.save()
    await sync_to_async(stop_and_rate)()
    await layer.group_send(customer_group(session.customer_id), {
        "type": "session.stopped", "identity": session.charge_point.identity, "session_id": session.pk,
        "transaction_id": session.transaction_id, "connector_pk": session.connector_id,
        "customer_id": session.customer_id, "energy_wh": 10_000})

    ended = await socket.receive_json_from(timeout=TIMEOUT_S)
    assert (ended["type"], ended["energy_wh"], ended["pricing_state"]) == ("stopped", 10_000, "pricing")
    assert ended["stopped_at"] == session.stopped_at.isoformat()
    priced = await socket.receive_json_from(timeout=TIMEOUT_S)
    assert (priced["type"], priced["amount"], priced["currency"]) == ("priced", "4.64", "EUR")
    assert priced["explanation"][-1] == "Total: 4.64 EUR incl. 19% VAT (0.74 EUR)"  # the driver's, incl. VAT
    await socket.disconnect()


# --- the whole path, with a station speaking OCPP 1.6 -------------------------------------------------------
@pytest.fixture
def ocpp_station(live_db):
    station = ChargePointFactory(identity="CP-PORTAL-1", password=STATION_PASSWORD)
    connector = ConnectorFactory(evse=EvseFactory(charge_point=station, ocpp_evse_id=1, evse_id="DE*EVB*E77777*1"),
                                 status=ConnectorStatus.AVAILABLE)
    TariffAssignmentFactory(tariff=TariffFactory())
    return connector


async def test_start_watch_and_stop_from_the_portal_with_a_real_ocpp_station(ocpp_station, person):
    client = Client()
    await sync_to_async(client.force_login)(person, backend="django.contrib.auth.backends.ModelBackend")
    card = await sync_to_async(IdTokenFactory)(customer=person.customer, user=person)
    async with Station("CP-PORTAL-1") as cp:
        await eventually(lambda: ChargePoint.objects.filter(identity="CP-PORTAL-1", is_connected=True).exists())
        response = await sync_to_async(client.post)(reverse("portal:start", args=["DE*EVB*E77777*1"]),
                                                    {"token": str(card.pk)})
        assert response.status_code == 302, response.content.decode()[:2000]

        _, unique_id, action, payload = await cp.receive_call()
        assert (action, payload) == ("RemoteStartTransaction", {"connectorId": 1, "idTag": card.uid})
        await cp.answer(unique_id, {"status": "Accepted"})
        begun = timezone.now() - timedelta(minutes=30)
        transaction_id = (await cp.result("StartTransaction", start(1, card.uid, 50_000, begun)))["transactionId"]
        status_url = response["Location"] + "status.json"
        progress = (await sync_to_async(client.get)(status_url)).json()
        assert progress["state"] == "started"

        session_pk = int(progress["session_url"].rstrip("/").rsplit("/", 1)[1])
        socket = await socket_for(person, session_pk)
        assert (await socket.connect(timeout=TIMEOUT_S))[0]
        await socket.receive_json_from(timeout=TIMEOUT_S)  # the snapshot
        await cp.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [
            meter_value(begun + timedelta(minutes=20), sampled(55_000, unit="Wh"),
                        sampled(11000, "Power.Active.Import", "W"), sampled(48, "SoC", "Percent"))]})
        update = await socket.receive_json_from(timeout=TIMEOUT_S)
        assert (update["energy_wh"], update["power_w"], update["soc"]) == (5000, 11000, 48)
        assert update["cost"]["amount"] == "2.32"  # 5 kWh x 0.4641

        await sync_to_async(client.post)(reverse("portal:session-stop", args=[session_pk]))
        _, stop_id, action, payload = await cp.receive_call()
        assert (action, payload) == ("RemoteStopTransaction", {"transactionId": transaction_id})
        await cp.answer(stop_id, {"status": "Accepted"})
        stop_news = await socket.receive_json_from(timeout=TIMEOUT_S)
        assert (stop_news["type"], stop_news["state"]) == ("stop", StationCommand.State.ACCEPTED)
        await socket.disconnect()
