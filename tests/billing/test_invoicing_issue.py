"""Issuing invoices: gapless numbers per series and year, VAT per category and rate rounded once, the parties'
details copied in, and an issued invoice that the code refuses to change."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from billing.invoicing import invoice_draft_for_period, invoice_issue
from billing.models import BillingProfile, Invoice, InvoiceLine, NumberSeries
from customers.models import Customer
from tests.billing.invoice_factories import (
    BillingProfileFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    OperatorProfileFactory,
)
from tests.billing.invoicing_helpers import charge_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

JUNE = {"period_start": date(2026, 6, 1), "period_end": date(2026, 7, 1)}


@pytest.fixture
def operator():
    return OperatorProfileFactory()


def draft_with(*nets_and_rates, customer=None):
    invoice = InvoiceFactory(**({"customer": customer} if customer else {}))
    for net, rate in nets_and_rates:
        InvoiceLineFactory(invoice=invoice, unit_price_excl_vat=Decimal(net), vat_rate=Decimal(rate))
    return invoice


def test_vat_breakdown_with_19_and_20_percent_is_exact_to_the_cent(operator):
    # Given a customer who charged in Germany (19 %) and Austria (20 %), with exact per-rate amounts
    customer = CustomerFactory()
    charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[("19.000000", "7.123456")])
    charge_record(customer, start="2026-06-04T08:00:00+00:00", parts=[("19.000000", "3.333333")])
    charge_record(customer, start="2026-06-05T08:00:00+00:00", parts=[("20.000000", "10.004999")], city="Wien")
    charge_record(customer, start="2026-06-06T08:00:00+00:00", parts=[("20.000000", "0.000002")], city="Wien")

    # When June is drafted and issued
    [draft] = invoice_draft_for_period(customer=customer, **JUNE)
    invoice = invoice_issue(invoice=draft, issue_date=date(2026, 7, 1))

    # Then each rate's exact nets are summed and rounded once: 10.456789 -> 10.46; 10.005001 -> 10.01
    assert invoice.vat_breakdown == [
        {"category": "S", "rate": "20.00", "excl_vat": "10.01", "vat": "2.00", "incl_vat": "12.01", "mention": "",
         "reason_code": ""},
        {"category": "S", "rate": "19.00", "excl_vat": "10.46", "vat": "1.99", "incl_vat": "12.45", "mention": "",
         "reason_code": ""},
    ]  # fmt: skip
    assert (invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat) == (
        Decimal("20.47"), Decimal("3.99"), Decimal("24.46")
    )
    assert invoice.lines.count() == 4


def test_a_record_with_two_vat_rates_gives_a_line_per_rate_with_its_discount(operator):
    customer = CustomerFactory()
    discount = {"kind": "membership", "label": "Plus", "excl_vat": "1.50", "incl_vat": "1.785",
                "vat_lines": [{"rate": "19", "excl_vat": "1.50", "incl_vat": "1.785"}]}
    cdr = charge_record(customer, start="2026-06-03T08:00:00+00:00",
                        parts=[("19.000000", "6.30"), ("7.000000", "1.00")], discounts=[discount])

    [draft] = invoice_draft_for_period(customer=customer, **JUNE)

    lines = list(draft.lines.order_by("position"))
    assert [(line.cdr_id, line.vat_rate, line.unit_price_excl_vat, line.discount_excl_vat, line.net_amount)
            for line in lines] == [
        (cdr.pk, Decimal("19"), Decimal("7.80"), Decimal("1.50"), Decimal("6.30")),
        (cdr.pk, Decimal("7"), Decimal("1.00"), Decimal("0"), Decimal("1.00")),
    ]  # fmt: skip
    assert lines[0].energy_wh == 20_000 and lines[0].duration_s == 3600
    assert lines[0].description == "Charging from 10:00, Charging park, Berlin (VAT 19 %)"


def test_issuing_numbers_invoices_and_credit_notes_in_their_own_series_per_year(operator):
    first = invoice_issue(invoice=draft_with(("10", "19")), issue_date=date(2026, 7, 1))
    second = invoice_issue(invoice=draft_with(("10", "19")), issue_date=date(2026, 12, 31))
    next_year = invoice_issue(invoice=draft_with(("10", "19")), issue_date=date(2027, 1, 1))

    assert [first.number, second.number, next_year.number] == ["INV-2026-000001", "INV-2026-000002", "INV-2027-000001"]
    assert NumberSeries.objects.get(prefix="INV", year=2026).last_number == 2


def test_issuing_copies_supplier_and_buyer_and_sets_the_due_date(operator):
    customer = CustomerFactory(kind=Customer.Kind.COMPANY, name="Fleet GmbH", vat_id="DE811111111")
    BillingProfileFactory(customer=customer, purchase_order="PO-42")
    invoice = invoice_issue(invoice=draft_with(("10", "19"), customer=customer), issue_date=date(2026, 7, 1))

    assert invoice.supplier["legal_name"] == "Voltpark Charging GmbH" and invoice.supplier["vat_id"] == "DE123456789"
    assert invoice.buyer["name"] == "Fleet GmbH" and invoice.buyer["vat_id"] == "DE811111111"
    assert invoice.buyer["purchase_order"] == "PO-42" and invoice.buyer["country"] == "DE"
    assert invoice.due_date == date(2026, 7, 15)
    assert invoice.einvoice is True  # a company, and its profile does not say otherwise

    # Later edits of the operator's details never reach the issued invoice
    operator.legal_name = "Renamed AG"
    operator.save()
    invoice.refresh_from_db()
    assert invoice.supplier["legal_name"] == "Voltpark Charging GmbH"


def test_einvoice_follows_the_billing_profile_over_the_customer_kind(operator):
    person = CustomerFactory()
    BillingProfileFactory(customer=person, einvoice=True)
    assert invoice_issue(invoice=draft_with(("10", "19"), customer=person)).einvoice is True
    assert invoice_issue(invoice=draft_with(("10", "19"))).einvoice is False


def test_issuing_without_an_operator_profile_is_refused_and_takes_no_number():
    draft = draft_with(("10", "19"))
    with pytest.raises(ValidationError, match="operator"):
        invoice_issue(invoice=draft)
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.DRAFT and draft.number is None
    assert not NumberSeries.objects.exists()


def test_issuing_twice_or_without_lines_is_refused(operator):
    invoice = invoice_issue(invoice=draft_with(("10", "19")))
    with pytest.raises(ValidationError, match="already issued"):
        invoice_issue(invoice=invoice)
    with pytest.raises(ValidationError, match="without lines"):
        invoice_issue(invoice=InvoiceFactory())


def test_the_pdf_is_queued_after_the_commit(operator, django_capture_on_commit_callbacks):
    task = mock.Mock()
    fake = mock.Mock(render_invoice_pdf=task)
    with mock.patch.dict("sys.modules", {"billing.invoicing.rendering": fake}):
        with django_capture_on_commit_callbacks(execute=True):
            invoice = invoice_issue(invoice=draft_with(("10", "19")))
    task.delay_on_commit.assert_called_once_with(invoice.pk)


def test_an_issued_invoice_and_its_lines_never_change_in_code(operator):
    invoice = invoice_issue(invoice=draft_with(("10", "19")))
    line = invoice.lines.get()

    invoice.total_incl_vat = Decimal("1.00")
    with pytest.raises(ValidationError):
        invoice.save()
    with pytest.raises(ValidationError):
        Invoice.objects.get(pk=invoice.pk).delete()
    line.net_amount = Decimal("1")
    with pytest.raises(ValidationError):
        line.save()
    with pytest.raises(ValidationError):
        line.delete()
    with pytest.raises(ValidationError):
        InvoiceLineFactory(invoice=invoice)

    # What may still change: the rendered PDF and the payment
    fresh = Invoice.objects.get(pk=invoice.pk)
    fresh.pdf_sha256 = "ab" * 32
    fresh.save(update_fields=["pdf_sha256"])
    assert Invoice.objects.get(pk=invoice.pk).total_incl_vat == Decimal("11.90")


def test_reverse_charge_for_an_eu_business_abroad_when_enabled(operator, settings):
    settings.BILLING_REVERSE_CHARGE = True
    customer = CustomerFactory(kind=Customer.Kind.COMPANY, country="AT", vat_id="ATU12345678")
    charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[("19.000000", "7.80")])

    [draft] = invoice_draft_for_period(customer=customer, **JUNE)
    invoice = invoice_issue(invoice=draft)

    [group] = invoice.vat_breakdown
    assert (group["category"], group["rate"], group["vat"]) == ("AE", "0.00", "0.00")
    assert group["reason_code"] == "VATEX-EU-AE"
    assert "Article 196" in group["mention"] and "Article 196" in invoice.notes
    assert invoice.total_incl_vat == Decimal("7.80")


def test_no_reverse_charge_by_default_or_for_private_persons(operator, settings):
    company = CustomerFactory(kind=Customer.Kind.COMPANY, country="AT", vat_id="ATU12345678")
    charge_record(company, start="2026-06-03T08:00:00+00:00", parts=[("19.000000", "7.80")])
    [invoice] = invoice_draft_for_period(customer=company, **JUNE)
    assert invoice.vat_breakdown[0]["category"] == "S" and invoice.total_vat == Decimal("1.48")

    settings.BILLING_REVERSE_CHARGE = True
    person = CustomerFactory(country="AT")
    charge_record(person, start="2026-06-03T08:00:00+00:00", parts=[("19.000000", "7.80")])
    [invoice] = invoice_draft_for_period(customer=person, **JUNE)
    assert invoice.vat_breakdown[0]["category"] == "S"


def test_a_record_without_vat_is_exempt_with_the_mention(operator):
    customer = CustomerFactory()
    charge_record(customer, start="2026-06-03T08:00:00+00:00", parts=[(None, "5.00")])
    charge_record(customer, start="2026-06-04T08:00:00+00:00", parts=[("19.000000", "5.00")])

    [draft] = invoice_draft_for_period(customer=customer, **JUNE)
    invoice = invoice_issue(invoice=draft)

    exempt = next(group for group in invoice.vat_breakdown if group["category"] == "E")
    assert (exempt["rate"], exempt["excl_vat"], exempt["vat"], exempt["mention"]) == (
        "0.00", "5.00", "0.00", "Exempt from VAT"
    )
    assert invoice.notes == "Exempt from VAT"
    assert invoice.total_incl_vat == Decimal("10.95")
    assert set(invoice.lines.values_list("vat_category", flat=True)) == {
        InvoiceLine.VatCategory.EXEMPT, InvoiceLine.VatCategory.STANDARD
    }
    assert BillingProfile.objects.count() == 0
