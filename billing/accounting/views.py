"""The accountants' pages under /accounting/: the invoice list (search, filters, totals), one PDF, a ZIP of
PDFs, the journal as CSV or XLSX. Who may see what is decided in billing/accounting/roles.py only."""

import functools
from datetime import timedelta

from asgiref.sync import sync_to_async
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render, resolve_url
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from billing.accounting import exports
from billing.accounting.roles import can_list_invoices, invoice_for_download
from billing.accounting.selectors import InvoiceFilters, invoice_list, invoice_totals, month_end, month_start
from billing.invoicing import invoice_status
from billing.models import Invoice

PAGE_SIZE = 50
STATE_CHOICES = [("", "any"), ("issued", "issued (open)"), ("overdue", "overdue"), ("paid", "paid"),
                 ("credited", "credited"), ("draft", "draft")]


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", help_text="Number, customer name or customer number")
    customer = forms.CharField(required=False, help_text="Customer id or number")
    state = forms.ChoiceField(required=False, choices=STATE_CHOICES, label="Status")
    kind = forms.ChoiceField(required=False, choices=[("", "any"), *Invoice.Kind.choices])
    period = forms.CharField(required=False, label="Supply period", help_text="YYYY-MM",
                             widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}))
    issued = forms.CharField(required=False, label="Issued in", help_text="YYYY-MM: a month's journal",
                             widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}))

    def clean_period(self):
        return self._month(self.cleaned_data["period"])

    def clean_issued(self):
        return self._month(self.cleaned_data["issued"])

    @staticmethod
    def _month(text: str):
        if not text:
            return None
        if (first := month_start(text)) is None:
            raise forms.ValidationError("Enter a month as YYYY-MM.")
        return first

    def filters(self) -> InvoiceFilters:
        data = self.cleaned_data
        issued_from = issued_to = None
        if data["issued"]:
            issued_from, issued_to = data["issued"], month_end(data["issued"]) - timedelta(days=1)
        return InvoiceFilters(search=data["q"], customer=data["customer"], state=data["state"], kind=data["kind"],
                              period=data["period"], issued_from=issued_from, issued_to=issued_to)


def _login_url() -> str:
    """The site's sign-in page once there is one (the drivers' portal), else the admin's."""
    try:
        url = resolve_url(settings.LOGIN_URL)
        resolve(url)
        return url
    except (NoReverseMatch, Resolver404):
        return reverse("admin:login")


def _signed_in(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), _login_url())
        return view(request, *args, **kwargs)
    return wrapper


def accountant_required(view):
    """Sign-in first; then 403 for anybody who may not list invoices (the workspace is not secret, its data is)."""
    @_signed_in
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_list_invoices(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return wrapper


def _filtered(request):
    """The filter form bound to the query string, and the documents it selects (400 on invalid input)."""
    form = InvoiceFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, invoice_list(form.filters())


@require_GET
@accountant_required
def invoice_list_view(request):
    form, invoices = _filtered(request)
    context = {**admin.site.each_context(request), "title": "Invoices and credit notes", "form": form}
    if invoices is None:
        return render(request, "billing/accounting/invoice_list.html", context, status=400)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    for invoice in page:
        invoice.state = invoice_status(invoice)
    query = request.GET.copy()
    query.pop("page", None)
    context |= {"page": page, "totals": invoice_totals(invoices), "query": query.urlencode()}
    return render(request, "billing/accounting/invoice_list.html", context)


@require_GET
@_signed_in
def invoice_pdf_view(request, pk: int):
    """One document's PDF, as an attachment named by its number. The same view serves accountants and (through
    the portal) drivers; roles.invoice_for_download gives 404 for anything this user may not see."""
    invoice = invoice_for_download(request.user, pk)
    missing = exports.pdf_missing(invoice)
    if missing:
        context = {"title": f"{invoice.get_kind_display()} {invoice.number}", "invoice": invoice, "missing": missing,
                   "staff": can_list_invoices(request.user)}
        if context["staff"]:
            context |= admin.site.each_context(request)
        return render(request, "billing/accounting/pdf_missing.html", context, status=404)
    # Read whole (one PDF is small): a FileResponse would be read to its end anyway under ASGI, with a warning.
    with invoice.pdf.open("rb") as pdf:
        response = HttpResponse(pdf.read(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{invoice.number}.pdf")
    response["Cache-Control"] = "private, no-store"
    return response


def _export_name(form: InvoiceFilterForm, stem: str, extension: str) -> str:
    month = form.cleaned_data.get("issued") or form.cleaned_data.get("period")
    return f"{stem}-{month:%Y-%m}.{extension}" if month else f"{stem}.{extension}"


@require_GET
@accountant_required
def invoice_zip_view(request):
    form, invoices = _filtered(request)
    if invoices is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    documents = invoices.filter(status=Invoice.Status.ISSUED).order_by("number").iterator(chunk_size=200)
    response = StreamingHttpResponse(_streamed(request, exports.pdf_zip_stream(documents)),
                                     content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(form, "invoices", "zip")}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _streamed(request, chunks):
    """Under ASGI Django would read a synchronous iterator to its end before sending anything (a month of
    PDFs in memory): hand it an asynchronous one that pulls each chunk, database reads included, in the
    thread Django's sync code runs in."""
    if not isinstance(request, ASGIRequest):
        return chunks

    async def pull():
        while (chunk := await sync_to_async(next, thread_sensitive=True)(chunks, None)) is not None:
            yield chunk

    return pull()


@require_GET
@accountant_required
def journal_view(request, fmt: str):
    form, invoices = _filtered(request)
    if invoices is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    journal = exports.journal_build(invoices)
    if fmt == "xlsx":
        body = exports.journal_xlsx(journal)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = exports.journal_csv(journal, decimal_comma=request.GET.get("decimal") == "comma")
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_export_name(form, "journal", fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response
