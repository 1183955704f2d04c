"""On PostgreSQL: gapless numbers under real concurrency (threads with their own connections), a rolled-back
issue giving its number back, and triggers refusing any change to an issued invoice, even in raw SQL."""

import threading
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, connection, connections, transaction

from billing.invoicing import invoice_issue
from billing.models import Invoice, InvoiceLine
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory
from tests.needs import missing


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL (DATABASE_URL): SQLite serialises all writers and has no immutability triggers")


ISSUERS = 8


def drafts(count):
    made = []
    for _ in range(count):
        invoice = InvoiceFactory()
        InvoiceLineFactory(invoice=invoice)
        made.append(invoice.pk)
    return made


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuers_take_numbers_without_gaps_or_duplicates():
    OperatorProfileFactory()
    ids = drafts(ISSUERS)
    start = threading.Barrier(ISSUERS)
    errors = []

    def issue(invoice_id):
        try:
            start.wait()
            invoice_issue(invoice=Invoice(pk=invoice_id), issue_date=date(2026, 7, 1))
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    with mock.patch("billing.invoicing.services._queue_pdf"):
        threads = [threading.Thread(target=issue, args=(pk,)) for pk in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, ISSUERS + 1)]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_issue_gives_its_number_back():
    OperatorProfileFactory()
    first, second = drafts(2)

    with mock.patch("billing.invoicing.services._queue_pdf"):
        with pytest.raises(RuntimeError), transaction.atomic():
            invoice_issue(invoice=Invoice(pk=first), issue_date=date(2026, 7, 1))
            raise RuntimeError("the caller's transaction fails after issuing")
        issued = invoice_issue(invoice=Invoice(pk=second), issue_date=date(2026, 7, 1))

    assert issued.number == "INV-2026-000001"
    assert Invoice.objects.get(pk=first).number is None


def raw(sql, *params):
    with pytest.raises(IntegrityError, match="issued"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_the_database_refuses_to_change_an_issued_invoice_or_its_lines():
    OperatorProfileFactory()
    [pk] = drafts(1)
    invoice = invoice_issue(invoice=Invoice(pk=pk))
    line = invoice.lines.get()

    raw("UPDATE billing_invoice SET total_incl_vat = 1 WHERE id = %s", pk)
    raw("UPDATE billing_invoice SET number = 'INV-2026-999999' WHERE id = %s", pk)
    raw("UPDATE billing_invoice SET vat_breakdown = '[]' WHERE id = %s", pk)
    raw("UPDATE billing_invoice SET status = 'draft', number = NULL WHERE id = %s", pk)
    raw("DELETE FROM billing_invoice WHERE id = %s", pk)
    raw("UPDATE billing_invoiceline SET net_amount = 0 WHERE id = %s", line.pk)
    raw("DELETE FROM billing_invoiceline WHERE id = %s", line.pk)
    raw("INSERT INTO billing_invoiceline (invoice_id, position, kind, description, quantity, unit, "
        "unit_price_excl_vat, discount_excl_vat, net_amount, vat_category, vat_rate) "
        "VALUES (%s, 2, 'charging', 'x', 1, 'session', 1, 0, 1, 'S', 19)", pk)

    # The payment and the PDF (once) may still be written
    with connection.cursor() as cursor:
        cursor.execute("UPDATE billing_invoice SET paid_at = now(), pdf = 'invoices/a.pdf', pdf_sha256 = 'ab' "
                       "WHERE id = %s", [pk])
    raw("UPDATE billing_invoice SET pdf = 'invoices/b.pdf' WHERE id = %s", pk)
    invoice.refresh_from_db()
    assert invoice.total_incl_vat == Decimal("11.90") and invoice.pdf.name == "invoices/a.pdf"
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1


@pytest.mark.django_db
def test_the_database_lets_drafts_change():
    [pk] = drafts(1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE billing_invoice SET notes = 'edited' WHERE id = %s", [pk])
        cursor.execute("UPDATE billing_invoiceline SET description = 'edited' WHERE invoice_id = %s", [pk])
    Invoice.objects.get(pk=pk).delete()
    assert not Invoice.objects.filter(pk=pk).exists()
