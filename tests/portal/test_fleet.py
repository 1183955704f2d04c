"""A company's fleet: the manager invites drivers (who choose their password from the e-mail), changes roles,
removes drivers and assigns cards; nobody reaches another company's people or cards, drivers not the page."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from customers.models import Customer, User
from tests.factories import CustomerFactory, IdTokenFactory, UserFactory
from tests.portal.conftest import Fleet, signed_in

PASSWORD = "Blue-Charger-Moon-42"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def other_fleet(db) -> Fleet:
    company = CustomerFactory(kind=Customer.Kind.COMPANY, name="Nordlicht AG", vat_id="DE987654321")
    return Fleet(company=company,
                 manager=UserFactory(customer=company, fleet_role=User.FleetRole.MANAGER),
                 driver=UserFactory(customer=company, fleet_role=User.FleetRole.DRIVER))


def invite(client: Client, email: str = "jonas@example.com", **fields):
    return client.post(reverse("portal:fleet_invite"), {"email": email, "first_name": "Jonas", "last_name": "Berg",
                                                        "role": "driver", **fields})


def test_the_manager_sees_the_fleets_people_and_their_cards(fleet, other_fleet):
    card = IdTokenFactory(customer=fleet.company, user=fleet.driver, label="Van 7")
    foreign = IdTokenFactory(customer=other_fleet.company, user=other_fleet.driver, label="Nordlicht 1")
    page = signed_in(fleet.manager).get(reverse("portal:fleet"))
    html = page.content.decode()
    assert page.status_code == 200
    assert fleet.driver.email in html and card.label in html
    assert other_fleet.driver.email not in html and foreign.label not in html


def test_an_invited_driver_chooses_a_password_from_the_email_and_signs_in(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(signed_in(fleet.manager))
    assert response.status_code == 302

    jonas = User.objects.get(email="jonas@example.com")
    assert (jonas.customer, jonas.fleet_role) == (fleet.company, User.FleetRole.DRIVER)
    assert not jonas.has_usable_password()
    assert EmailAddress.objects.get(user=jonas).verified
    assert mail.outbox[0].to == ["jonas@example.com"]
    assert "Rheinfracht GmbH" in mail.outbox[0].subject

    client = Client()
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    assert client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 302
    response = client.post(reverse("account_login"), {"login": "jonas@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")


def test_an_address_that_already_has_a_login_is_not_invited(fleet, other_fleet):
    response = invite(signed_in(fleet.manager), email=other_fleet.driver.email.upper())
    assert response.status_code == 400
    assert "already has a login" in response.content.decode()
    other_fleet.driver.refresh_from_db()
    assert other_fleet.driver.customer == other_fleet.company
    assert mail.outbox == []


def test_an_invalid_invitation_shows_the_form_again(fleet):
    response = invite(signed_in(fleet.manager), email="not-an-address")
    assert response.status_code == 400
    assert "email" in response.context["invite_form"].errors


def test_the_manager_makes_a_driver_a_fleet_manager(fleet):
    signed_in(fleet.manager).post(reverse("portal:fleet_driver_role", args=[fleet.driver.pk]), {"role": "manager"})
    fleet.driver.refresh_from_db()
    assert fleet.driver.fleet_role == User.FleetRole.MANAGER


def test_a_manager_cannot_change_their_own_role(fleet):
    response = signed_in(fleet.manager).post(reverse("portal:fleet_driver_role", args=[fleet.manager.pk]),
                                             {"role": "driver"}, follow=True)
    fleet.manager.refresh_from_db()
    assert fleet.manager.fleet_role == User.FleetRole.MANAGER
    assert "cannot change your own role" in response.content.decode()


def test_a_removed_driver_loses_access_and_their_cards_stay_with_the_company_unassigned(fleet):
    card = IdTokenFactory(customer=fleet.company, user=fleet.driver)
    manager = signed_in(fleet.manager)
    assert manager.get(reverse("portal:fleet_driver_remove", args=[fleet.driver.pk])).status_code == 200

    manager.post(reverse("portal:fleet_driver_remove", args=[fleet.driver.pk]))

    fleet.driver.refresh_from_db()
    card.refresh_from_db()
    assert fleet.driver.customer is None
    assert (card.customer, card.user) == (fleet.company, None)
    assert signed_in(fleet.driver).get(reverse("portal:home"))["Location"].startswith(reverse("portal:profile"))


def test_a_manager_cannot_remove_themselves(fleet):
    signed_in(fleet.manager).post(reverse("portal:fleet_driver_remove", args=[fleet.manager.pk]))
    fleet.manager.refresh_from_db()
    assert fleet.manager.customer == fleet.company


def test_the_manager_assigns_a_company_card_to_a_driver_and_takes_it_back(fleet):
    card = IdTokenFactory(customer=fleet.company)
    manager = signed_in(fleet.manager)
    manager.post(reverse("portal:fleet_card_assign", args=[card.pk]), {"driver": fleet.driver.pk})
    card.refresh_from_db()
    assert card.user == fleet.driver

    manager.post(reverse("portal:fleet_card_assign", args=[card.pk]), {"driver": ""})
    card.refresh_from_db()
    assert card.user is None


# --- nobody reaches what is not theirs -------------------------------------------------------------------
def test_a_driver_cannot_reach_the_fleet_page_or_its_actions(fleet):
    driver = signed_in(fleet.driver)
    card = IdTokenFactory(customer=fleet.company)
    assert driver.get(reverse("portal:fleet")).status_code == 404
    assert invite(driver).status_code == 404
    assert driver.post(reverse("portal:fleet_driver_role", args=[fleet.driver.pk]),
                       {"role": "manager"}).status_code == 404
    assert driver.post(reverse("portal:fleet_card_assign", args=[card.pk]),
                       {"driver": fleet.driver.pk}).status_code == 404
    fleet.driver.refresh_from_db()
    card.refresh_from_db()
    assert fleet.driver.fleet_role == User.FleetRole.DRIVER and card.user is None
    assert not User.objects.filter(email="jonas@example.com").exists()


def test_a_private_account_has_no_fleet_page(person):
    assert signed_in(person).get(reverse("portal:fleet")).status_code == 404


def test_a_manager_cannot_change_or_remove_another_companys_driver(fleet, other_fleet):
    manager = signed_in(fleet.manager)
    assert manager.post(reverse("portal:fleet_driver_role", args=[other_fleet.driver.pk]),
                        {"role": "manager"}).status_code == 404
    assert manager.get(reverse("portal:fleet_driver_remove", args=[other_fleet.driver.pk])).status_code == 404
    assert manager.post(reverse("portal:fleet_driver_remove", args=[other_fleet.driver.pk])).status_code == 404
    other_fleet.driver.refresh_from_db()
    assert (other_fleet.driver.customer, other_fleet.driver.fleet_role) == (other_fleet.company, "driver")


def test_a_manager_cannot_assign_another_companys_card_or_give_a_card_to_another_companys_driver(fleet, other_fleet):
    manager = signed_in(fleet.manager)
    foreign_card = IdTokenFactory(customer=other_fleet.company, user=other_fleet.driver)
    own_card = IdTokenFactory(customer=fleet.company)

    assert manager.post(reverse("portal:fleet_card_assign", args=[foreign_card.pk]),
                        {"driver": fleet.driver.pk}).status_code == 404
    assert manager.post(reverse("portal:fleet_card_assign", args=[own_card.pk]),
                        {"driver": other_fleet.driver.pk}).status_code == 404
    assert manager.post(reverse("portal:fleet_card_assign", args=[own_card.pk]),
                        {"driver": "1 OR 1=1"}).status_code == 404

    foreign_card.refresh_from_db()
    own_card.refresh_from_db()
    assert foreign_card.user == other_fleet.driver and own_card.user is None


@pytest.mark.parametrize("name,args,data", [
    ("portal:fleet_invite", [], {"email": "x@example.com", "role": "driver"}),
    ("portal:fleet_driver_role", ["driver"], {"role": "manager"}),
    ("portal:fleet_driver_remove", ["driver"], {}),
    ("portal:fleet_card_assign", ["card"], {"driver": ""}),
])
def test_every_fleet_form_is_csrf_protected(fleet, name, args, data):
    card = IdTokenFactory(customer=fleet.company, user=fleet.driver)
    ids = {"driver": fleet.driver.pk, "card": card.pk}
    client = Client(enforce_csrf_checks=True)
    client.force_login(fleet.manager, backend="django.contrib.auth.backends.ModelBackend")
    assert client.post(reverse(name, args=[ids[a] for a in args]), data).status_code == 403
    fleet.driver.refresh_from_db()
    assert fleet.driver.customer == fleet.company and fleet.driver.fleet_role == "driver"
