"""Accounts: sign-up with e-mail verification, opening the customer account on the profile page, editing it,
and allauth's pages inside the portal layout."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from customers.models import Customer, User
from tests.factories import UserFactory
from tests.portal.conftest import signed_in

PASSWORD = "Blue-Charger-Moon-42"
ADDRESS = {"billing-address_line1": "Invalidenstrasse 1", "billing-postal_code": "10115", "billing-city": "Berlin",
           "billing-country": "DE", "billing-language": "en"}


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth counts sign-ups and mails per address in the cache; every test starts with a clean count."""
    cache.clear()


def open_account(client: Client, **fields) -> object:
    data = {"form": "billing", "billing-kind": "person", "billing-name": "Anna Schmidt",
            "billing-email": "anna@example.com", **ADDRESS, **fields}
    return client.post(reverse("portal:profile"), data)


def test_sign_up_verify_the_emailed_link_and_land_on_the_profile_to_open_the_account(client, db):
    response = client.post(reverse("account_signup"),
                           {"email": "Anna@Example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("portal:home"))["Location"].startswith(reverse("account_login"))  # not signed in yet

    assert len(mail.outbox) == 1
    link = re.search(r"https?://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200
    response = client.post(link, follow=True)

    assert response.redirect_chain[-1][0] == reverse("portal:profile") + "?next=%2Fportal%2F"
    assert response.context["user"].is_authenticated
    assert EmailAddress.objects.get(email__iexact="anna@example.com").verified
    assert "Open your account" in response.content.decode()


def test_an_unverified_driver_cannot_sign_in(client, db):
    UserFactory(email="ben@example.com", customer=None)
    EmailAddress.objects.create(user=User.objects.get(email="ben@example.com"), email="ben@example.com",
                                primary=True, verified=False)
    response = client.post(reverse("account_login"), {"login": "ben@example.com",
                                                      "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("portal:home")).status_code == 302


def test_opening_a_private_account_links_the_driver_and_returns_to_where_they_were_going(db):
    user = UserFactory(customer=None, email="anna@example.com")
    client = signed_in(user)
    response = open_account(client, next="/portal/")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    user.refresh_from_db()
    assert user.customer.kind == Customer.Kind.PERSON
    assert user.customer.name == "Anna Schmidt" and user.customer.country == "DE"


def test_an_outside_next_address_is_ignored(db):
    client = signed_in(UserFactory(customer=None))
    response = open_account(client, next="https://evil.example/phish")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_opening_a_company_account_makes_the_creator_its_fleet_manager(db):
    user = UserFactory(customer=None)
    response = open_account(signed_in(user), **{"billing-kind": "company", "billing-name": "Rheinfracht GmbH",
                                                "billing-vat_id": "de 123 456 789"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.customer.kind == Customer.Kind.COMPANY
    assert user.customer.vat_id == "DE123456789"
    assert user.fleet_role == User.FleetRole.MANAGER


def test_a_vat_id_from_another_country_is_refused_beside_the_field(db):
    user = UserFactory(customer=None)
    response = open_account(signed_in(user), **{"billing-kind": "company", "billing-name": "Rheinfracht GmbH",
                                                "billing-vat_id": "FR12345678901"})
    assert response.status_code == 400
    assert "prefix does not match" in str(response.context["billing_form"].errors["vat_id"])
    user.refresh_from_db()
    assert user.customer is None
    assert not Customer.objects.exists()


def test_missing_address_fields_show_the_form_again(db):
    client = signed_in(UserFactory(customer=None))
    response = open_account(client, **{"billing-city": "", "billing-postal_code": ""})
    assert response.status_code == 400
    assert set(response.context["billing_form"].errors) == {"city", "postal_code"}


def test_a_driver_with_an_account_cannot_open_a_second_one(person):
    before = Customer.objects.count()
    open_account(signed_in(person), **{"billing-kind": "person"})
    assert Customer.objects.count() == before


def test_the_holder_edits_billing_details_and_the_chosen_language_is_activated(person):
    client = signed_in(person)
    response = client.post(reverse("portal:profile"), {
        "form": "billing", "billing-name": "Anna Schmidt-Weber", "billing-email": "rechnung@example.com",
        **ADDRESS, "billing-language": "de"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "de"
    person.customer.refresh_from_db()
    assert person.customer.name == "Anna Schmidt-Weber" and person.customer.language == "de"
    assert person.customer.kind == Customer.Kind.PERSON  # chosen once, not editable


def test_a_company_driver_edits_their_name_but_not_the_companys_billing_details(fleet):
    client = signed_in(fleet.driver)
    page = client.get(reverse("portal:profile"))
    assert page.context["billing_form"] is None
    assert "Only its fleet manager can change" in page.content.decode()

    client.post(reverse("portal:profile"), {"form": "billing", "billing-name": "Hijacked", **ADDRESS})
    client.post(reverse("portal:profile"), {"form": "personal", "personal-first_name": "Jonas",
                                            "personal-last_name": "Berg"})
    fleet.company.refresh_from_db()
    fleet.driver.refresh_from_db()
    assert fleet.company.name == "Rheinfracht GmbH"
    assert (fleet.driver.first_name, fleet.driver.last_name) == ("Jonas", "Berg")


def test_the_profile_form_is_csrf_protected(person):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(reverse("portal:profile"), {"form": "personal", "personal-first_name": "X"})
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password"])
def test_allauths_pages_use_the_portal_layout_with_labelled_fields(client, db, name):
    page = client.get(reverse(name)).content.decode()
    assert "portal/portal.css" in page and 'class="main-nav"' in page
    assert re.search(r'<label for="id_(email|login)"', page)


def test_the_sign_in_form_is_csrf_protected(db):
    response = Client(enforce_csrf_checks=True).post(reverse("account_login"), {"login": "a@example.com",
                                                                                 "password": "x"})
    assert response.status_code == 403


def test_e_mail_management_and_password_change_render_for_a_signed_in_driver(person):
    client = signed_in(person)
    assert client.get(reverse("account_email")).status_code == 200
    assert client.get(reverse("account_change_password")).status_code == 200
