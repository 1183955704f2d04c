"""E-mailing issued invoices and credit notes to the customer, with the stored PDF attached: the Celery task
`billing.send_invoice_email`, queued by the rendering task once the PDF is stored, and staff's explicit resend.

Delivery is at least once, never twice in parallel: the task locks the invoice row, checks `emailed_at`, hands
the message to the mail server and records the time in that same transaction. A second worker (or a second
message) waits for the lock and then finds the document sent. The one way to send twice is a worker that dies
after the mail server accepted the message and before the commit: the redelivered task (acks late) sends it
again. A duplicate invoice e-mail is the lesser harm than one never sent, and no claim marker can tell
"accepted by the mail server" from "lost" after such a crash. Each message says which `emailed_at` it expects
(None for the automatic one, the time staff saw for a resend), so a redelivered message after a commit sends
nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from billing.models import Invoice

from .pdf import day, invoice_language, money
from .selectors import invoice_pdf_verified

logger = logging.getLogger(__name__)

SUBJECT_TEMPLATE = "billing/invoice_email_subject.txt"
BODY_TEMPLATE = "billing/invoice_email.txt"


class InvoiceEmailUnsendable(Exception):
    """Nothing to send that a retry would change: no address, a missing or damaged PDF."""


def invoice_email_context(invoice: Invoice) -> dict:
    """What the subject and body say, as printed in the active language (the caller sets the invoice's)."""
    supplier = invoice.supplier or {}
    return {
        "is_credit_note": invoice.kind == Invoice.Kind.CREDIT_NOTE,
        "number": invoice.number,
        "credited_number": invoice.credited_invoice.number if invoice.credited_invoice_id else "",
        "name": (invoice.buyer or {}).get("name") or invoice.customer.name,
        "supplier": supplier.get("legal_name", ""),
        "supplier_email": supplier.get("email", ""),
        "supplier_website": supplier.get("website", ""),
        "period_first": day(invoice.period_start),
        "period_last": day(invoice.period_end - timedelta(days=1)),
        "total": money(abs(invoice.total_incl_vat)),
        "currency": invoice.currency,
        "due_date": day(invoice.due_date),
        "paid": invoice.paid_at is not None,
    }


def invoice_email_message(invoice: Invoice, *, pdf: bytes) -> EmailMessage:
    """The e-mail of an issued document to its customer, in the document's language, with `pdf` attached."""
    with translation.override(invoice_language(invoice)):
        context = invoice_email_context(invoice)
        subject = " ".join(render_to_string(SUBJECT_TEMPLATE, context).split())  # one line, whatever the template
        body = render_to_string(BODY_TEMPLATE, context)
    reply_to = [context["supplier_email"]] if context["supplier_email"] else None  # replies reach billing
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                           to=[invoice.customer.email], reply_to=reply_to)
    message.attach(f"{invoice.number}.pdf", pdf, "application/pdf")
    return message


def invoice_email_send(*, invoice_id: int, expected_emailed_at: datetime | None = None) -> Invoice | None:
    """Send the issued document to the customer's address if its `emailed_at` is still `expected_emailed_at`
    (None: never sent), and record the time; returns the invoice, or None when there was nothing to do (not
    issued, no PDF yet, or sent meanwhile). Raises InvoiceEmailUnsendable when it cannot be sent at all, and
    the mail backend's OSError (SMTPException) when the server is unavailable: nothing is recorded then."""
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",)).select_related("customer", "credited_invoice")
            .filter(pk=invoice_id).first()
        )
        if invoice is None or not invoice.is_issued or not invoice.pdf:
            return None  # a draft is never sent; without a PDF the rendering task queues this once it has one
        if invoice.emailed_at != expected_emailed_at:
            return None  # sent meanwhile (or a redelivered message after the commit)
        if not invoice.customer.email:
            raise InvoiceEmailUnsendable(f"{invoice} has no address to go to (customer {invoice.customer.number})")
        pdf = invoice_pdf_verified(invoice)
        if pdf is None:
            raise InvoiceEmailUnsendable(f"the stored PDF of {invoice} is missing or damaged")
        invoice_email_message(invoice, pdf=pdf).send()
        invoice.emailed_at = timezone.now()
        invoice.save(update_fields=["emailed_at"])
    logger.info("%s e-mailed to customer %s", invoice, invoice.customer.number)
    return invoice


def invoice_email_request(*, invoice: Invoice) -> None:
    """After the current transaction commits, e-mail the document unless it was e-mailed already."""
    if invoice.is_issued and invoice.emailed_at is None:
        send_invoice_email.delay_on_commit(invoice.pk)


def invoice_email_resend(*, invoice: Invoice) -> None:
    """Staff's explicit resend: queue one more e-mail (after commit), whatever was sent before. Refuses a draft
    and a document whose PDF is not stored yet (the first e-mail follows its rendering)."""
    if not invoice.is_issued:
        raise ValidationError(f"{invoice} is a draft: only issued documents are sent.")
    if not invoice.pdf:
        raise ValidationError(f"{invoice} has no PDF yet: it is e-mailed once its PDF is rendered.")
    expected = invoice.emailed_at.isoformat() if invoice.emailed_at else None
    send_invoice_email.delay_on_commit(invoice.pk, expected)


@shared_task(
    bind=True, base=DjangoTask, name="billing.send_invoice_email", acks_late=True, autoretry_for=(OSError,),
    retry_backoff=60, retry_backoff_max=3600, retry_jitter=True, max_retries=8, soft_time_limit=60, time_limit=90,
)
def send_invoice_email(self, invoice_id: int, expected_emailed_at: str | None = None) -> bool:
    """E-mail an issued invoice or credit note (see the module docstring for why it is sent at least once and
    never in parallel); True when this run sent it. A mail server that is unavailable (OSError, which
    SMTPException is) is retried with backoff, 1 minute up to an hour; a document that cannot be sent (no
    address, PDF damaged) is logged for staff, who resend from the admin once it is fixed."""
    expected = datetime.fromisoformat(expected_emailed_at) if expected_emailed_at else None
    try:
        return invoice_email_send(invoice_id=invoice_id, expected_emailed_at=expected) is not None
    except InvoiceEmailUnsendable as error:
        logger.error("Invoice %s not e-mailed: %s", invoice_id, error)
        return False
    except OSError:
        if not self.request.is_eager:
            raise
        # Inline (the embedded default) this runs after the rendering, in the issuer's on-commit hook: issuing
        # must not fail because the mail server is down. The list shows it unsent; staff send it again.
        logger.exception("E-mailing invoice %s inline failed", invoice_id)
        return False
