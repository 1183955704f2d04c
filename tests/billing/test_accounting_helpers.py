"""Documents for the accountants' workspace tests, issued through billing.invoicing's services (no tests here).

`document(customer, nets=[("19", "10.00")], issue_date=...)` issues an invoice with one line per (rate, net);
`pdf_attach(invoice)` stores a small PDF as the rendering task would; `accountant()` is a staff user in the
Accountants group (not a superuser), as operators create them."""

from datetime import date
from decimal import Decimal
from unittest import mock

from django.core.files.base import ContentFile

from billing.accounting.roles import accountant_role_ensure
from billing.invoicing import credit_note_issue, invoice_issue
from billing.models import Invoice
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory
from tests.factories import CustomerFactory, UserFactory


def private_storage_in(settings, tmp_path):
    """Invoice PDFs in a folder of this test, like the private default storage of production (for a fixture:
    `settings` is pytest-django's)."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def document(customer=None, *, nets=(("19", "10.00"),), issue_date=date(2026, 7, 1),
             period_start=date(2026, 6, 1), period_end=date(2026, 7, 1), category="S") -> Invoice:
    """An issued invoice of `customer` (a new one if None) with one line per (VAT rate, net amount)."""
    OperatorProfileFactory()
    invoice = InvoiceFactory(customer=customer or CustomerFactory(), period_start=period_start, period_end=period_end)
    for rate, net in nets:
        InvoiceLineFactory(invoice=invoice, vat_rate=Decimal(rate), unit_price_excl_vat=Decimal(net),
                           vat_category=category)
    return invoice_issue(invoice=invoice, issue_date=issue_date)


def credit(invoice: Invoice, *, amount: str | None = None, issue_date: date | None = None) -> Invoice:
    """A credit note for the whole invoice, or for `amount` of its first line, issued today or on `issue_date`
    (the service issues today; an issued date never changes afterwards, on PostgreSQL not even by SQL)."""
    lines = None if amount is None else {invoice.lines.order_by("position").first().pk: Decimal(amount)}
    if issue_date is None:
        return credit_note_issue(invoice=invoice, reason="Wrong tariff", lines=lines)
    with mock.patch("billing.invoicing.services.billing_today", return_value=issue_date):
        return credit_note_issue(invoice=invoice, reason="Wrong tariff", lines=lines)


def pdf_attach(invoice: Invoice, content: bytes | None = None) -> bytes:
    content = content or b"%PDF-1.7\n% " + invoice.number.encode() + b"\n%%EOF\n"
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(content), save=False)
    invoice.save(update_fields=["pdf"])
    return content


def accountant(**fields):
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(accountant_role_ensure())
    return user
