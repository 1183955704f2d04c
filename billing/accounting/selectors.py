"""Reads behind the accountants' pages, exports and the invoices API: one filtered queryset.

An issued document's state (draft, issued, paid, overdue, credited) is billing.invoicing's definition
(`invoice_status`, `invoices_filter_status`): credited (issued credit notes have credited every line in
full) before paid (paid_at set) before overdue (unpaid, past its due date in the billing time zone) before
issued (open, not yet due). A credit note is issued (or draft). Filtering by a state other than draft
selects invoices only.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Abs, Coalesce

from billing.invoicing import STATUSES, invoices_filter_status, invoices_with_credit_state
from billing.models import Invoice

STATES = STATUSES
CENT = Decimal("0.01")

@dataclass(frozen=True)
class InvoiceFilters:
    """What the list page, the exports and the API filter by; every field optional."""

    search: str = ""  # invoice number, customer name or customer number (contains, case-insensitive)
    number: str = ""  # exact invoice number
    customer: str = ""  # customer id or customer number
    state: str = ""  # one of STATES
    kind: str = ""  # invoice or credit_note
    period: date | None = None  # supply period starting in this month (the first of the month)
    issued_from: date | None = None  # inclusive
    issued_to: date | None = None  # inclusive


def month_start(text: str) -> date | None:
    """`2026-06` as date(2026, 6, 1); None if it is not a month."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


def month_end(first: date) -> date:
    """The first day of the next month (exclusive end)."""
    return (first + timedelta(days=32)).replace(day=1)


def invoices_annotated(queryset: QuerySet[Invoice] | None = None) -> QuerySet[Invoice]:
    """Documents with their customer, the invoice they credit, and `fully_credited` (so that
    billing.invoicing.invoice_status needs no query per row)."""
    queryset = Invoice.objects.all() if queryset is None else queryset
    return invoices_with_credit_state(queryset.select_related("customer", "credited_invoice"))


def _customer_q(customer: str) -> Q:
    customer = customer.strip()
    if customer.isdigit():
        return Q(customer_id=int(customer)) | Q(customer__number=customer)
    return Q(customer__number__iexact=customer)


def invoice_list(filters: InvoiceFilters = InvoiceFilters(), *, today: date | None = None) -> QuerySet[Invoice]:
    """The documents matching `filters`, newest first, annotated for `invoice_state`."""
    invoices = Invoice.objects.all()
    if filters.search.strip():
        term = filters.search.strip()
        invoices = invoices.filter(
            Q(number__icontains=term) | Q(customer__name__icontains=term) | Q(customer__number__iexact=term)
        )
    if filters.number.strip():
        invoices = invoices.filter(number__iexact=filters.number.strip())
    if filters.customer.strip():
        invoices = invoices.filter(_customer_q(filters.customer))
    if filters.state:
        invoices = invoices_filter_status(invoices, filters.state, today=today)
    if filters.kind:
        invoices = invoices.filter(kind=filters.kind)
    if filters.period:
        invoices = invoices.filter(period_start__gte=filters.period, period_start__lt=month_end(filters.period))
    if filters.issued_from:
        invoices = invoices.filter(issue_date__gte=filters.issued_from)
    if filters.issued_to:
        invoices = invoices.filter(issue_date__lte=filters.issued_to)
    return invoices_annotated(invoices).order_by("-issue_date", "-number", "-id")


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    count: int
    net: Decimal
    vat: Decimal
    gross: Decimal


def invoice_totals(invoices: QuerySet[Invoice]) -> list[CurrencyTotals]:
    """Sums of a filtered set per currency (amounts of different currencies are never added). Credit notes
    count negatively, whatever sign they are stored with, so the totals are what was invoiced net of credits."""
    money = DecimalField(max_digits=14, decimal_places=2)
    sign = Case(
        When(kind=Invoice.Kind.CREDIT_NOTE, then=Value(Decimal("-1"))), default=Value(Decimal("1")), output_field=money
    )
    zero = Value(Decimal("0"), output_field=money)
    rows = (
        invoices.order_by().values("currency")
        .annotate(
            documents=Count("id"),
            net=Coalesce(Sum(sign * Abs("total_excl_vat")), zero),
            vat=Coalesce(Sum(sign * Abs("total_vat")), zero),
            gross=Coalesce(Sum(sign * Abs("total_incl_vat")), zero),
        )
        .order_by("currency")
    )
    # SQLite sums decimals as floats: round once, here, to the cent.
    return [
        CurrencyTotals(str(row["currency"]), row["documents"], *(Decimal(row[key]).quantize(CENT)
                                                                  for key in ("net", "vat", "gross")))
        for row in rows
    ]


def invoice_detail(pk: int) -> Invoice:
    """One document with its lines (one query for the lines)."""
    return invoices_annotated().prefetch_related("lines").get(pk=pk)
