"""Rendering issued invoices to PDF in the background: the Celery task `billing.render_invoice_pdf`, the
service that stores a document once, what staff see when it keeps failing, and their retry. Once the PDF is
stored, the task queues the e-mail to the customer (`billing.invoicing.emailing`).

The PDF is written once (here, and by the PostgreSQL triggers): a rendered invoice is never rendered again, so
a redelivered message or a second worker finds it done. Rendering runs outside any transaction (it takes a
good part of a second); the short transaction after it locks the row and stores the result only if no one
stored one meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from billing.models import Invoice

from .emailing import invoice_email_request
from .pdf import render_invoice_pdf_bytes

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
#: An issued invoice still without a PDF after this long is shown to staff even without an error (e.g. its
#: message was lost with a broker).
PDF_OVERDUE = timedelta(hours=1)
PDF_FIELDS = ["pdf", "pdf_sha256", "pdf_rendered_at", "pdf_error"]


def invoice_pdf_store(*, invoice_id: int, pdf: bytes) -> Invoice:
    """Store `pdf` as the invoice's document with its SHA-256, unless one is stored already (then that one
    stays and is returned)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice_id)
        if invoice.pdf:
            return invoice
        invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(pdf), save=False)
        invoice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        invoice.pdf_rendered_at = timezone.now()
        invoice.pdf_error = ""
        invoice.save(update_fields=PDF_FIELDS)
    return invoice


def invoice_pdf_render(*, invoice_id: int) -> Invoice | None:
    """Render and store the PDF of an issued invoice; returns it (None if it does not exist or is a draft).
    Idempotent: an invoice that has its PDF is returned as it is."""
    invoice = Invoice.objects.select_related("credited_invoice").filter(pk=invoice_id).first()
    if invoice is None or not invoice.is_issued:
        logger.warning("Invoice %s is not an issued invoice; nothing to render", invoice_id)
        return None
    if invoice.pdf:
        return invoice
    Invoice.objects.filter(pk=invoice_id).update(pdf_attempts=F("pdf_attempts") + 1)
    return invoice_pdf_store(invoice_id=invoice_id, pdf=render_invoice_pdf_bytes(invoice))


def invoice_pdf_failed(*, invoice_id: int, error: BaseException) -> None:
    """Flag the invoice for staff: it stays issued (numbers and amounts never depend on the document)."""
    message = f"{type(error).__name__}: {error}"[:2000]
    invoice = Invoice.objects.filter(pk=invoice_id, status=Invoice.Status.ISSUED, pdf="").first()
    if invoice is not None:
        invoice.pdf_error = message
        invoice.save(update_fields=["pdf_error"])
    logger.error("Rendering the PDF of invoice %s failed for good: %s", invoice_id, message)


def invoice_pdf_retry(*, invoice: Invoice) -> None:
    """Staff's retry (admin action): clear the error and queue the rendering again, after commit."""
    if not invoice.is_issued or invoice.pdf:
        return
    invoice.pdf_error = ""
    invoice.save(update_fields=["pdf_error"])
    render_invoice_pdf.delay_on_commit(invoice.pk)


def invoices_with_pdf_problems() -> QuerySet[Invoice]:
    """Issued invoices whose PDF failed for good, or that are still without one long after issue."""
    overdue = Q(pdf="", issued_at__lt=timezone.now() - PDF_OVERDUE)
    return Invoice.objects.filter(status=Invoice.Status.ISSUED).filter(~Q(pdf_error="") | overdue)


class RenderTask(DjangoTask):  # DjangoTask gives delay_on_commit
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Called once retries are exhausted (or for an error not retried): the invoice is flagged for staff.
        invoice_id = args[0] if args else kwargs.get("invoice_id")
        invoice_pdf_failed(invoice_id=invoice_id, error=exc)


@shared_task(
    bind=True, base=RenderTask, name="billing.render_invoice_pdf", acks_late=True, autoretry_for=(Exception,),
    retry_backoff=10, retry_backoff_max=600, retry_jitter=True, max_retries=MAX_RETRIES,
    soft_time_limit=120, time_limit=150,
)
def render_invoice_pdf(self, invoice_id: int) -> str | None:
    """Render and store the PDF of an issued invoice, then queue its e-mail to the customer; returns its SHA-256
    (None: no such issued invoice). On a worker, failures are retried with exponential backoff (10 s, 20 s, ...
    up to 10 minutes, 5 times), then the invoice is flagged (`pdf_error`)."""
    try:
        invoice = invoice_pdf_render(invoice_id=invoice_id)
    except Exception as error:
        if not self.request.is_eager:
            raise
        # Inline (the embedded default) this runs in the issuer's on-commit hook: the invoice is issued, which
        # must not fail because of its document. Retrying at once would fail the same way; staff retry.
        logger.exception("Rendering the PDF of invoice %s inline failed", invoice_id)
        invoice_pdf_failed(invoice_id=invoice_id, error=error)
        return None
    if invoice is None:
        return None
    # Also when the PDF was stored by an earlier run whose e-mail message was lost: the e-mail task checks.
    invoice_email_request(invoice=invoice)
    return invoice.pdf_sha256
