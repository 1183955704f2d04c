"""Operator staff send commands and read the OCPP journal, status history and events in the admin."""

import json

import pytest
from django.urls import reverse

from stations.models import OcppMessage, StationCommand, StationEvent, StatusEvent
from tests.factories import ChargePointFactory, ConnectorFactory

pytestmark = pytest.mark.django_db


def command_url(station) -> str:
    return reverse("admin:stations_chargepoint_command", args=[station.pk])


def test_command_form_queues_a_command_for_a_connected_station(admin_client, admin_user):
    station = ChargePointFactory(is_connected=True)

    response = admin_client.post(command_url(station), {"action": "GetConfiguration", "payload": "{}"})

    command = StationCommand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:stations_stationcommand_change", args=[command.pk])
    assert (command.action, command.state, command.requested_by) == ("GetConfiguration", "pending", admin_user)


def test_disruptive_command_needs_confirmation(admin_client):
    station = ChargePointFactory(is_connected=True)

    refused = admin_client.post(command_url(station), {"action": "Reset", "payload": '{"type": "Hard"}'})
    confirmed = admin_client.post(
        command_url(station), {"action": "Reset", "payload": '{"type": "Hard"}', "confirm": "on"}
    )

    assert refused.status_code == 200 and "tick the confirmation box" in refused.content.decode()
    assert confirmed.status_code == 302
    assert StationCommand.objects.get().payload == {"type": "Hard"}


def test_invalid_payload_is_shown_on_the_form_and_nothing_is_sent(admin_client):
    station = ChargePointFactory(is_connected=True)

    response = admin_client.post(command_url(station), {"action": "TriggerMessage",
                                                        "payload": '{"requestedMessage": "Coffee"}'})

    assert response.status_code == 200
    assert "Not a valid TriggerMessage request" in response.content.decode()
    assert not StationCommand.objects.exists()


def test_command_to_an_offline_station_is_recorded_offline_and_says_so(admin_client):
    station = ChargePointFactory(is_connected=False)

    response = admin_client.post(command_url(station), {"action": "ClearCache", "payload": "{}"}, follow=True)

    assert StationCommand.objects.get().state == "offline"
    assert "Station offline" in response.content.decode()


def test_quick_action_soft_resets_every_selected_station(admin_client):
    stations = [ChargePointFactory(is_connected=True), ChargePointFactory(is_connected=False)]

    response = admin_client.post(reverse("admin:stations_chargepoint_changelist"), {
        "action": "soft_reset", "_selected_action": [s.pk for s in stations]}, follow=True)

    assert sorted(StationCommand.objects.values_list("state", flat=True)) == ["offline", "pending"]
    assert "sent to 1 station(s); 1 offline" in response.content.decode()


def test_station_page_shows_recent_commands_and_links_to_the_journal(admin_client):
    station = ChargePointFactory(is_connected=False)
    admin_client.post(command_url(station), {"action": "ClearCache", "payload": "{}"})

    page = admin_client.get(reverse("admin:stations_chargepoint_change", args=[station.pk])).content.decode()

    assert "ClearCache" in page and "Send a command" in page and "message journal" in page


def test_journal_lists_frames_filtered_by_station_and_action(admin_client):
    first, second = ChargePointFactory(), ChargePointFactory()
    OcppMessage.objects.create(charge_point=first, direction="in", message_type=2, unique_id="a1",
                               action="Heartbeat", frame=json.dumps([2, "a1", "Heartbeat", {}]))
    OcppMessage.objects.create(charge_point=second, direction="in", message_type=2, unique_id="b1",
                               action="BootNotification", frame="[2,\"b1\",\"BootNotification\",{}]")
    url = reverse("admin:stations_ocppmessage_changelist")

    by_station = admin_client.get(url, {"q": first.identity})
    by_action = admin_client.get(url, {"action": "BootNotification"})

    assert [m.unique_id for m in by_station.context["cl"].result_list] == ["a1"]
    assert [m.unique_id for m in by_action.context["cl"].result_list] == ["b1"]
    detail = admin_client.get(reverse("admin:stations_ocppmessage_change", args=[OcppMessage.objects.get(
        unique_id="a1").pk]))
    assert detail.status_code == 200 and "Heartbeat" in detail.content.decode()


def test_journal_status_history_and_events_cannot_be_edited(admin_client):
    station = ChargePointFactory()
    connector = ConnectorFactory(evse__charge_point=station)
    StatusEvent.objects.create(charge_point=station, connector=connector, status="Charging",
                               timestamp="2026-11-01T10:00:00Z")
    StationEvent.objects.create(charge_point=station, kind="security_event", summary="TamperDetectionActivated",
                                needs_review=True)

    for model in ("statusevent", "stationevent", "ocppmessage", "stationcommand"):
        assert admin_client.get(reverse(f"admin:stations_{model}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:stations_{model}_add")).status_code == 403
    events = admin_client.get(reverse("admin:stations_stationevent_changelist"), {"needs_review__exact": "1"})
    assert [e.summary for e in events.context["cl"].result_list] == ["TamperDetectionActivated"]
