# ruff: noqa: F811  (pytest fixtures imported from other modules are parameters of the tests)
"""Documents in the driver's language: invoice PDFs follow the customer's language as snapshotted at issue (dates
and numbers in German format, the legal mentions in German), the ad-hoc page follows the browser, and the ad-hoc
receipt (PDF and e-mail) is written in the language of the page the guest paid on. English stays the default."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pypdf
import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation

from billing.invoicing import invoice_issue
from billing.invoicing.pdf import invoice_language, render_invoice_html, render_invoice_pdf_bytes
from billing.invoicing.vat import REVERSE_CHARGE_MENTION
from billing.models import AdHocSession, Invoice
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory
from tests.billing.payments_helpers import (
    localstripe_server,  # noqa: F401  (session fixture)
    stripe_settings,  # noqa: F401
)
from tests.billing.test_adhoc import charge, connector, start  # noqa: F401  (connector is a fixture)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _back_to_english():
    """LocaleMiddleware activates the request's language in this thread; later tests must not inherit it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def issued_invoice(language: str, lines: int = 3, **line_fields) -> Invoice:
    OperatorProfileFactory()
    invoice = InvoiceFactory(customer=CustomerFactory(name="Ada Lovelace", language=language))
    for n in range(1, lines + 1):
        fields = {"description": f"Charging at Alexanderplatz {n}", "energy_wh": 12_345, "duration_s": 3_900,
                  "quantity": Decimal("12.345"), "unit": "kWh", "unit_price_excl_vat": Decimal("0.40"),
                  "discount_excl_vat": Decimal("0.00"), "net_amount": Decimal("4.938"),
                  "service_start": datetime(2026, 6, n % 28 + 1, 9, tzinfo=UTC)}
        InvoiceLineFactory(invoice=invoice, position=n, **{**fields, **line_fields})
    return invoice_issue(invoice=invoice)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


# --- invoices -----------------------------------------------------------------------------------------------
def test_a_german_customers_invoice_is_german_with_german_dates_and_decimal_commas():
    invoice = issued_invoice("de")

    text = pdf_text(render_invoice_pdf_bytes(invoice))

    assert f"Rechnung {invoice.number}" in text and "Rechnungsnummer" in text
    assert "Leistungszeitraum 01.06.2026 – 30.06.2026" in text
    assert f"Fällig am {invoice.due_date:%d.%m.%Y}" in text
    assert "12,345 kWh" in text and "0,40" in text  # quantity and unit price with a decimal comma
    assert "Summe netto 14,81" in text and "MwSt. 19 % auf 14,81 2,81" in text
    assert "Gesamtbetrag inkl. MwSt. 17,62 EUR" in text
    assert "Bitte überweisen Sie" in text and f"Referenz {invoice.number}" in text
    assert "Seite 1 von 1" in text
    for english in ("Invoice", "Supply period", "Total excl. VAT", "Page 1 of 1", "Jun 2026", "14.81"):
        assert english not in text, english


def test_an_english_customers_invoice_stays_english():
    invoice = issued_invoice("en")

    text = pdf_text(render_invoice_pdf_bytes(invoice))

    assert f"Invoice {invoice.number}" in text and "Supply period 01 Jun 2026 – 30 Jun 2026" in text
    assert "Total excl. VAT 14.81" in text and "Total incl. VAT 17.62 EUR" in text and "Page 1 of 1" in text
    for german in ("Rechnung", "Seite", "14,81", "01.06.2026"):
        assert german not in text, german


def test_thousands_are_grouped_the_german_way():
    invoice = issued_invoice("de", lines=1, quantity=Decimal(1), net_amount=Decimal("1234.5"),
                             unit_price_excl_vat=Decimal("1234.5"))

    html = render_invoice_html(invoice)

    assert "1.234,50" in html and "1,234.50" not in html


def test_the_reverse_charge_mention_is_the_german_legal_wording():
    invoice = issued_invoice("de", lines=1, vat_category="AE", vat_rate=Decimal("0"))
    assert REVERSE_CHARGE_MENTION in invoice.notes  # stored in English, printed in the document's language

    html = render_invoice_html(invoice)

    assert "Steuerschuldnerschaft des Leistungsempfängers" in html
    assert "Artikel 196 der Richtlinie 2006/112/EG" in html
    assert "Reverse charge: VAT to be accounted" not in html


def test_the_language_is_frozen_at_issue_and_older_invoices_fall_back_to_the_customers():
    invoice = issued_invoice("de")
    assert invoice.buyer["language"] == "de"

    invoice.customer.language = "en"
    invoice.customer.save(update_fields=["language"])
    assert invoice_language(Invoice.objects.get(pk=invoice.pk)) == "de"  # the snapshot wins

    older = Invoice.objects.get(pk=invoice.pk)
    older.buyer = {key: value for key, value in older.buyer.items() if key != "language"}
    assert invoice_language(older) == "en"  # issued before the snapshot had it: the customer's current one


def test_rendering_a_german_invoice_leaves_the_active_language_alone():
    invoice = issued_invoice("de")

    render_invoice_html(invoice)

    assert translation.get_language() == settings.LANGUAGE_CODE


# --- the ad-hoc page and receipt ------------------------------------------------------------------------------
def test_the_ad_hoc_page_follows_the_browsers_language_and_offers_a_switch(client, connector):
    html = client.get(f"/charge/{connector.evse.evse_id}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert '<html lang="de">' in html
    assert "Laden ohne Kundenkonto" in html and "Ladepunkt" in html and "inkl. 19 % MwSt." in html
    assert 'action="/i18n/setlang/"' in html and 'value="en"' in html and "Deutsch" in html
    for english in ("Charge without an account", "Have an account?", "Price<", "Your card is authorised"):
        assert english not in html, english


def test_the_ad_hoc_pages_script_gets_its_texts_translated(client, connector, settings):
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_evbackoffice"

    html = client.get(f"/charge/{connector.evse.evse_id}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert 'data-authorising="Wird autorisiert …"' in html and 'data-locale="de"' in html
    assert "Authorising" not in html


def test_the_ad_hoc_start_answers_in_the_pages_language(client, connector):
    response = client.post(f"/charge/{connector.evse.evse_id}/start/", {"payment_method": ""},
                           HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 400 and response.json()["error"] == "Bitte geben Sie eine Karte an."


@pytest.mark.usefixtures("stripe_settings")
def test_the_receipt_is_written_in_the_language_the_guest_paid_in(
    client, connector, localstripe_server, django_capture_on_commit_callbacks
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"  # as the page's language switch sets it
    adhoc = AdHocSession.objects.get(uuid=start(client, localstripe_server, connector).json()["id"])
    assert adhoc.language == "de"
    translation.activate("en")  # settling runs later, in a task, in no particular language

    adhoc = charge(connector, adhoc, 23_456, django_capture_on_commit_callbacks)

    [sent] = mail.outbox
    assert sent.subject == f"Ihr Ladebeleg {adhoc.receipt_number}"
    assert "Vielen Dank, dass Sie bei Voltpark Charging GmbH geladen haben." in sent.body
    assert "23,456 kWh, 10,89 EUR inkl. MwSt." in sent.body
    text = pdf_text(sent.attachments[0][1])
    assert f"Beleg (vereinfachte Rechnung) {adhoc.receipt_number}" in text
    assert "Gesamtbetrag inkl. MwSt. 10,89 EUR" in text and "Enthaltene MwSt. 19 %" in text
    assert "Receipt" not in text and "Paid by card" not in text
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # whoever downloads it later gets the same document
    assert "Beleg (vereinfachte Rechnung)" in pdf_text(client.get(f"/charge/adhoc/{adhoc.uuid}/receipt.pdf").content)


@pytest.mark.usefixtures("stripe_settings")
def test_an_english_guests_receipt_stays_english(
    client, connector, localstripe_server, django_capture_on_commit_callbacks
):
    adhoc = AdHocSession.objects.get(uuid=start(client, localstripe_server, connector).json()["id"])
    assert adhoc.language == "en"

    adhoc = charge(connector, adhoc, 23_456, django_capture_on_commit_callbacks)

    [sent] = mail.outbox
    assert sent.subject == f"Your charging receipt {adhoc.receipt_number}"
    assert "Paid by card: 10.89 EUR." in sent.body
    assert "Receipt (simplified invoice)" in pdf_text(sent.attachments[0][1])
