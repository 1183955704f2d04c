# ruff: noqa: F811  (pytest fixtures imported from payments_helpers are parameters of the tests)
"""The prepaid balance page against a real localstripe server: the balance and its history, a top-up charged to
a saved card, a declined one, limits, and that a double submit never charges twice."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from billing.models import Payment, PaymentAccount, PrepaidLedgerEntry
from billing.payments import payment_account_set_collection, prepaid_adjust, prepaid_balance
from tests.billing.payments_helpers import (
    card_save,
    intents_of,
    localstripe_server,  # noqa: F401  (session fixture)
    stripe_settings,  # noqa: F401
)
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

BALANCE = reverse("portal:balance")
DECLINES_CHARGES = "4000000000000341"


@pytest.fixture
def prepaid(stripe_settings, person, localstripe_server):
    stripe_settings.STRIPE_PUBLISHABLE_KEY = "pk_test_evbackoffice_tests"
    payment_account_set_collection(customer=person.customer, collection="prepaid")
    return card_save(localstripe_server, person.customer, "4242424242424242")


def form_of(client) -> dict:
    page = client.get(BALANCE)
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.content.decode()).group(1)
    return {"stamp": stamp, "method": page.context["form"].fields["method"].queryset.first().pk}


def test_a_top_up_is_charged_to_the_card_and_shows_in_balance_and_history(prepaid, person, person_client,
                                                                         localstripe_server):
    response = person_client.post(BALANCE, {**form_of(person_client), "choice": "20"}, follow=True)

    assert prepaid_balance(customer=person.customer) == Money("20.00", "EUR")
    page = response.content.decode()
    assert "was added to your balance" in page
    assert "Top-up" in page and "+€20.00" in page
    provider_id = PaymentAccount.objects.get(customer=person.customer).provider_customer_id
    assert [intent["amount"] for intent in intents_of(localstripe_server, provider_id)] == [2000]


def test_a_free_amount_within_the_limits_is_topped_up(prepaid, person, person_client):
    person_client.post(BALANCE, {**form_of(person_client), "choice": "other", "other": "12.50"})

    assert prepaid_balance(customer=person.customer) == Money("12.50", "EUR")


@pytest.mark.parametrize(("other", "message"), [("4.99", "greater than or equal to 5"),
                                                ("500.01", "less than or equal to 500"),
                                                ("", "Enter the amount to add")])
def test_a_free_amount_outside_the_limits_shows_the_form_again(prepaid, person, person_client, other, message):
    response = person_client.post(BALANCE, {**form_of(person_client), "choice": "other", "other": other})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Payment.objects.exists()


def test_submitting_the_same_form_twice_charges_once(prepaid, person, person_client, localstripe_server):
    form = {**form_of(person_client), "choice": "50"}

    person_client.post(BALANCE, form)
    again = person_client.post(BALANCE, form, follow=True)

    assert Payment.objects.filter(purpose="top_up").count() == 1
    assert prepaid_balance(customer=person.customer) == Money("50.00", "EUR")
    assert "nothing was charged again" in again.content.decode()
    provider_id = PaymentAccount.objects.get(customer=person.customer).provider_customer_id
    assert len(intents_of(localstripe_server, provider_id)) == 1


def test_a_forged_form_stamp_is_refused(prepaid, person_client):
    response = person_client.post(BALANCE, {**form_of(person_client), "choice": "20", "stamp": "1700000000.0"})

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_declined_top_up_credits_nothing_and_says_why(prepaid, person, person_client, localstripe_server):
    declining = card_save(localstripe_server, person.customer, DECLINES_CHARGES)

    response = person_client.post(
        BALANCE, {**form_of(person_client), "method": declining.pk, "choice": "20"}, follow=True
    )

    assert prepaid_balance(customer=person.customer) == Money("0.00", "EUR")
    assert "declined the top-up" in response.content.decode()


def test_another_accounts_card_cannot_pay_a_top_up(prepaid, person, person_client, other_person, localstripe_server):
    theirs = card_save(localstripe_server, other_person.customer, "4242424242424242")

    response = person_client.post(BALANCE, {**form_of(person_client), "method": theirs.pk, "choice": "20"})

    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_the_history_lists_adjustments_with_their_reason(person, person_client):
    prepaid_adjust(customer=person.customer, amount=Money("7.50", "EUR"), note="Goodwill for a broken charger")

    response = person_client.get(BALANCE)

    page = response.content.decode()
    assert "Goodwill for a broken charger" in page and "€7.50" in page
    assert response.context["form"] is None  # not a prepaid account: nothing to top up
    assert "nothing to top up" in page


def test_a_fleet_driver_gets_404_and_the_form_is_csrf_protected(prepaid, person, fleet):
    assert signed_in(fleet.driver).get(BALANCE).status_code == 404

    client = Client(enforce_csrf_checks=True)
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(BALANCE, {"choice": "20"})

    assert response.status_code == 403
    assert not PrepaidLedgerEntry.objects.exists() and prepaid_balance(customer=person.customer).amount == Decimal(0)
