"""The staff live board: a table of connectors that follows station status events without reloading."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse

from evbackoffice.asgi import application
from tests.factories import StaffUserFactory, UserFactory
from tests.stations.ocpp_helpers import Station


def board_socket(client: Client) -> WebsocketCommunicator:
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return WebsocketCommunicator(application, "/ws/live/",
                                 headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")])


@pytest.mark.django_db
def test_board_page_is_for_staff_only_and_lists_every_connector(client, station_with_connectors):
    assert client.get(reverse("stations:live-board")).status_code == 302  # to the admin login

    client.force_login(UserFactory())
    assert client.get(reverse("stations:live-board")).status_code == 302

    client.force_login(StaffUserFactory())
    page = client.get(reverse("stations:live-board")).content.decode()
    assert page.count(f'data-identity="{station_with_connectors.identity}"') == 2
    assert "live.js" in page


@pytest.mark.django_db
def test_an_accountant_does_not_see_the_live_board(client, station_with_connectors):
    from billing.accounting.roles import accountant_role_ensure

    accountant = UserFactory(is_staff=True)
    accountant.groups.add(accountant_role_ensure())
    client.force_login(accountant)

    assert client.get(reverse("stations:live-board")).status_code == 403
    assert "Live board" not in client.get(reverse("admin:index")).content.decode()


@pytest.fixture
def station_with_connectors(station):
    return station


@pytest.mark.asyncio
async def test_status_notification_reaches_the_board_of_a_signed_in_operator(station):
    client = Client()
    await sync_to_async(client.force_login)(await sync_to_async(StaffUserFactory)())
    board = board_socket(client)
    connected, _ = await board.connect()
    assert connected

    cp = Station(station.identity)
    assert await cp.connect()
    assert (await board.receive_json_from(timeout=5))["type"] == "station.connection"
    await cp.call("StatusNotification", {"connectorId": 2, "errorCode": "NoError", "status": "Charging"})

    event = await board.receive_json_from(timeout=5)
    assert event["type"] == "station.status"
    assert (event["identity"], event["connector_id"], event["status"]) == (station.identity, 2, "Charging")
    await cp.close()
    await board.disconnect()


@pytest.mark.asyncio
async def test_board_socket_refuses_drivers(ocpp_db):
    client = Client()
    await sync_to_async(client.force_login)(await sync_to_async(UserFactory)())

    connected, _ = await board_socket(client).connect()

    assert not connected
