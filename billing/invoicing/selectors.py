"""Reads for the accountants' pages: an invoice's state (draft, issued, paid, overdue, credited), for one
invoice or as an annotation and filter on a list; and an issued document's stored PDF, checked."""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from decimal import Decimal

from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from billing.models import Invoice, InvoiceLine

from .periods import billing_today

logger = logging.getLogger(__name__)

STATUSES = ("draft", "issued", "paid", "overdue", "credited")
_EXACT = DecimalField(max_digits=18, decimal_places=6)


def invoices_with_credit_state(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotates `fully_credited`: issued credit notes have credited every line of the invoice in full (one
    query for a list page, whatever its length)."""
    credited = (
        InvoiceLine.objects.filter(credited_line=OuterRef("pk"), invoice__status=Invoice.Status.ISSUED)
        .values("credited_line").annotate(total=Sum("net_amount")).values("total")
    )
    open_lines = (
        InvoiceLine.objects.filter(invoice=OuterRef("pk"))
        .annotate(left=F("net_amount") + Coalesce(Subquery(credited), Value(Decimal(0)), output_field=_EXACT))
        .exclude(left=0)
    )
    credit_notes = Invoice.objects.filter(credited_invoice=OuterRef("pk"), status=Invoice.Status.ISSUED)
    return queryset.annotate(
        fully_credited=ExpressionWrapper(Exists(credit_notes) & ~Exists(open_lines), output_field=BooleanField())
    )


def invoices_filter_status(queryset: QuerySet[Invoice], status: str, *, today: date | None = None) -> QuerySet[Invoice]:
    """The invoices (kind invoice) of `queryset` in one of STATUSES, as `invoice_status` would say."""
    if status == "draft":
        return queryset.filter(status=Invoice.Status.DRAFT)
    issued = invoices_with_credit_state(queryset.filter(kind=Invoice.Kind.INVOICE, status=Invoice.Status.ISSUED))
    if status == "credited":
        return issued.filter(fully_credited=True)
    issued = issued.filter(fully_credited=False)
    if status == "paid":
        return issued.filter(paid_at__isnull=False)
    overdue = Q(paid_at__isnull=True, due_date__lt=today or billing_today())
    if status == "overdue":
        return issued.filter(overdue)
    if status == "issued":
        return issued.filter(paid_at__isnull=True).exclude(overdue)
    raise ValueError(f"{status!r} is not one of {', '.join(STATUSES)}")


def invoice_status(invoice: Invoice, *, today: date | None = None) -> str:
    """draft / issued / paid / overdue / credited (fully credited by credit notes). A credit note is draft or
    issued. Uses the `fully_credited` annotation when the queryset has it, else asks with one query."""
    if not invoice.is_issued:
        return "draft"
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return "issued"
    fully_credited = getattr(invoice, "fully_credited", None)
    if fully_credited is None:
        fully_credited = (
            invoices_with_credit_state(Invoice.objects.filter(pk=invoice.pk))
            .values_list("fully_credited", flat=True).get()
        )
    if fully_credited:
        return "credited"
    if invoice.paid_at is not None:
        return "paid"
    if invoice.due_date is not None and invoice.due_date < (today or billing_today()):
        return "overdue"
    return "issued"


def invoice_pdf_verified(invoice: Invoice) -> bytes | None:
    """The stored document if it is there and unchanged (its SHA-256 is the one recorded when it was stored),
    else None, with the reason logged for staff: a damaged or replaced file is never handed out as the invoice,
    neither downloaded nor e-mailed."""
    if not invoice.pdf:
        return None
    if not invoice.pdf.storage.exists(invoice.pdf.name):
        logger.error("The stored PDF of %s %s is missing from storage", invoice.kind, invoice.number)
        return None
    with invoice.pdf.open("rb") as stored:
        content = stored.read()
    if invoice.pdf_sha256 and hashlib.sha256(content).hexdigest() != invoice.pdf_sha256:
        logger.error("The stored PDF of %s %s does not match its SHA-256", invoice.kind, invoice.number)
        return None
    return content
