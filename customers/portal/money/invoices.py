"""Invoices and credit notes of the account (holder or fleet manager only), and their stored PDFs.

The PDF is the document the rendering task stored once after issue, served as it is: it is never rendered in
the request (an issued invoice's document must not vary), and its SHA-256 is checked against the one recorded
when it was stored, so a damaged or replaced file is never handed out as the invoice."""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from billing.accounting.exports import pdf_missing
from billing.invoicing import invoice_status
from billing.invoicing.selectors import invoice_pdf_verified
from billing.models import Invoice
from billing.portal_selectors import customer_documents
from customers.portal.access import manager_required

from .common import page_of

STATUS_LABELS = {
    "issued": (gettext_lazy("open"), "busy"),
    "paid": (gettext_lazy("paid"), "ok"),
    "overdue": (gettext_lazy("overdue"), "bad"),
    "credited": (gettext_lazy("credited"), ""),
    "credit_note": (gettext_lazy("credit note"), ""),
}


def _status_key(invoice: Invoice) -> str:
    return "credit_note" if invoice.kind == Invoice.Kind.CREDIT_NOTE else invoice_status(invoice)


@require_GET
@manager_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    page = page_of(request, customer_documents(request.user.customer))
    rows = []
    for invoice in page:
        key = _status_key(invoice)
        label, tone = STATUS_LABELS[key]
        # period_end is exclusive; drivers read a period as its first and last day.
        rows.append({"invoice": invoice, "status": key, "label": label, "tone": tone,
                     "last_day": invoice.period_end - timedelta(days=1)})
    return render(request, "portal/money/invoices.html", {"page": page, "rows": rows})


@require_GET
@manager_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One issued document of the signed-in account; anything else is a 404, whether it exists or not."""
    invoice = Invoice.objects.filter(
        pk=pk, customer_id=request.user.customer_id, status=Invoice.Status.ISSUED
    ).first()
    if invoice is None:
        return render(request, "portal/money/pdf_missing.html", {"invoice": None}, status=404)
    content = None if pdf_missing(invoice) else invoice_pdf_verified(invoice)
    if content is None:
        return render(request, "portal/money/pdf_missing.html", {"invoice": invoice}, status=404)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{invoice.number}.pdf")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if invoice.pdf_sha256:
        response["X-Checksum-SHA256"] = invoice.pdf_sha256
    return response


urlpatterns = [
    path("invoices/", invoice_list, name="invoices"),
    path("invoices/<int:pk>/pdf/", invoice_pdf, name="invoice-pdf"),
]
