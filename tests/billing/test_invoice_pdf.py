"""Invoice and credit note PDFs: what the document shows (text extracted with pypdf), and the rendering task:
stored once in private storage with its SHA-256, retried, flagged for staff when it keeps failing."""

import hashlib
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest

from billing.invoicing import credit_note_issue, invoice_issue
from billing.invoicing.pdf import InvoiceResources, render_invoice_html, render_invoice_pdf_bytes
from billing.invoicing.rendering import (
    invoice_pdf_retry,
    invoices_with_pdf_problems,
    render_invoice_pdf,
)
from billing.models import Invoice, InvoiceLine
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def issued_invoice(lines: int = 3, customer=None, **line_fields) -> Invoice:
    OperatorProfileFactory()
    invoice = InvoiceFactory(customer=customer or CustomerFactory(name="Ada Lovelace"))
    for n in range(1, lines + 1):
        InvoiceLineFactory(
            invoice=invoice, position=n, description=f"Charging at Alexanderplatz {n}", energy_wh=12_345,
            duration_s=3_900, quantity=Decimal("12.345"), unit="kWh", unit_price_excl_vat=Decimal("0.40"),
            discount_excl_vat=Decimal("0.00"), net_amount=Decimal("4.938"),
            service_start=datetime(2026, 6, n % 28 + 1, 9, tzinfo=UTC), **line_fields,
        )
    return invoice_issue(invoice=invoice)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_shows_number_parties_dates_lines_vat_and_totals():
    invoice = issued_invoice(lines=3)

    text = pdf_text(render_invoice_pdf_bytes(invoice))

    assert invoice.number in text
    assert "Voltpark Charging GmbH" in text and "DE123456789" in text  # supplier and its VAT id
    assert "Ada Lovelace" in text
    assert "Charging at Alexanderplatz 2" in text and "12.345 kWh" in text and "1:05 h" in text
    assert "Total excl. VAT 14.81" in text  # 3 x 4.938 = 14.814, rounded once
    assert "VAT 19 % on 14.81 2.81" in text
    assert "Total incl. VAT 17.62 EUR" in text
    assert "Supply period 01 Jun 2026 – 30 Jun 2026" in text
    assert f"Due date {invoice.due_date:%d %b %Y}" in text
    assert "IBAN DE89370400440532013000" in text and f"reference {invoice.number}" in text
    assert "Page 1 of 1" in text
    assert "Amtsgericht Berlin HRB 123456 B" in text  # registration details in the footer


def test_a_long_invoice_numbers_its_pages_page_x_of_y():
    invoice = issued_invoice(lines=100)

    reader = pypdf.PdfReader(io.BytesIO(render_invoice_pdf_bytes(invoice)))

    pages = len(reader.pages)
    assert pages >= 2
    assert [f"Page {n} of {pages}" in page.extract_text() for n, page in enumerate(reader.pages, 1)] == [True] * pages
    assert "Date" in reader.pages[1].extract_text()  # the table header repeats on every page


def test_a_thirty_line_invoice_fits_on_one_page():
    invoice = issued_invoice(lines=30)

    assert len(pypdf.PdfReader(io.BytesIO(render_invoice_pdf_bytes(invoice))).pages) == 1


def test_a_credit_note_says_which_invoice_it_credits_and_why():
    invoice = issued_invoice(lines=2)
    note = credit_note_issue(invoice=invoice, reason="Station fault on 2 June")

    text = pdf_text(render_invoice_pdf_bytes(note))

    assert f"Credit note {note.number}" in text
    assert f"Credit note for invoice {invoice.number}: Station fault on 2 June" in text
    assert "will be refunded" in text and "Please pay" not in text


def test_the_invoice_notes_print_the_exemption_or_reverse_charge_mention():
    invoice = issued_invoice(lines=1)
    invoice.notes = "Reverse charge: VAT to be accounted for by the recipient."  # in memory: issued rows never change

    assert "Reverse charge: VAT to be accounted for by the recipient." in pdf_text(render_invoice_pdf_bytes(invoice))


def test_customer_text_is_escaped_and_cannot_load_resources():
    customer = CustomerFactory(name='Müller & Söhne <img src="http://example.com/x.png">')
    invoice = issued_invoice(lines=1, customer=customer)

    html = render_invoice_html(invoice)
    text = pdf_text(render_invoice_pdf_bytes(invoice))

    assert "<img" not in html and "Müller &amp; Söhne &lt;img" in html
    assert 'Müller & Söhne <img src="http://example.com/x.png">' in text.replace("\n", " ")
    with pytest.raises(ValueError):
        InvoiceResources({})("http://example.com/x.png")


def test_issuing_queues_the_pdf_which_lands_in_private_storage_with_its_sha256(
        private_storage, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued_invoice(lines=2)

    invoice.refresh_from_db()
    stored = Path(invoice.pdf.path)
    assert stored.is_relative_to(private_storage) and stored.name == f"{invoice.number}.pdf"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == invoice.pdf_sha256
    assert stored.read_bytes().startswith(b"%PDF-")
    assert invoice.pdf_rendered_at is not None and invoice.pdf_attempts == 1 and invoice.pdf_error == ""
    assert invoice.status == Invoice.Status.ISSUED


def test_rendering_an_invoice_that_has_its_pdf_changes_nothing(monkeypatch):
    invoice = issued_invoice(lines=1)
    render_invoice_pdf.delay(invoice.pk)
    invoice.refresh_from_db()
    first = (invoice.pdf.name, invoice.pdf_sha256, invoice.pdf_rendered_at)
    monkeypatch.setattr("billing.invoicing.rendering.render_invoice_pdf_bytes", lambda *a: pytest.fail("rendered"))

    assert render_invoice_pdf.delay(invoice.pk).get() == invoice.pdf_sha256

    invoice.refresh_from_db()
    assert (invoice.pdf.name, invoice.pdf_sha256, invoice.pdf_rendered_at) == first and invoice.pdf_attempts == 1


def test_a_draft_is_never_rendered():
    draft = InvoiceFactory()
    InvoiceLineFactory(invoice=draft)

    assert render_invoice_pdf.delay(draft.pk).get() is None
    assert not Invoice.objects.get(pk=draft.pk).pdf


def test_a_failing_render_leaves_the_invoice_issued_flagged_for_staff_and_staff_can_retry(
        monkeypatch, django_capture_on_commit_callbacks):
    invoice = issued_invoice(lines=1)
    monkeypatch.setattr("billing.invoicing.rendering.render_invoice_pdf_bytes",
                        lambda *a: (_ for _ in ()).throw(OSError("fonts missing")))

    render_invoice_pdf.delay(invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED and not invoice.pdf
    assert invoice.pdf_error == "OSError: fonts missing"
    assert list(invoices_with_pdf_problems()) == [invoice]

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        invoice_pdf_retry(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.pdf and invoice.pdf_error == "" and invoice.pdf_attempts == 2
    assert list(invoices_with_pdf_problems()) == []


def test_on_a_worker_failures_are_retried_with_backoff_and_flagged_when_retries_run_out():
    invoice = issued_invoice(lines=1)

    assert render_invoice_pdf.max_retries == 5 and render_invoice_pdf.autoretry_for == (Exception,)
    assert render_invoice_pdf.retry_backoff and render_invoice_pdf.soft_time_limit < render_invoice_pdf.time_limit
    render_invoice_pdf.on_failure(TimeoutError("soft time limit"), "task-id", (invoice.pk,), {}, None)

    invoice.refresh_from_db()
    assert invoice.pdf_error == "TimeoutError: soft time limit" and invoice in invoices_with_pdf_problems()


def test_an_issued_invoice_long_without_pdf_is_shown_to_staff(monkeypatch):
    invoice = issued_invoice(lines=1)
    recent = list(invoices_with_pdf_problems())
    two_hours_later = invoice.issued_at + timedelta(hours=2)
    monkeypatch.setattr("billing.invoicing.rendering.timezone.now", lambda: two_hours_later)

    assert recent == [] and list(invoices_with_pdf_problems()) == [invoice]


def test_line_amounts_print_at_the_currency_precision_and_unit_prices_keep_four_places():
    invoice = issued_invoice(lines=1)
    line = InvoiceLine.objects.get(invoice=invoice)

    html = render_invoice_html(invoice, [line])

    assert ">4.94<" in html and ">0.40<" in html
