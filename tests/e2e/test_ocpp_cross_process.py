"""Two real server processes sharing PostgreSQL and Redis: a command an operator requests through process A
reaches the station whose websocket process B holds, and its result is recorded (issue: "Commands travel
through the channel layer to whichever server process holds the station's socket")."""

import json
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from stations.models import ChargePoint, ChargingSession, StationCommand
from stations.simulator import Clock, SimulatedStation
from tests.e2e.conftest import STATION_PASSWORD, parked_for_hours
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.e2e


def post_json(url: str, body: dict, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_remote_start_requested_through_process_a_reaches_the_station_connected_to_process_b(
        server_processes, registered_station, valid_tag, station_thread, eventually):
    process_a, process_b = server_processes
    token = Token.objects.create(user=StaffUserFactory()).key
    identity = registered_station.identity
    station = SimulatedStation(identity, process_b.replace("http://", "ws://") + "/ocpp/", STATION_PASSWORD,
                               connectors=2, clock=Clock(60), plans=parked_for_hours)

    with station_thread(station):
        held_by_b = eventually(lambda: ChargePoint.objects.filter(pk=registered_station.pk, is_connected=True)
                               .exclude(connection_channel="").values_list("connection_channel", flat=True).first(),
                               what="process B to hold the station's socket")
        status, created = post_json(f"{process_a}/api/v1/charge-points/{identity}/commands/", {
            "action": "RemoteStartTransaction", "payload": {"connectorId": 1, "idTag": valid_tag}}, token)
        command = eventually(lambda: StationCommand.objects.filter(
            pk=created["id"], state__in=StationCommand.FINAL_STATES).first(), what="the station's answer")
        session = eventually(lambda: ChargingSession.objects.filter(
            charge_point=registered_station, state=ChargingSession.State.ACTIVE).first(), what="the session")
        seen_by_a = get_json(f"{process_a}/api/v1/charge-points/{identity}/commands/{created['id']}/", token)
        running = eventually(lambda: (s := station.connectors[1].session) and s.transaction_id and s,
                             what="the station to charge")

    assert status == 201 and created["state"] == "pending"
    assert command.state == StationCommand.State.ACCEPTED, command.error
    assert command.response == {"status": "Accepted"}
    assert command.channel_name == held_by_b  # process B's connection performed the OCPP call
    assert seen_by_a["state"] == "accepted"
    assert (session.evse.ocpp_evse_id, session.id_tag) == (1, valid_tag)
    assert running.remote and str(running.transaction_id) == session.transaction_id
