"""Credit notes: full (what is left of every line) or partial (chosen amounts), never more than a line has left,
numbered in their own series, referencing the invoice; and the state accountants see."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.invoicing import credit_note_issue, invoice_issue, invoice_status, invoices_filter_status
from billing.models import Invoice
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice():
    OperatorProfileFactory()
    draft = InvoiceFactory()
    InvoiceLineFactory(invoice=draft, position=1, quantity=Decimal("2"), unit_price_excl_vat=Decimal("10.00"),
                       discount_excl_vat=Decimal("1.00"))  # 19.00
    InvoiceLineFactory(invoice=draft, position=2, unit_price_excl_vat=Decimal("5.00"), vat_rate=Decimal("7"))
    return invoice_issue(invoice=draft, issue_date=date(2026, 7, 1))


def test_a_full_credit_note_negates_every_line_and_has_its_own_number(invoice):
    note = credit_note_issue(invoice=invoice, reason="Wrong customer")

    assert note.kind == Invoice.Kind.CREDIT_NOTE and note.number == f"CN-{date.today().year}-000001"
    assert note.credited_invoice == invoice and note.reason == "Wrong customer"
    assert f"Credit note for invoice {invoice.number}" in note.notes
    assert (note.total_excl_vat, note.total_vat, note.total_incl_vat) == (
        -invoice.total_excl_vat, -invoice.total_vat, -invoice.total_incl_vat
    )
    first = note.lines.get(position=1)
    assert (first.quantity, first.unit_price_excl_vat, first.discount_excl_vat, first.net_amount) == (
        Decimal("-2"), Decimal("10.00"), Decimal("-1.00"), Decimal("-19.00")
    )
    assert first.credited_line == invoice.lines.get(position=1)
    assert invoice_status(invoice) == "credited"


def test_a_partial_credit_note_credits_chosen_amounts_and_refuses_over_crediting(invoice):
    line = invoice.lines.get(position=1)

    note = credit_note_issue(invoice=invoice, reason="Goodwill", lines={line.pk: Decimal("4.00")})

    assert note.lines.get().net_amount == Decimal("-4.00")
    assert note.total_incl_vat == Decimal("-4.76")
    assert invoice_status(invoice, today=date(2026, 7, 2)) == "issued"
    with pytest.raises(ValidationError, match="15 left to credit"):
        credit_note_issue(invoice=invoice, reason="Too much", lines={line.pk: Decimal("15.01")})
    credit_note_issue(invoice=invoice, reason="The rest", lines={line.pk: Decimal("15.00")})
    with pytest.raises(ValidationError, match="nothing left"):
        credit_note_issue(invoice=invoice, reason="Again", lines={line.pk: Decimal("0.01")})

    # A full credit note after partial ones credits only what is left: line 2
    rest = credit_note_issue(invoice=invoice, reason="Close it")
    assert list(rest.lines.values_list("net_amount", flat=True)) == [Decimal("-5.00")]
    assert invoice_status(invoice) == "credited"
    with pytest.raises(ValidationError, match="fully credited"):
        credit_note_issue(invoice=invoice, reason="Once more")


def test_credit_notes_are_refused_without_a_reason_for_drafts_and_for_foreign_lines(invoice):
    with pytest.raises(ValidationError):
        credit_note_issue(invoice=invoice, reason="  ")
    with pytest.raises(ValidationError, match="Only an issued invoice"):
        credit_note_issue(invoice=InvoiceFactory(), reason="Draft")
    foreign = InvoiceLineFactory()
    with pytest.raises(ValidationError, match="not a line of this invoice"):
        credit_note_issue(invoice=invoice, reason="Wrong", lines={foreign.pk: Decimal("1")})
    with pytest.raises(ValidationError, match="positive"):
        credit_note_issue(invoice=invoice, reason="Wrong", lines={invoice.lines.first().pk: Decimal("-1")})
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()


def test_a_credit_note_can_not_credit_a_credit_note(invoice):
    note = credit_note_issue(invoice=invoice, reason="Wrong customer")
    with pytest.raises(ValidationError, match="Only an issued invoice"):
        credit_note_issue(invoice=note, reason="Undo")


def test_status_paid_overdue_issued_and_the_matching_filter(invoice):
    assert invoice.due_date == date(2026, 7, 15)
    assert invoice_status(invoice, today=date(2026, 7, 15)) == "issued"
    assert invoice_status(invoice, today=date(2026, 7, 16)) == "overdue"
    assert list(invoices_filter_status(Invoice.objects.all(), "overdue", today=date(2026, 7, 16))) == [invoice]
    assert list(invoices_filter_status(Invoice.objects.all(), "issued", today=date(2026, 7, 16))) == []

    invoice.paid_at = datetime(2026, 7, 10, tzinfo=UTC)
    invoice.save(update_fields=["paid_at"])
    assert invoice_status(invoice, today=date(2026, 7, 16)) == "paid"
    assert list(invoices_filter_status(Invoice.objects.all(), "paid")) == [invoice]
    assert invoice_status(InvoiceFactory()) == "draft"
    credit_note_issue(invoice=invoice, reason="Refund")
    assert list(invoices_filter_status(Invoice.objects.all(), "credited")) == [invoice]
