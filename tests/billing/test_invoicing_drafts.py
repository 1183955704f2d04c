"""Drafting a period's invoices: which charge records (by start, in the billing time zone), pro-rated membership
fees, points credits as negative lines, one invoice per currency, and idempotence."""

from datetime import date
from decimal import Decimal

import pytest
from djmoney.money import Money

from billing.invoicing import invoice_draft_for_period, invoice_issue
from billing.loyalty import points_credits_open
from billing.models import Invoice, InvoiceLine, PointsEntry
from tests.billing.invoice_factories import OperatorProfileFactory
from tests.billing.invoicing_helpers import charge_record
from tests.billing.loyalty_factories import MembershipFactory, MembershipPlanFactory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

JUNE = {"period_start": date(2026, 6, 1), "period_end": date(2026, 7, 1)}
NINETEEN = "19.000000"


def redemption(customer, amount="5.00", currency="EUR", points=-500):
    return PointsEntry.objects.create(
        customer=customer, kind=PointsEntry.Kind.REDEEM, points=points, credit_amount=Money(amount, currency)
    )


def test_records_belong_to_the_period_they_start_in_the_billing_time_zone():
    customer = CustomerFactory()
    # 31 May 23:30 UTC is 1 June 01:30 in Berlin: a June session; 30 June 22:30 UTC is 1 July in Berlin.
    june_first = charge_record(customer, start="2026-05-31T23:30:00+00:00", parts=[(NINETEEN, "1.00")])
    june_last = charge_record(customer, start="2026-06-30T21:59:00+00:00", parts=[(NINETEEN, "2.00")])
    july = charge_record(customer, start="2026-06-30T22:30:00+00:00", parts=[(NINETEEN, "4.00")])

    [invoice] = invoice_draft_for_period(customer=customer, **JUNE)

    assert set(invoice.lines.values_list("cdr_id", flat=True)) == {june_first.pk, june_last.pk}
    assert invoice.status == Invoice.Status.DRAFT and invoice.total_excl_vat == Decimal("3.00")
    [july_invoice] = invoice_draft_for_period(customer=customer, period_start=date(2026, 7, 1),
                                              period_end=date(2026, 8, 1))
    assert list(july_invoice.lines.values_list("cdr_id", flat=True)) == [july.pk]


def test_a_record_no_earlier_invoice_took_goes_on_the_next_one():
    customer = CustomerFactory()
    late = charge_record(customer, start="2026-05-20T08:00:00+00:00", parts=[(NINETEEN, "1.00")])

    [invoice] = invoice_draft_for_period(customer=customer, **JUNE)

    assert list(invoice.lines.values_list("cdr_id", flat=True)) == [late.pk]


def test_drafting_again_returns_the_same_invoice_and_takes_no_record_twice():
    customer = CustomerFactory()
    charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[(NINETEEN, "1.00")])
    [first] = invoice_draft_for_period(customer=customer, **JUNE)
    charge_record(customer, start="2026-06-04T08:00:00+00:00", parts=[(NINETEEN, "2.00")])

    [again] = invoice_draft_for_period(customer=customer, **JUNE)

    assert again.pk == first.pk and again.lines.count() == 1
    assert Invoice.objects.count() == 1


def test_nothing_to_bill_makes_no_invoice():
    assert invoice_draft_for_period(customer=CustomerFactory(), **JUNE) == []


def test_one_invoice_per_currency():
    customer = CustomerFactory()
    charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[(NINETEEN, "1.00")])
    charge_record(customer, start="2026-06-04T08:00:00+00:00", parts=[("8.100000", "3.00")], currency="CHF")

    invoices = invoice_draft_for_period(customer=customer, **JUNE)

    assert [(str(invoice.currency), invoice.total_excl_vat) for invoice in invoices] == [
        ("CHF", Decimal("3.00")), ("EUR", Decimal("1.00"))
    ]


def test_a_credit_record_is_a_negative_line_and_a_record_is_invoiced_once_in_the_database():
    customer = CustomerFactory()
    original = charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[(NINETEEN, "7.80")])
    credit = charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[(NINETEEN, "-7.80")],
                           kind="credit", credited_record=original, reason="Meter fault")

    [invoice] = invoice_draft_for_period(customer=customer, **JUNE)

    credit_line = invoice.lines.get(cdr=credit)
    assert credit_line.net_amount == Decimal("-7.80") and "Credit for" in credit_line.description
    assert invoice.total_incl_vat == Decimal("0.00")
    other = Invoice.objects.create(customer=customer, currency="EUR", period_start=date(2026, 5, 1),
                                   period_end=date(2026, 6, 1))
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(invoice=other, position=1, kind="charging", description="again", cdr=original,
                                   unit_price_excl_vat=Decimal("7.80"), net_amount=Decimal("7.80"),
                                   vat_rate=Decimal("19"))


def test_membership_fee_is_pro_rated_for_the_days_of_the_period():
    # Joining on 16 June (30-day month) pays 15/30 of 11.99 = 5.995 -> 6.00
    customer = CustomerFactory()
    MembershipFactory(customer=customer, plan=MembershipPlanFactory(name="Plus"), starts_on=date(2026, 6, 16))

    [invoice] = invoice_draft_for_period(customer=customer, **JUNE)

    [line] = invoice.lines.all()
    assert line.kind == InvoiceLine.Kind.MEMBERSHIP_FEE and line.net_amount == Decimal("6.00")
    assert line.description == "Membership Plus, 2026-06-16 to 2026-06-30"
    assert (line.vat_category, line.vat_rate) == ("S", Decimal("19"))
    assert invoice.total_incl_vat == Decimal("7.14")


def test_a_whole_month_of_membership_is_the_monthly_fee_and_is_billed_once():
    customer = CustomerFactory()
    MembershipFactory(customer=customer, starts_on=date(2026, 1, 1))
    [invoice] = invoice_draft_for_period(customer=customer, **JUNE)
    assert invoice.lines.get().net_amount == Decimal("11.99")
    # Another (odd) period starting the same day bills no second June fee
    assert invoice_draft_for_period(customer=customer, period_start=date(2026, 6, 1),
                                    period_end=date(2026, 6, 15)) == []


def test_open_points_credits_become_negative_lines_on_the_largest_vat_group():
    customer = CustomerFactory()
    charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[("20.000000", "30.00")], city="Wien")
    charge_record(customer, start="2026-06-04T08:00:00+00:00", parts=[(NINETEEN, "10.00")])
    entry = redemption(customer, "5.00")
    too_big = redemption(customer, "100.00", points=-10_000)

    [invoice] = invoice_draft_for_period(customer=customer, **JUNE)

    line = invoice.lines.get(kind=InvoiceLine.Kind.POINTS_CREDIT)
    assert line.points_entry == entry and line.net_amount == Decimal("-5.00")
    assert (line.vat_category, line.vat_rate) == ("S", Decimal("20"))
    assert invoice.total_excl_vat == Decimal("35.00")
    # The credit that does not fit waits for a later invoice; a used one is not offered again
    assert not InvoiceLine.objects.filter(points_entry=too_big).exists()
    charge_record(customer, start="2026-07-04T08:00:00+00:00", parts=[(NINETEEN, "200.00")])
    [july] = invoice_draft_for_period(customer=customer, period_start=date(2026, 7, 1), period_end=date(2026, 8, 1))
    assert list(july.lines.filter(kind="points_credit").values_list("points_entry", flat=True)) == [too_big.pk]
    assert not points_credits_open(customer=customer).exists()  # both taken by an invoice line


def test_points_credits_alone_make_no_invoice():
    customer = CustomerFactory()
    redemption(customer)
    assert invoice_draft_for_period(customer=customer, **JUNE) == []


def test_a_draft_stays_editable_until_issued():
    OperatorProfileFactory(review_drafts=True)
    customer = CustomerFactory()
    charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[(NINETEEN, "10.00")])
    [draft] = invoice_draft_for_period(customer=customer, **JUNE)

    line = draft.lines.get()
    line.description = "Charging, corrected by staff"
    line.save()
    draft.notes = "Thank you for charging with us."
    draft.save()
    invoice = invoice_issue(invoice=draft)

    assert invoice.lines.get().description == "Charging, corrected by staff"
    assert invoice.notes == "Thank you for charging with us."
