"""RFID cards in the portal: the list (masked UIDs, scoped), linking a stock card by printed number and
activation code (one message for every refusal, throttled), ordering, naming, and blocking a lost card: refused
at the next Authorize and pushed to the stations whose local list holds it."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from customers.models import CardOrder, CardStock, IdToken
from customers.tokens import LINK_FAILURE_LIMIT, card_order_mark_sent, card_stock_create, token_block
from stations.models import LocalListEntry, StationCommand
from stations.services.station_reports import id_tag_authorize
from tests.factories import ChargePointFactory, IdTokenFactory
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stock_card():
    card, code = card_stock_create(uid="04aa11bb22cc33", visual_number="EVB 1000 2000")
    return card, code


def link(client, number, code, **extra):
    return client.post(reverse("portal:card-link"), {"visual_number": number, "activation_code": code, **extra})


# --- the list ---------------------------------------------------------------------------------------------
def test_the_list_shows_the_printed_number_and_only_the_last_four_of_the_uid(person_client, person):
    IdTokenFactory(customer=person.customer, user=person, uid="04A1B2C3D4E5F6", visual_number="EVB-7", label="Mine")

    page = person_client.get(reverse("portal:cards")).content.decode()

    assert "EVB-7" in page and "Mine" in page and "•••• E5F6" in page
    assert "04A1B2C3D4E5F6" not in page


def test_the_app_token_is_not_listed_as_a_card(person_client, person):
    from customers.tokens import app_token_for

    app = app_token_for(user=person)
    assert app.uid not in person_client.get(reverse("portal:cards")).content.decode()
    assert person_client.get(reverse("portal:card", args=[app.pk])).status_code == 404


def test_a_fleet_manager_sees_every_drivers_card_with_its_driver_a_driver_only_their_own(fleet):
    managers = IdTokenFactory(customer=fleet.company, user=fleet.manager, visual_number="MGR-1")
    drivers = IdTokenFactory(customer=fleet.company, user=fleet.driver, visual_number="DRV-1")

    manager_page = signed_in(fleet.manager).get(reverse("portal:cards")).content.decode()
    driver_page = signed_in(fleet.driver).get(reverse("portal:cards")).content.decode()

    assert "MGR-1" in manager_page and "DRV-1" in manager_page and fleet.driver.email in manager_page
    assert "DRV-1" in driver_page and "MGR-1" not in driver_page
    assert signed_in(fleet.driver).get(reverse("portal:card", args=[managers.pk])).status_code == 404
    assert signed_in(fleet.manager).get(reverse("portal:card", args=[drivers.pk])).status_code == 200


# --- linking ----------------------------------------------------------------------------------------------
def test_linking_with_number_and_code_makes_the_card_the_drivers(person_client, person, stock_card):
    card, code = stock_card

    response = link(person_client, "evb 1000  2000", code.lower(), label="Blue")

    token = IdToken.objects.get(uid="04AA11BB22CC33")
    assert response.status_code == 302
    assert (token.customer, token.user, token.visual_number, token.label) == (
        person.customer, person, "EVB 1000 2000", "Blue")
    card.refresh_from_db()
    assert card.linked_token == token and card.linked_at is not None


@pytest.mark.parametrize("case", ["wrong code", "unknown number", "already linked"])
def test_every_refused_link_gives_the_same_message(person_client, other_person, stock_card, case):
    card, code = stock_card
    if case == "already linked":
        link(signed_in(other_person), card.visual_number, code)
    number = "EVB 9999 9999" if case == "unknown number" else card.visual_number
    response = link(person_client, number, "WRONGCODE" if case == "wrong code" else code)

    assert response.status_code == 400
    assert "do not match a card that can be linked" in response.content.decode()
    assert not IdToken.objects.filter(customer__users=person_client.session.get("_auth_user_id")).exists()


def test_repeated_failures_are_throttled_even_with_the_right_code_afterwards(person_client, stock_card):
    card, code = stock_card
    for _ in range(LINK_FAILURE_LIMIT):
        link(person_client, card.visual_number, "NOPE1234")

    response = link(person_client, card.visual_number, code)

    assert response.status_code == 429 and "Too many attempts" in response.content.decode()
    assert not IdToken.objects.filter(uid=card.uid).exists()


def test_a_fleet_manager_links_a_card_for_a_driver_of_the_company_only(fleet, other_person, stock_card):
    card, code = stock_card
    manager = signed_in(fleet.manager)
    outsider = link(manager, card.visual_number, code, driver=str(other_person.pk))
    assert outsider.status_code == 400 and not IdToken.objects.filter(uid=card.uid).exists()

    link(manager, card.visual_number, code, driver=str(fleet.driver.pk))
    token = IdToken.objects.get(uid=card.uid)
    assert (token.customer, token.user) == (fleet.company, fleet.driver)


# --- ordering and naming ------------------------------------------------------------------------------------
def test_the_order_form_is_prefilled_with_the_account_address_and_creates_a_request(person_client, person):
    form = person_client.get(reverse("portal:card-order")).content.decode()
    assert person.customer.address_line1 in form

    response = person_client.post(reverse("portal:card-order"), {
        "recipient": "Anna Example", "address_line1": "Ringstrasse 9", "postal_code": "50667", "city": "Köln",
        "country": "DE"})

    order = CardOrder.objects.get()
    assert response.status_code == 302
    assert (order.customer, order.user, order.city, order.state) == (person.customer, person, "Köln", "requested")


def test_an_order_without_an_address_shows_the_form_again(person_client):
    response = person_client.post(reverse("portal:card-order"), {"recipient": "Anna", "country": "DE"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not CardOrder.objects.exists()


def test_staff_send_a_card_for_an_order_and_the_driver_links_it(person_client, person, stock_card):
    card, code = stock_card
    order = CardOrder.objects.create(customer=person.customer, user=person, recipient="A", address_line1="B",
                                     postal_code="1", city="C", country="DE")
    card_order_mark_sent(order=order, card=card)
    link(person_client, card.visual_number, code)
    order.refresh_from_db()
    assert order.state == "sent" and IdToken.objects.get(uid=card.uid).customer == person.customer


def test_a_card_can_be_named_and_another_customers_card_cannot(person_client, person, other_person):
    mine = IdTokenFactory(customer=person.customer, user=person)
    theirs = IdTokenFactory(customer=other_person.customer, label="Theirs")

    person_client.post(reverse("portal:card-label", args=[mine.pk]), {"label": "Weekend car"})
    response = person_client.post(reverse("portal:card-label", args=[theirs.pk]), {"label": "Hacked"})

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.label == "Weekend car"
    assert response.status_code == 404 and theirs.label == "Theirs"


# --- blocking ---------------------------------------------------------------------------------------------
def test_a_blocked_card_is_refused_at_the_next_authorize(person_client, person):
    card = IdTokenFactory(customer=person.customer, user=person)
    station = ChargePointFactory()
    assert id_tag_authorize(charge_point_id=station.pk, id_tag=card.uid).status == "Accepted"

    response = person_client.post(reverse("portal:card-block", args=[card.pk]), {"confirm": "on"}, follow=True)

    assert "The card is blocked" in response.content.decode()
    assert id_tag_authorize(charge_point_id=station.pk, id_tag=card.uid).status == "Blocked"


def test_blocking_needs_confirmation(person_client, person):
    card = IdTokenFactory(customer=person.customer, user=person)
    response = person_client.post(reverse("portal:card-block", args=[card.pk]), {})
    card.refresh_from_db()
    assert response.status_code == 400 and card.status == IdToken.Status.VALID


def test_the_block_is_pushed_to_the_stations_holding_the_card_in_their_local_list(person):
    card = IdTokenFactory(customer=person.customer, user=person)
    holding = ChargePointFactory(is_connected=True, local_list_version=4)
    LocalListEntry.objects.create(charge_point=holding, id_tag=card.uid, status="Accepted")
    offline = ChargePointFactory(is_connected=False)
    LocalListEntry.objects.create(charge_point=offline, id_tag=card.uid, status="Accepted")
    not_holding = ChargePointFactory(is_connected=True)

    token_block(token=card, requested_by=person)

    sent = {c.charge_point_id: c for c in StationCommand.objects.filter(action="SendLocalList")}
    assert set(sent) == {holding.pk, offline.pk} and not_holding.pk not in sent
    assert sent[holding.pk].payload == {"listVersion": 5, "updateType": "Differential", "localAuthorizationList": [
        {"idTag": card.uid, "idTagInfo": {"status": "Blocked"}}]}
    assert sent[holding.pk].state == "pending" and sent[offline.pk].state == "offline"


def test_blocking_is_final_for_the_driver(person_client, person):
    card = IdTokenFactory(customer=person.customer, user=person, status=IdToken.Status.BLOCKED)
    page = person_client.get(reverse("portal:card", args=[card.pk])).content.decode()
    assert "only our team can reactivate" in page and "Block this card" not in page


def test_another_customers_card_cannot_be_seen_or_blocked_by_id(person_client, other_person):
    theirs = IdTokenFactory(customer=other_person.customer)
    assert person_client.get(reverse("portal:card", args=[theirs.pk])).status_code == 404
    assert person_client.post(reverse("portal:card-block", args=[theirs.pk]), {"confirm": "on"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == IdToken.Status.VALID


def test_a_fleet_driver_cannot_block_a_colleagues_card(fleet):
    managers = IdTokenFactory(customer=fleet.company, user=fleet.manager)
    response = signed_in(fleet.driver).post(reverse("portal:card-block", args=[managers.pk]), {"confirm": "on"})
    managers.refresh_from_db()
    assert response.status_code == 404 and managers.status == IdToken.Status.VALID


def test_card_forms_are_csrf_protected(person):
    card = IdTokenFactory(customer=person.customer, user=person)
    client = Client(enforce_csrf_checks=True)
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    assert client.post(reverse("portal:card-block", args=[card.pk]), {"confirm": "on"}).status_code == 403
    assert client.post(reverse("portal:card-link"), {}).status_code == 403


def test_the_activation_code_is_stored_only_as_a_hash(stock_card):
    card, code = stock_card
    stored = CardStock.objects.get(pk=card.pk).activation_code_hash
    assert code not in stored and len(code) == 8


def test_staff_add_a_stock_card_in_the_admin_and_see_its_activation_code_once(staff_user):
    from django.contrib.auth.hashers import check_password

    client = signed_in(staff_user)
    response = client.post(reverse("admin:customers_cardstock_add"),
                           {"uid": "04ff00ee11dd22", "visual_number": "EVB 5 6", "type": "ISO14443"}, follow=True)

    card = CardStock.objects.get(uid="04FF00EE11DD22")
    message = next(str(m) for m in response.context["messages"])
    code = message.split("<strong>")[1].split("</strong>")[0]
    assert check_password(code, card.activation_code_hash)
    assert code not in client.get(reverse("admin:customers_cardstock_change", args=[card.pk])).content.decode()
