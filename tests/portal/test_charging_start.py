"""Starting a session from the portal: the price before starting, every refusal before anything is sent, the
RemoteStartTransaction through the command path, and each way the request can turn out."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.models import PaymentAccount, PrepaidLedgerEntry
from customers.models import Customer, IdToken
from customers.portal.charging.starting import remote_start_timeout_s
from stations.commands import command_mark_sent, command_record_result
from stations.models import ChargingSession, ConnectorStatus, StationCommand
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.factories import ChargePointFactory, ChargingSessionFactory, ConnectorFactory, EvseFactory, IdTokenFactory
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector():
    """An available Type 2 connector of a connected station, with a public price of 0.39 EUR/kWh."""
    station = ChargePointFactory(is_connected=True)
    connector = ConnectorFactory(evse=EvseFactory(charge_point=station, evse_id="DE*EVB*E00042*1"),
                                 status=ConnectorStatus.AVAILABLE)
    TariffAssignmentFactory(tariff=TariffFactory(), location=station.location)
    return connector


@pytest.fixture
def card(person):
    return IdTokenFactory(customer=person.customer, user=person, label="Blue card", visual_number="EVB-0001-2345")


def start_url(connector) -> str:
    return reverse("portal:start", args=[connector.evse.evse_id])


def post_start(client, connector, token="app"):
    return client.post(start_url(connector), {"token": token})


def only_command() -> StationCommand:
    return StationCommand.objects.get(action="RemoteStartTransaction")


# --- before starting --------------------------------------------------------------------------------------
def test_the_start_page_shows_the_price_incl_vat_and_the_drivers_usable_cards(person_client, connector, card):
    IdTokenFactory(customer=card.customer, user=card.user, label="Old card", status=IdToken.Status.BLOCKED)

    page = person_client.get(start_url(connector)).content.decode()

    assert "0.4641 EUR/kWh" in page  # 0.39 + 19 % VAT, shown as charged
    assert "Blue card" in page and "Old card" not in page
    assert 'value="app"' in page
    assert "Start charging" in page


def test_a_typed_evse_id_without_separators_finds_the_charging_point(person_client, connector):
    response = person_client.get(reverse("portal:charge-find"), {"evse_id": "de evb e00042*1"})
    assert response.status_code == 302
    assert response["Location"] == start_url(connector)


def test_an_unknown_evse_id_is_a_404_with_a_message(person_client, connector):
    response = person_client.get(reverse("portal:charge-find"), {"evse_id": "DE*EVB*E99999*9"})
    assert response.status_code == 404
    assert "No charging point has the id" in response.content.decode()
    assert person_client.get(reverse("portal:start", args=["DE*EVB*E99999*9"])).status_code == 404


def test_a_member_sees_the_plan_tariff_instead_of_the_public_one(person_client, person, connector, monkeypatch):
    plan_tariff = TariffFactory(elements=[{"energy_price": Decimal("0.25"), "energy_vat": Decimal("19")}])
    monkeypatch.setattr("customers.portal.charging.starting.membership_tariff",
                        lambda customer, at: plan_tariff if customer == person.customer else None)

    page = person_client.get(start_url(connector)).content.decode()

    assert "0.2975 EUR/kWh" in page and "0.4641 EUR/kWh" not in page


# --- refused before anything is sent ----------------------------------------------------------------------
@pytest.mark.parametrize(("status", "words"), [
    (ConnectorStatus.CHARGING, "in use"), (ConnectorStatus.FAULTED, "fault"),
    (ConnectorStatus.UNAVAILABLE, "out of service"), (ConnectorStatus.RESERVED, "reserved"),
])
def test_a_connector_that_cannot_charge_is_refused_without_a_command(person_client, connector, status, words):
    connector.status = status
    connector.save()

    response = post_start(person_client, connector)

    assert response.status_code == 409
    assert words in response.content.decode()
    assert not StationCommand.objects.exists()


def test_an_offline_station_is_refused_before_sending_and_says_so(person_client, connector):
    connector.evse.charge_point.is_connected = False
    connector.evse.charge_point.save()

    page = person_client.get(start_url(connector)).content.decode()
    response = post_start(person_client, connector)

    assert "offline" in page and "Start charging</button>" not in page
    assert response.status_code == 409 and "offline" in response.content.decode()
    assert not StationCommand.objects.exists()


def test_a_connector_with_a_running_session_is_in_use_even_before_its_status_says_so(
        person_client, connector, other_person):
    ChargingSessionFactory(connector=connector, id_token=IdTokenFactory(customer=other_person.customer))
    assert "in use" in post_start(person_client, connector).content.decode()
    assert not StationCommand.objects.exists()


def test_a_suspended_customer_cannot_start(person_client, person, connector):
    Customer.objects.filter(pk=person.customer_id).update(status=Customer.Status.SUSPENDED)
    response = post_start(person_client, connector)
    assert "suspended" in response.content.decode()
    assert not StationCommand.objects.exists()


def test_a_prepaid_customer_below_the_minimum_balance_is_asked_to_top_up(person_client, person, connector, settings):
    settings.PREPAID_MINIMUM_BALANCE = "5.00"
    PaymentAccount.objects.create(customer=person.customer, collection=PaymentAccount.Collection.PREPAID)
    PrepaidLedgerEntry.objects.create(customer=person.customer, kind=PrepaidLedgerEntry.Kind.ADJUSTMENT,
                                      amount=Money("2.00", "EUR"))
    response = post_start(person_client, connector)
    assert "top it up" in response.content.decode()
    assert not StationCommand.objects.exists()


def test_a_blocked_card_cannot_start(person_client, connector, card):
    card.status = IdToken.Status.BLOCKED
    card.save()
    response = post_start(person_client, connector, token=str(card.pk))
    assert "blocked" in response.content.decode()
    assert not StationCommand.objects.exists()


def test_a_card_already_charging_elsewhere_cannot_start_again(person_client, connector, card):
    ChargingSessionFactory(id_token=card)
    assert "already charging" in post_start(person_client, connector, token=str(card.pk)).content.decode()
    assert not StationCommand.objects.exists()


def test_a_charging_point_without_a_price_for_the_driver_is_not_started(person_client, connector):
    from billing.models import TariffAssignment

    TariffAssignment.objects.all().delete()
    assert "no price" in post_start(person_client, connector).content.decode()
    assert not StationCommand.objects.exists()


def test_another_customers_card_cannot_be_used_to_start(person_client, connector, other_person):
    theirs = IdTokenFactory(customer=other_person.customer, user=other_person)
    response = post_start(person_client, connector, token=str(theirs.pk))
    assert response.status_code == 409
    assert not StationCommand.objects.exists()


def test_a_fleet_driver_cannot_start_with_a_colleagues_card(fleet, connector):
    managers = IdTokenFactory(customer=fleet.company, user=fleet.manager)
    post_start(signed_in(fleet.driver), connector, token=str(managers.pk))
    assert not StationCommand.objects.exists()


def test_the_start_form_is_csrf_protected(person, connector):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    assert post_start(client, connector).status_code == 403


# --- sent, and how it turns out ---------------------------------------------------------------------------
def test_starting_with_a_card_sends_remote_start_with_its_id_tag_and_connector(person_client, person, connector, card):
    response = post_start(person_client, connector, token=str(card.pk))

    command = only_command()
    assert response["Location"] == reverse("portal:start-progress", args=[command.pk])
    assert command.payload == {"connectorId": 1, "idTag": card.uid}
    assert (command.state, command.requested_by) == ("pending", person)


def test_the_app_start_uses_one_central_token_per_driver_created_on_first_use(person_client, person, connector):
    post_start(person_client, connector)
    app_token = IdToken.objects.get(customer=person.customer, type=IdToken.Type.CENTRAL)
    StationCommand.objects.all().delete()
    post_start(person_client, connector)

    assert only_command().payload["idTag"] == app_token.uid
    assert app_token.user == person and len(app_token.uid) <= 20
    assert IdToken.objects.filter(type=IdToken.Type.CENTRAL).count() == 1


def status_of(client, command) -> dict:
    response = client.get(reverse("portal:start-status", args=[command.pk]))
    assert response.status_code == 200
    return response.json()


def answered(command, status: str) -> None:
    command_mark_sent(command_id=command.pk, channel_name="test")
    command_record_result(command_id=command.pk, outcome="answered", response={"status": status})


def test_the_status_waits_while_the_station_has_not_answered(person_client, connector):
    post_start(person_client, connector)
    status = status_of(person_client, only_command())
    assert (status["state"], status["settled"]) == ("waiting", False)


def test_a_rejected_start_settles_as_failed_with_the_reason(person_client, connector):
    post_start(person_client, connector)
    answered(only_command(), "Rejected")
    status = status_of(person_client, only_command())
    assert (status["state"], status["code"], status["settled"]) == ("failed", "rejected", True)
    assert "refused to start" in status["message"]


def test_no_answer_from_the_station_settles_as_timed_out(person_client, connector):
    post_start(person_client, connector)
    command = only_command()
    command_mark_sent(command_id=command.pk, channel_name="test")
    command_record_result(command_id=command.pk, outcome="timeout")
    assert status_of(person_client, command)["code"] == "timeout"


def test_a_station_that_drops_off_between_page_and_start_is_reported_offline(person_client, connector, monkeypatch):
    # The page saw it connected; it disconnected just before the command was created.
    monkeypatch.setattr("customers.portal.charging.starting.check_startable", lambda **kwargs: None)
    connector.evse.charge_point.is_connected = False
    connector.evse.charge_point.save()
    post_start(person_client, connector)
    command = only_command()
    assert command.state == "offline"
    page = person_client.get(reverse("portal:start-progress", args=[command.pk])).content.decode()
    assert "offline" in page


def test_accepted_asks_to_plug_in_then_shows_the_session_once_the_station_starts_it(person_client, connector, card):
    post_start(person_client, connector, token=str(card.pk))
    command = only_command()
    answered(command, "Accepted")
    assert status_of(person_client, command)["state"] == "plug_in"

    session = ChargingSessionFactory(connector=connector, id_token=card, started_at=timezone.now())

    status = status_of(person_client, command)
    assert (status["state"], status["settled"]) == ("started", True)
    assert status["session_url"] == reverse("portal:session", args=[session.pk])


def test_accepted_but_no_session_within_the_connection_timeout_says_the_car_was_not_plugged_in(
        person_client, connector):
    post_start(person_client, connector)
    command = only_command()
    answered(command, "Accepted")
    StationCommand.objects.filter(pk=command.pk).update(
        completed_at=timezone.now() - timedelta(seconds=remote_start_timeout_s() + 1))

    status = status_of(person_client, command)
    assert (status["state"], status["code"]) == ("failed", "not_plugged")


def test_an_earlier_session_of_the_same_card_is_not_mistaken_for_the_new_start(person_client, connector, card):
    earlier = ChargingSessionFactory(connector=connector, id_token=card, started_at=timezone.now() - timedelta(hours=3))
    ChargingSession.objects.filter(pk=earlier.pk).update(
        state=ChargingSession.State.COMPLETED, stopped_at=timezone.now() - timedelta(hours=2),
        meter_stop_wh=earlier.meter_start_wh + 5000, created_at=timezone.now() - timedelta(hours=3))
    post_start(person_client, connector, token=str(card.pk))
    answered(only_command(), "Accepted")
    assert status_of(person_client, only_command())["state"] == "plug_in"


def test_another_users_start_request_is_not_found(person_client, connector, other_person):
    post_start(person_client, connector)
    command = only_command()
    theirs = signed_in(other_person)
    assert theirs.get(reverse("portal:start-status", args=[command.pk])).status_code == 404
    assert theirs.get(reverse("portal:start-progress", args=[command.pk])).status_code == 404


def test_the_progress_page_of_a_start_that_already_has_its_session_redirects_to_the_session(
        person_client, connector, card):
    post_start(person_client, connector, token=str(card.pk))
    command = only_command()
    answered(command, "Accepted")
    session = ChargingSessionFactory(connector=connector, id_token=card, started_at=timezone.now())

    response = person_client.get(reverse("portal:start-progress", args=[command.pk]))

    assert response.status_code == 302 and response.url == reverse("portal:session", args=[session.pk])


def test_the_progress_page_of_a_failed_start_stays_and_says_why(person_client, connector):
    post_start(person_client, connector)
    answered(only_command(), "Rejected")

    response = person_client.get(reverse("portal:start-progress", args=[only_command().pk]))

    assert response.status_code == 200 and 'data-settled="true"' in response.content.decode()
    assert "refused to start" in response.content.decode()
