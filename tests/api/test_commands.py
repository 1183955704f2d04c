"""Operators send OCPP commands to a station through the API and follow the outcome on the command row."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from stations.models import StationCommand
from tests.factories import ChargePointFactory, IdTokenFactory

pytestmark = pytest.mark.django_db


def commands_url(identity: str) -> str:
    return reverse("charge-point-commands", kwargs={"identity": identity})


@pytest.fixture
def connected_station(db):
    return ChargePointFactory(identity="CP.API-1", is_connected=True)


def test_anonymous_and_non_staff_cannot_send_commands(api_client, driver_user, connected_station):
    url = commands_url(connected_station.identity)
    body = {"action": "Reset", "payload": {"type": "Soft"}}

    assert api_client.post(url, body, format="json").status_code == 401
    api_client.force_login(driver_user)
    assert api_client.post(url, body, format="json").status_code == 403
    assert api_client.get(url).status_code == 403
    assert not StationCommand.objects.exists()


def test_command_to_a_connected_station_is_queued_and_handed_to_its_connection(
    staff_api_client, staff_user, connected_station, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    listener = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"ocpp.{connected_station.identity}", listener)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api_client.post(
            commands_url(connected_station.identity), {"action": "Reset", "payload": {"type": "Hard"}}, format="json"
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "pending" and body["action"] == "Reset" and body["requested_by"] == staff_user.username
    assert async_to_sync(layer.receive)(listener) == {"type": "ocpp.command", "command_id": body["id"]}
    detail = staff_api_client.get(reverse("charge-point-command", kwargs={
        "identity": connected_station.identity, "pk": body["id"]}))
    assert detail.status_code == 200 and detail.json()["payload"] == {"type": "Hard"}


def test_command_to_an_offline_station_is_recorded_as_offline_at_once(staff_api_client):
    station = ChargePointFactory(is_connected=False)

    response = staff_api_client.post(commands_url(station.identity), {"action": "ClearCache"}, format="json")

    assert response.status_code == 201
    assert response.json()["state"] == "offline"
    assert response.json()["completed_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "Explode", "payload": {}}, "action"),
        ({"action": "Reset", "payload": {"type": "Medium"}}, "payload"),
        ({"action": "Reset", "payload": {}}, "payload"),
        ({"action": "ChangeConfiguration", "payload": {"key": "HeartbeatInterval", "value": 60}}, "payload"),
        ({"action": "Reset", "payload": ["Soft"]}, "payload"),
    ],
    ids=["unknown-action", "bad-enum", "missing-field", "wrong-type", "not-an-object"],
)
def test_invalid_command_is_refused_with_400_naming_the_field(staff_api_client, connected_station, body, field):
    response = staff_api_client.post(commands_url(connected_station.identity), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not StationCommand.objects.exists()


def test_unknown_station_answers_404(staff_api_client):
    response = staff_api_client.post(commands_url("NO-SUCH-CP"), {"action": "ClearCache"}, format="json")

    assert response.status_code == 404


def test_send_local_list_with_only_an_update_type_is_built_from_our_tokens(staff_api_client, connected_station):
    IdTokenFactory(uid="AA11BB22")
    IdTokenFactory(uid="CC33DD44", status="blocked")

    response = staff_api_client.post(
        commands_url(connected_station.identity),
        {"action": "SendLocalList", "payload": {"updateType": "Full"}}, format="json",
    )

    assert response.status_code == 201, response.json()
    payload = response.json()["payload"]
    assert payload["listVersion"] == 1 and payload["updateType"] == "Full"
    entries = {e["idTag"]: e["idTagInfo"]["status"] for e in payload["localAuthorizationList"]}
    assert entries == {"AA11BB22": "Accepted", "CC33DD44": "Blocked"}


def test_commands_of_a_station_are_listed_newest_first_and_filterable(staff_api_client):
    station = ChargePointFactory(is_connected=False)
    for action in ("ClearCache", "GetLocalListVersion"):
        staff_api_client.post(commands_url(station.identity), {"action": action}, format="json")
    ChargePointFactory(is_connected=False)  # another station's commands never show up here

    listed = staff_api_client.get(commands_url(station.identity)).json()["results"]
    filtered = staff_api_client.get(commands_url(station.identity), {"action": "ClearCache"}).json()["results"]

    assert [c["action"] for c in listed] == ["GetLocalListVersion", "ClearCache"]
    assert [c["action"] for c in filtered] == ["ClearCache"]
