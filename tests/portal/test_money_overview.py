"""The payments overview: the open amount, a failed collection explained with what to do, blocked cards, the
prepaid balance and the default card; the holder's or fleet manager's page only."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from djmoney.money import Money

from billing.models import DunningCase, Invoice, PaymentAccount, SavedPaymentMethod
from billing.payments import payment_account_get_or_create, payment_account_set_collection, prepaid_adjust
from tests.billing.test_accounting_helpers import credit, document
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

MONEY = reverse("portal:money")


def test_nothing_open_says_so(person_client):
    response = person_client.get(MONEY)

    assert response.status_code == 200
    assert "You have no open invoices" in response.content.decode()
    assert response.context["open_totals"] == []


def test_open_amount_is_what_is_still_due_after_credit_notes(person, person_client):
    document(person.customer, issue_date=date(2099, 1, 1))  # 11.90, not yet due
    partly = document(person.customer, period_start=date(2026, 5, 1), period_end=date(2026, 6, 1),
                      issue_date=date(2099, 1, 1))
    credit(partly, amount="5.00")  # 5.00 net + 19 % = 5.95 back
    paid = document(person.customer, period_start=date(2026, 4, 1), period_end=date(2026, 5, 1))
    Invoice.objects.filter(pk=paid.pk).update(paid_at=datetime(2026, 5, 3, tzinfo=UTC))

    response = person_client.get(MONEY)

    assert response.context["open_totals"] == [Money("17.85", "EUR")]
    assert not response.context["needs_action"]


def test_a_failed_collection_says_what_the_bank_said_when_we_retry_and_what_to_do(person, person_client):
    payment_account_set_collection(customer=person.customer, collection="card")
    invoice = document(person.customer, issue_date=date(2099, 1, 1))
    DunningCase.objects.create(invoice=invoice, state=DunningCase.State.FAILED, failures=1,
                               next_retry_at=datetime(2099, 1, 4, 9, tzinfo=UTC),
                               last_failure="Your card has insufficient funds.")

    response = person_client.get(MONEY)

    page = response.content.decode()
    assert response.context["needs_action"]
    assert "Collecting this invoice failed" in page
    assert "Your card has insufficient funds." in page
    assert "We try again on" in page and "2099" in page
    assert "add another card" in page


def test_blocked_cards_are_explained(person, person_client):
    invoice = document(person.customer, issue_date=date(2099, 1, 1))
    DunningCase.objects.create(invoice=invoice, state=DunningCase.State.FAILED, failures=3,
                               tokens_blocked_at=datetime(2099, 1, 10, tzinfo=UTC))

    page = person_client.get(MONEY).content.decode()

    assert "your cards are blocked for charging until it is paid" in page


def test_prepaid_balance_and_default_card_are_shown(person, person_client):
    payment_account_set_collection(customer=person.customer, collection="prepaid")
    prepaid_adjust(customer=person.customer, amount=Money("12.00", "EUR"), note="Welcome credit")
    SavedPaymentMethod.objects.create(account=payment_account_get_or_create(customer=person.customer),
                                      provider_method_id="pm_test_1", brand="visa", last4="4242", exp_month=3,
                                      exp_year=2030, is_default=True)

    response = person_client.get(MONEY)

    page = response.content.decode()
    assert response.context["balance"] == Money("12.00", "EUR")
    assert "Visa •••• 4242" in page and "03/2030" in page
    assert reverse("portal:balance") in page
    assert PaymentAccount.objects.get(customer=person.customer).get_collection_display() in page


def test_another_accounts_invoices_do_not_count(person_client, other_person):
    document(other_person.customer)

    assert person_client.get(MONEY).context["open_totals"] == []


def test_a_fleet_driver_gets_404_and_the_manager_sees_the_companys_money(fleet):
    document(fleet.company, issue_date=date(2099, 1, 1))

    assert signed_in(fleet.driver).get(MONEY).status_code == 404
    assert signed_in(fleet.manager).get(MONEY).context["open_totals"] == [Money("11.90", "EUR")]
