"""Closing billing periods: one invoice per customer and period whatever is rerun or crashes, each customer in
its own transaction, quarterly customers on quarter starts, review drafts, the beat task and the command."""

from datetime import date
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from billing.invoicing import billing_period_close, customer_period_close, periods_ending
from billing.invoicing.tasks import close_billing_period
from billing.models import BillingProfile, Invoice, InvoiceLine
from tests.billing.invoice_factories import BillingProfileFactory, OperatorProfileFactory
from tests.billing.invoicing_helpers import charge_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

JUNE = {"period_start": date(2026, 6, 1), "period_end": date(2026, 7, 1)}


class WorkerDied(BaseException):
    """Not an Exception: like a killed worker, nothing in the close catches it."""


def customers_with_june_records(count):
    customers = [CustomerFactory() for _ in range(count)]
    for customer in customers:
        charge_record(customer, start="2026-06-10T08:00:00+00:00", parts=[("19.000000", "10.00")])
    return customers


def test_closing_twice_leaves_exactly_one_invoice_per_customer():
    OperatorProfileFactory()
    customers = customers_with_june_records(3)

    assert billing_period_close(**JUNE) == 3
    assert billing_period_close(**JUNE) == 0

    assert Invoice.objects.filter(status="issued").count() == 3
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        "INV-2026-000001", "INV-2026-000002", "INV-2026-000003"
    ]
    assert {invoice.customer_id for invoice in Invoice.objects.all()} == {customer.pk for customer in customers}


def test_a_worker_dying_half_way_then_a_rerun_leaves_one_invoice_per_customer():
    OperatorProfileFactory()
    customers_with_june_records(4)
    real_close = customer_period_close
    calls = []

    def dies_on_the_third(**kwargs):
        calls.append(kwargs["customer_id"])
        if len(calls) == 3:
            raise WorkerDied
        return real_close(**kwargs)

    with mock.patch("billing.invoicing.services.customer_period_close", side_effect=dies_on_the_third):
        with pytest.raises(WorkerDied):
            billing_period_close(**JUNE)
    assert Invoice.objects.count() == 2

    assert billing_period_close(**JUNE) == 2

    assert Invoice.objects.filter(status="issued").count() == 4
    assert InvoiceLine.objects.count() == 4
    assert sorted(Invoice.objects.values_list("number", flat=True))[-1] == "INV-2026-000004"


def test_one_customers_failure_does_not_stop_the_others():
    OperatorProfileFactory()
    first, second, third = customers_with_june_records(3)
    real_draft = __import__("billing.invoicing.services", fromlist=["x"]).invoice_draft_for_period

    def fails_for_second(*, customer, **kwargs):
        if customer.pk == second.pk:
            raise RuntimeError("boom")
        return real_draft(customer=customer, **kwargs)

    with mock.patch("billing.invoicing.services.invoice_draft_for_period", side_effect=fails_for_second):
        assert billing_period_close(**JUNE) == 2
    assert set(Invoice.objects.values_list("customer_id", flat=True)) == {first.pk, third.pk}
    assert billing_period_close(**JUNE) == 1  # the next run picks it up


def test_with_review_on_the_close_makes_drafts_that_staff_issue():
    OperatorProfileFactory(review_drafts=True)
    customers_with_june_records(2)

    assert billing_period_close(**JUNE) == 2
    assert billing_period_close(**JUNE) == 0

    assert set(Invoice.objects.values_list("status", "number")) == {("draft", None)}


def test_quarterly_customers_close_only_on_quarter_starts():
    OperatorProfileFactory()
    monthly, quarterly = customers_with_june_records(2)
    BillingProfileFactory(customer=quarterly, interval=BillingProfile.Interval.QUARTERLY)

    assert billing_period_close(period_start=date(2026, 5, 1), period_end=date(2026, 6, 1)) == 0
    assert billing_period_close(**JUNE) == 1
    assert Invoice.objects.get().customer == monthly
    assert billing_period_close(period_start=date(2026, 4, 1), period_end=date(2026, 7, 1)) == 1
    assert Invoice.objects.get(customer=quarterly).period_start == date(2026, 4, 1)


def test_periods_ending_on_a_day():
    assert periods_ending(date(2026, 6, 2)) == []
    assert periods_ending(date(2026, 6, 1)) == [("monthly", date(2026, 5, 1), date(2026, 6, 1))]
    assert periods_ending(date(2026, 1, 1)) == [
        ("monthly", date(2025, 12, 1), date(2026, 1, 1)), ("quarterly", date(2025, 10, 1), date(2026, 1, 1))
    ]


def test_the_beat_task_closes_the_previous_month_for_each_customer_and_reruns_harmlessly(
    django_capture_on_commit_callbacks,
):
    OperatorProfileFactory()
    customers_with_june_records(2)

    with django_capture_on_commit_callbacks(execute=True):
        assert close_billing_period.delay("2026-07-01").get() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert close_billing_period.delay("2026-07-09").get() == 0  # a late rerun of the same month

    assert Invoice.objects.filter(status="issued", **JUNE).count() == 2


def test_the_command_closes_a_month_and_prints_what_it_issued():
    OperatorProfileFactory()
    [customer] = customers_with_june_records(1)
    out = StringIO()

    call_command("close_billing_period", "--period", "2026-06", stdout=out)

    text = out.getvalue()
    assert "INV-2026-000001" in text and customer.number in text and "11.90 EUR" in text
    assert "1 invoices issued, 0 drafts to review" in text
    out = StringIO()
    call_command("close_billing_period", "--period", "2026-06", stdout=out)
    assert "0 invoices issued" in out.getvalue()
    assert Invoice.objects.get().total_incl_vat == Decimal("11.90")


def test_the_command_defaults_to_the_previous_month_and_refuses_a_bad_period():
    OperatorProfileFactory()
    with mock.patch("billing.management.commands.close_billing_period.billing_today", return_value=date(2026, 7, 3)):
        [customer] = customers_with_june_records(1)
        call_command("close_billing_period", stdout=StringIO())
    assert Invoice.objects.get(customer=customer).period_start == date(2026, 6, 1)
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("close_billing_period", "--period", "June")
