# ruff: noqa: F811  (pytest fixtures imported from payments_helpers are parameters of the tests)
"""Payment methods in the portal, against a real localstripe server: adding a card through a SetupIntent the
way Stripe.js does it in the browser, choosing the default, removing, and that no id in a URL or a form ever
reaches another account's card."""

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import SavedPaymentMethod
from billing.payments import setup_intent_start
from tests.billing.payments_helpers import (
    browser_confirm_setup,
    card_save,
    localstripe_server,  # noqa: F401  (session fixture)
    raw_client,
    stripe_settings,  # noqa: F401
)
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

METHODS = reverse("portal:payment-methods")
ADD = reverse("portal:payment-method-add")
DECLINES_SAVING = "4000000000000002"


@pytest.fixture
def cards(stripe_settings):
    stripe_settings.STRIPE_PUBLISHABLE_KEY = "pk_test_evbackoffice_tests"
    stripe_settings.STRIPE_JS_URL = "https://js.stripe.test/v3/"
    return stripe_settings


def add_card_through_the_portal(client, base: str, number: str = "4242424242424242", **form):
    """What the driver's browser does: open the add page (a SetupIntent is started), let Stripe.js confirm it
    with the typed card, post the SetupIntent's id."""
    page = client.get(ADD)
    assert page.status_code == 200
    secret = page.context["client_secret"]
    setup_intent_id = secret.split("_secret_")[0]
    browser_confirm_setup(base, setup_intent_id, number)
    return client.post(ADD, {"setup_intent": setup_intent_id, "make_default": "on", **form})


def test_the_add_page_loads_stripe_js_from_settings_with_the_publishable_key(cards, person_client):
    response = person_client.get(ADD)

    page = response.content.decode()
    assert '<script src="https://js.stripe.test/v3/"></script>' in page
    assert 'data-key="pk_test_evbackoffice_tests"' in page
    assert 'data-client-secret="seti_' in page
    assert "portal/setup_card.js" in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_card_added_in_the_portal_is_saved_from_what_stripe_says(cards, person, person_client, localstripe_server):
    response = add_card_through_the_portal(person_client, localstripe_server)

    assert response.status_code == 302 and response["Location"] == METHODS
    method = SavedPaymentMethod.objects.get(account__customer=person.customer)
    assert (method.brand, method.last4, method.exp_month, method.exp_year, method.is_default) == (
        "visa", "4242", 12, 2034, True)
    listed = person_client.get(METHODS).content.decode()
    assert "4242" in listed and "12/2034" in listed and "default" in listed


def test_a_card_the_bank_declined_is_not_saved_and_the_driver_is_told(cards, person, person_client,
                                                                      localstripe_server):
    import stripe

    page = person_client.get(ADD)
    setup_intent_id = page.context["client_secret"].split("_secret_")[0]
    with pytest.raises(stripe.CardError):
        browser_confirm_setup(localstripe_server, setup_intent_id, DECLINES_SAVING)

    response = person_client.post(ADD, {"setup_intent": setup_intent_id}, follow=True)

    assert not SavedPaymentMethod.objects.exists()
    assert "did not confirm the card" in response.content.decode()


def test_another_customers_setup_intent_posted_by_id_saves_nothing(cards, person_client, other_person,
                                                                  localstripe_server):
    theirs = setup_intent_start(customer=other_person.customer)
    browser_confirm_setup(localstripe_server, theirs.id)

    response = person_client.post(ADD, {"setup_intent": theirs.id}, follow=True)

    assert not SavedPaymentMethod.objects.exists()
    assert "did not confirm the card" in response.content.decode()


def test_a_malformed_setup_intent_id_is_refused_without_asking_stripe(cards, person_client, monkeypatch):
    monkeypatch.setattr("customers.portal.money.methods.payment_method_save",
                        lambda **kwargs: pytest.fail("asked Stripe"))

    response = person_client.post(ADD, {"setup_intent": "../../v1/customers"}, follow=True)

    assert "not completed" in response.content.decode()


def test_the_driver_chooses_the_default_and_removes_a_card(cards, person, person_client, localstripe_server):
    first = card_save(localstripe_server, person.customer, "4242424242424242")
    second = card_save(localstripe_server, person.customer, "5555555555554444")

    person_client.post(reverse("portal:payment-method-default", args=[first.pk]))
    first.refresh_from_db(), second.refresh_from_db()
    assert first.is_default and not second.is_default

    person_client.post(reverse("portal:payment-method-remove", args=[first.pk]))
    assert list(SavedPaymentMethod.objects.filter(account__customer=person.customer)) == [second]
    second.refresh_from_db()
    assert second.is_default
    at_stripe = raw_client(localstripe_server).v1.payment_methods.retrieve(first.provider_method_id)
    assert at_stripe.customer is None


def test_another_accounts_card_cannot_be_made_default_or_removed(cards, person_client, other_person,
                                                                 localstripe_server):
    theirs = card_save(localstripe_server, other_person.customer, "4242424242424242")
    theirs_other = card_save(localstripe_server, other_person.customer, "5555555555554444")

    default = person_client.post(reverse("portal:payment-method-default", args=[theirs.pk]))
    removed = person_client.post(reverse("portal:payment-method-remove", args=[theirs_other.pk]))

    assert default.status_code == removed.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_default and SavedPaymentMethod.objects.filter(pk=theirs_other.pk, is_default=True).exists()
    assert "5555" not in person_client.get(METHODS).content.decode()


def test_a_fleet_driver_gets_404_on_payment_methods(cards, fleet):
    driver = signed_in(fleet.driver)

    assert driver.get(METHODS).status_code == 404
    assert driver.get(ADD).status_code == 404
    assert signed_in(fleet.manager).get(METHODS).status_code == 200


def test_without_stripe_keys_the_page_says_cards_are_unavailable_instead_of_a_broken_form(settings, person_client):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = ""

    listed = person_client.get(METHODS)
    add = person_client.get(ADD)

    assert "not available" in listed.content.decode()
    assert add.status_code == 200 and "not available" in add.content.decode()
    assert "setup_card.js" not in add.content.decode()


def test_card_forms_are_csrf_protected(cards, person, localstripe_server):
    method = card_save(localstripe_server, person.customer, "4242424242424242")
    client = Client(enforce_csrf_checks=True)
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")

    for url in (reverse("portal:payment-method-remove", args=[method.pk]),
                reverse("portal:payment-method-default", args=[method.pk]), ADD):
        assert client.post(url, {"setup_intent": "seti_123"}).status_code == 403
    assert SavedPaymentMethod.objects.filter(pk=method.pk).exists()
