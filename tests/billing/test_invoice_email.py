"""Issued invoices and credit notes reach the customer by e-mail once their PDF is stored: once, with the stored
document attached, in the buyer's language; staff send one again from the admin, never a draft."""

import hashlib
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from billing.invoicing import credit_note_issue, invoice_issue
from billing.invoicing.emailing import invoice_email_send, send_invoice_email
from billing.invoicing.rendering import render_invoice_pdf
from billing.models import Invoice
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def issue(django_capture_on_commit_callbacks, *, language="en", email="ada@example.com", **customer) -> Invoice:
    """An invoice issued as a period close does it: after the commit its PDF is rendered, then e-mailed."""
    OperatorProfileFactory()
    draft = InvoiceFactory(customer=CustomerFactory(name="Ada Lovelace", email=email, language=language, **customer))
    InvoiceLineFactory(invoice=draft, unit_price_excl_vat=Decimal("10.00"))
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_issue(invoice=draft)
    invoice.refresh_from_db()
    return invoice


def stored_pdf(invoice: Invoice) -> bytes:
    with invoice.pdf.open("rb") as stored:
        return stored.read()


def test_an_issued_invoice_is_emailed_once_to_the_customer_with_its_stored_pdf(django_capture_on_commit_callbacks):
    invoice = issue(django_capture_on_commit_callbacks)

    [sent] = mail.outbox
    assert sent.to == ["ada@example.com"]
    assert sent.reply_to == ["billing@voltpark.example"]
    assert sent.subject == f"Your invoice {invoice.number} from Voltpark Charging GmbH"
    assert "Hello Ada Lovelace," in sent.body
    assert "for your charging from 01 Jun 2026 to 30 Jun 2026: 11.90 EUR incl. VAT." in sent.body
    assert f"It is due on {invoice.due_date:%d %b %Y}" in sent.body
    [(filename, content, mimetype)] = sent.attachments
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content == stored_pdf(invoice) and hashlib.sha256(content).hexdigest() == invoice.pdf_sha256
    assert invoice.emailed_at is not None


def test_a_redelivered_message_or_a_second_rendering_sends_nothing_more(django_capture_on_commit_callbacks):
    invoice = issue(django_capture_on_commit_callbacks)
    emailed_at = invoice.emailed_at

    assert send_invoice_email.apply(args=(invoice.pk,)).get() is False
    render_invoice_pdf.apply(args=(invoice.pk,)).get()  # a redelivered rendering finds the PDF and queues again

    assert len(mail.outbox) == 1
    invoice.refresh_from_db()
    assert invoice.emailed_at == emailed_at


def test_a_german_buyer_gets_the_email_in_german_formally(django_capture_on_commit_callbacks):
    invoice = issue(django_capture_on_commit_callbacks, language="de")

    [sent] = mail.outbox
    assert sent.subject == f"Ihre Rechnung {invoice.number} von Voltpark Charging GmbH"
    assert "Guten Tag Ada Lovelace," in sent.body
    assert "für Ihre Ladevorgänge vom 01.06.2026 bis 30.06.2026: 11,90 EUR inkl. MwSt." in sent.body
    assert f"Sie ist am {invoice.due_date:%d.%m.%Y} fällig" in sent.body
    assert "Mit freundlichen Grüßen" in sent.body


def test_the_language_is_the_one_frozen_at_issue_not_the_customers_current_one(django_capture_on_commit_callbacks):
    invoice = issue(django_capture_on_commit_callbacks, language="de")
    invoice.customer.language = "en"
    invoice.customer.save()
    mail.outbox.clear()

    send_invoice_email.apply(args=(invoice.pk, invoice.emailed_at.isoformat())).get()

    assert mail.outbox[0].subject.startswith("Ihre Rechnung")


def test_a_credit_note_is_emailed_naming_the_invoice_it_corrects(django_capture_on_commit_callbacks):
    invoice = issue(django_capture_on_commit_callbacks)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        note = credit_note_issue(invoice=invoice, reason="Charger fault")

    [sent] = mail.outbox
    assert sent.subject == f"Your credit note {note.number} from Voltpark Charging GmbH"
    assert f"credit note {note.number}, which corrects invoice {invoice.number} by 11.90 EUR incl. VAT." in sent.body
    assert sent.attachments[0][0] == f"{note.number}.pdf"


def test_a_damaged_pdf_is_never_sent(django_capture_on_commit_callbacks):
    invoice = issue(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with invoice.pdf.open("wb") as damaged:
        damaged.write(b"%PDF-1.7 something else")

    assert send_invoice_email.apply(args=(invoice.pk, invoice.emailed_at.isoformat())).get() is False

    assert mail.outbox == []


def test_a_mail_server_that_is_down_leaves_the_invoice_unsent_for_a_retry(django_capture_on_commit_callbacks,
                                                                        monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    invoice = issue(django_capture_on_commit_callbacks)  # inline: the issue itself goes through

    assert invoice.is_issued and invoice.pdf and invoice.emailed_at is None
    with pytest.raises(ConnectionRefusedError):
        invoice_email_send(invoice_id=invoice.pk)  # what a worker's retry sees
    assert Invoice.objects.get(pk=invoice.pk).emailed_at is None


# --- the admin --------------------------------------------------------------------------------------------------
CHANGELIST = reverse("admin:billing_invoice_changelist")


def resend(client, *invoices):
    return client.post(CHANGELIST, {"action": "email_again", "_selected_action": [i.pk for i in invoices]},
                       follow=True)


def test_staff_send_an_invoice_again_and_the_list_shows_the_new_time(admin_client,
                                                                      django_capture_on_commit_callbacks):
    invoice = issue(django_capture_on_commit_callbacks)
    first = invoice.emailed_at

    with django_capture_on_commit_callbacks(execute=True):  # the message is sent after the request commits
        response = resend(admin_client, invoice)

    assert "1 document is being e-mailed again" in response.text
    assert len(mail.outbox) == 2 and mail.outbox[1].attachments[0][1] == stored_pdf(invoice)
    invoice.refresh_from_db()
    assert invoice.emailed_at > first
    assert "not yet" not in admin_client.get(CHANGELIST).text


def test_sending_a_draft_again_is_refused_with_a_message(admin_client):
    draft = InvoiceFactory(customer=CustomerFactory(name="Grace Hopper"))

    response = resend(admin_client, draft)

    assert "is a draft: only issued documents are e-mailed" in response.text
    assert mail.outbox == []
    draft.refresh_from_db()
    assert draft.emailed_at is None


def test_the_list_shows_an_issued_invoice_not_yet_emailed(admin_client, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    monkeypatch.setattr(send_invoice_email, "delay_on_commit", lambda *args: None)  # its message still queued
    issue(django_capture_on_commit_callbacks)

    response = admin_client.get(CHANGELIST)

    assert "E-mailed" in response.text and "not yet" in response.text
