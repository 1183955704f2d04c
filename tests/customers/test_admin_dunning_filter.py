"""Staff find customers (and invoices) by where they stand in dunning: a collection failed, their tokens are
blocked for non-payment, or nothing is owed through dunning; the list stays one query however many match."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import DunningCase
from tests.admin_helpers import filter_link, rows
from tests.billing.invoice_factories import InvoiceFactory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("admin:customers_customer_changelist")
INVOICES = reverse("admin:billing_invoice_changelist")


def case(customer, **fields) -> DunningCase:
    """A dunning case of an invoice of the customer's (a draft will do: the filters read the case)."""
    return DunningCase.objects.create(invoice=InvoiceFactory(customer=customer), **fields)


@pytest.fixture
def customers():
    now = timezone.now()
    failing = CustomerFactory(name="Failing Payer")
    case(failing, state=DunningCase.State.FAILED, failures=1)
    blocked = CustomerFactory(name="Blocked Payer")
    case(blocked, state=DunningCase.State.FAILED, failures=3, tokens_blocked_at=now)
    paid_again = CustomerFactory(name="Paid Again")  # was blocked, paid: tokens reinstated
    case(paid_again, state=DunningCase.State.PAID, failures=3, tokens_blocked_at=now, tokens_reinstated_at=now)
    collecting = CustomerFactory(name="Card Charging")  # a collection in flight: neither late nor settled
    case(collecting, state=DunningCase.State.COLLECTING)
    never = CustomerFactory(name="Bank Transfer")
    return {"failing": failing, "blocked": blocked, "paid_again": paid_again, "collecting": collecting,
            "never": never}


def choose(client, url: str, choice: str):
    return client.get(url + filter_link(client.get(url), "payment", choice))


def test_customers_in_dunning_are_those_with_a_failed_collection_still_open(admin_client, customers):
    assert rows(choose(admin_client, CUSTOMERS, "in dunning")) == {customers["failing"], customers["blocked"]}


def test_customers_with_tokens_blocked_for_non_payment(admin_client, customers):
    assert rows(choose(admin_client, CUSTOMERS, "tokens blocked for non-payment")) == {customers["blocked"]}


def test_paid_up_customers_have_no_open_collection_and_no_blocked_tokens(admin_client, customers):
    assert rows(choose(admin_client, CUSTOMERS, "paid up")) == {customers["paid_again"], customers["never"]}


def test_the_filtered_customer_list_is_one_query_however_many_are_in_dunning(admin_client, customers):
    url = CUSTOMERS + filter_link(admin_client.get(CUSTOMERS), "payment", "in dunning")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(5):
        case(CustomerFactory(), state=DunningCase.State.FAILED, failures=2)

    assert queries() == few


def test_invoices_filter_the_same_way(admin_client, customers):
    failing_invoice = customers["failing"].invoices.get()
    blocking_invoice = customers["blocked"].invoices.get()

    assert rows(choose(admin_client, INVOICES, "in dunning")) == {failing_invoice, blocking_invoice}
    assert rows(choose(admin_client, INVOICES, "tokens blocked for non-payment")) == {blocking_invoice}
