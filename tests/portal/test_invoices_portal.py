"""Invoices and credit notes in the portal: the list with each document's status, the stored PDF (checked
against its SHA-256, never rendered in the request), and that only the holder or fleet manager of the account
ever gets a document."""

import hashlib
from datetime import date

import pytest
from django.urls import reverse

from billing.invoicing.rendering import invoice_pdf_store
from billing.models import Invoice
from tests.billing.test_accounting_helpers import credit, document, pdf_attach
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

INVOICES = reverse("portal:invoices")


def pdf_url(invoice) -> str:
    return reverse("portal:invoice-pdf", args=[invoice.pk])


def stored(invoice) -> bytes:
    content = b"%PDF-1.7\n% " + invoice.number.encode() + b"\n%%EOF\n"
    invoice_pdf_store(invoice_id=invoice.pk, pdf=content)
    return content


def test_holder_sees_invoices_and_credit_notes_with_number_period_total_and_status(person, person_client):
    paid = document(person.customer, period_start=date(2026, 5, 1), period_end=date(2026, 6, 1),
                    issue_date=date(2026, 6, 1))
    Invoice.objects.filter(pk=paid.pk).update(paid_at="2026-06-05T10:00:00Z")
    credited = document(person.customer)
    note = credit(credited)

    response = person_client.get(INVOICES)

    assert response.status_code == 200
    statuses = {row["invoice"].number: row["status"] for row in response.context["rows"]}
    assert statuses == {paid.number: "paid", credited.number: "credited", note.number: "credit_note"}
    page = response.content.decode()
    assert "11.90" in page
    last_days = {row["invoice"]: row["last_day"] for row in response.context["rows"]}
    assert last_days[paid] == date(2026, 5, 31)
    assert pdf_url(note) in page


def test_an_unpaid_invoice_past_its_due_date_is_overdue(person, person_client):
    invoice = document(person.customer, issue_date=date(2020, 1, 1), period_start=date(2019, 12, 1),
                       period_end=date(2020, 1, 1))

    rows = person_client.get(INVOICES).context["rows"]

    assert [(row["invoice"], row["status"]) for row in rows] == [(invoice, "overdue")]


def test_drafts_are_not_shown(person, person_client):
    from tests.billing.invoice_factories import InvoiceFactory

    InvoiceFactory(customer=person.customer)

    response = person_client.get(INVOICES)

    assert response.context["rows"] == []
    assert "No invoices yet" in response.content.decode()


def test_the_pdf_is_the_stored_document_as_an_attachment(person, person_client):
    invoice = document(person.customer)
    content = stored(invoice)

    response = person_client.get(pdf_url(invoice))

    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Checksum-SHA256"] == hashlib.sha256(content).hexdigest()


def test_a_pdf_not_rendered_yet_is_a_friendly_404_and_is_not_rendered_in_the_request(person, person_client,
                                                                                       monkeypatch):
    invoice = document(person.customer)
    monkeypatch.setattr("billing.invoicing.pdf.render_invoice_pdf_bytes",
                        lambda *a, **k: pytest.fail("rendered in the request"))

    response = person_client.get(pdf_url(invoice))

    assert response.status_code == 404
    assert "not ready yet" in response.content.decode()
    invoice.refresh_from_db()
    assert not invoice.pdf


def test_a_stored_pdf_that_does_not_match_its_checksum_is_not_served(person, person_client):
    invoice = document(person.customer)
    stored(invoice)
    invoice.refresh_from_db()
    with invoice.pdf.open("wb") as damaged:
        damaged.write(b"%PDF-1.7 something else")

    response = person_client.get(pdf_url(invoice))

    assert response.status_code == 404
    assert b"something else" not in response.content


def test_another_accounts_invoice_pdf_is_a_404_like_one_that_does_not_exist(person_client, other_person):
    theirs = document(other_person.customer)
    pdf_attach(theirs)

    response = person_client.get(pdf_url(theirs))
    missing = person_client.get(reverse("portal:invoice-pdf", args=[theirs.pk + 1000]))

    assert response.status_code == missing.status_code == 404
    assert theirs.number not in response.content.decode()
    assert theirs.number not in person_client.get(INVOICES).content.decode()


def test_a_fleet_driver_gets_404_for_the_companys_invoices_and_the_manager_gets_them(fleet):
    invoice = document(fleet.company)
    content = stored(invoice)
    driver, manager = signed_in(fleet.driver), signed_in(fleet.manager)

    assert driver.get(INVOICES).status_code == 404
    assert driver.get(pdf_url(invoice)).status_code == 404
    assert manager.get(INVOICES).status_code == 200
    assert manager.get(pdf_url(invoice)).content == content
