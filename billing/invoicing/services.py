"""Issuing invoices and closing billing periods.

`invoice_issue` turns a draft into a numbered, immutable document in one transaction: totals from the lines,
the supplier's and buyer's details copied in, then the gapless number (the counter row stays locked until the
commit). After the commit the PDF is queued. `billing_period_close` drafts and issues each customer's invoices
in a transaction of its own, so one customer's failure never stops the others, and a rerun finds what an
earlier (or crashed) run made instead of making it again."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import BillingProfile, Invoice, OperatorProfile
from billing.payments import invoice_collection_request
from customers.models import Customer

from .drafting import invoice_draft_for_period, invoice_totals_fill, memberships_in, records_to_invoice
from .numbering import number_take
from .periods import MONTHLY, QUARTERLY, billing_today, day_start, period_interval, periods_ending

logger = logging.getLogger(__name__)

SUPPLIER_FIELDS = (
    "legal_name", "address_line1", "address_line2", "postal_code", "city", "country", "vat_id", "tax_number",
    "registration", "managing_directors", "email", "phone", "website", "bank_name", "iban", "bic",
    "payment_terms_days", "invoice_footer",
)
BUYER_FIELDS = ("number", "kind", "name", "email", "address_line1", "address_line2", "postal_code", "city",
                "country", "vat_id")  # fmt: skip


def invoice_issue(*, invoice: Invoice, issue_date: date | None = None) -> Invoice:
    """Issue a draft (invoice or credit note): number, snapshots, totals, due date. Refuses an issued document,
    one without lines, and any issue while the operator's legal details are missing."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).select_related("customer").get(pk=invoice.pk)
        if invoice.is_issued:
            raise ValidationError(f"{invoice} is already issued.")
        operator = OperatorProfile.objects.first()
        if operator is None:
            raise ValidationError(
                "The operator's legal details are missing: fill in the operator profile before issuing invoices."
            )
        lines = list(invoice.lines.all())
        if not lines:
            raise ValidationError("A document without lines is not issued.")
        issue_date = issue_date or billing_today()
        invoice_totals_fill(invoice, lines)
        invoice.supplier = supplier_snapshot(operator)
        invoice.buyer = buyer_snapshot(invoice.customer)
        invoice.einvoice = _wants_einvoice(invoice.customer)
        invoice.issue_date, invoice.issued_at = issue_date, timezone.now()
        if invoice.kind == Invoice.Kind.INVOICE:
            invoice.due_date = issue_date + timedelta(days=operator.payment_terms_days)
        # Last, so the series stays locked for as short a time as possible.
        invoice.number = number_take(kind=invoice.kind, year=issue_date.year)
        invoice.status = Invoice.Status.ISSUED
        invoice.save()
        _queue_pdf(invoice.pk)
        invoice_collection_request(invoice=invoice)  # card, prepaid balance or refund; bank transfer: nothing
    return invoice


def invoice_draft_update_totals(*, invoice: Invoice) -> Invoice:
    """Recompute a draft's breakdown and totals after its lines were edited (the admin calls this)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if invoice.is_issued:
            raise ValidationError(f"{invoice} is issued and never changes.")
        invoice_totals_fill(invoice, list(invoice.lines.all()))
        invoice.save(update_fields=["vat_breakdown", "total_excl_vat", "total_vat", "total_incl_vat", "notes"])
    return invoice


def supplier_snapshot(operator: OperatorProfile) -> dict:
    snapshot = {name: getattr(operator, name) for name in SUPPLIER_FIELDS}
    snapshot["country"] = str(operator.country)
    return snapshot


def buyer_snapshot(customer: Customer) -> dict:
    snapshot = {name: getattr(customer, name) for name in BUYER_FIELDS}
    snapshot["country"] = str(customer.country)
    profile = BillingProfile.objects.filter(customer=customer).first()
    snapshot["purchase_order"] = profile.purchase_order if profile else ""
    # The document's language, frozen with the rest: a later change of the customer's never changes an issued
    # invoice (billing.invoicing.pdf.invoice_language falls back to the customer's for older snapshots).
    snapshot["language"] = customer.language
    return snapshot


def _wants_einvoice(customer: Customer) -> bool:
    choice = BillingProfile.objects.filter(customer=customer).values_list("einvoice", flat=True).first()
    return choice if choice is not None else customer.kind == Customer.Kind.COMPANY


def _queue_pdf(invoice_id: int) -> None:
    # Rendering lives in its own module (WeasyPrint is heavy); imported here so issuing works without it.
    try:
        from billing.invoicing.rendering import render_invoice_pdf
    except ImportError:
        logger.warning("No PDF renderer installed; invoice %s is issued without a PDF", invoice_id)
        return
    render_invoice_pdf.delay_on_commit(invoice_id)


# --- closing periods --------------------------------------------------------------------------------------


def customers_to_bill(*, period_start: date, period_end: date, customers=None) -> list[int]:
    """Ids of the customers with something to bill for the period, in id order: records no invoice took yet, or
    a membership running in the period. Without `customers`, those whose billing interval the period is (a
    month: monthly customers; a quarter: quarterly ones; any other period: everyone)."""
    records = records_to_invoice(before=day_start(period_end)).filter(customer__isnull=False)
    members = memberships_in(period_start=period_start, period_end=period_end)
    found = Customer.objects.filter(
        Q(pk__in=records.values("customer_id")) | Q(pk__in=members.values("customer_id"))
    )
    if customers is not None:
        found = found.filter(pk__in=[getattr(customer, "pk", customer) for customer in customers])
    else:
        interval = period_interval(period_start, period_end)
        if interval == MONTHLY:
            found = found.exclude(billing_profile__interval=QUARTERLY)
        elif interval == QUARTERLY:
            found = found.filter(billing_profile__interval=QUARTERLY)
    return list(found.order_by("pk").values_list("pk", flat=True))


def customer_period_close(*, customer_id: int, period_start: date, period_end: date,
                          review: bool | None = None) -> list[Invoice]:
    """Draft the customer's invoices for the period and issue the new ones (unless the operator reviews drafts
    first), all in one transaction. Returns the invoices this call made; a rerun returns none."""
    if review is None:
        review = bool(OperatorProfile.objects.values_list("review_drafts", flat=True).first())
    with transaction.atomic():
        customer = Customer.objects.get(pk=customer_id)
        before = set(
            Invoice.objects.filter(
                kind=Invoice.Kind.INVOICE, customer=customer, period_start=period_start, period_end=period_end
            ).values_list("pk", flat=True)
        )
        drafts = invoice_draft_for_period(customer=customer, period_start=period_start, period_end=period_end)
        made = [invoice for invoice in drafts if invoice.pk not in before and not invoice.is_issued]
        if not review:
            made = [invoice_issue(invoice=invoice) for invoice in made]
    return made


def billing_period_close_invoices(*, period_start: date, period_end: date, customers=None) -> list[Invoice]:
    """`billing_period_close`, returning the invoices it made."""
    review = bool(OperatorProfile.objects.values_list("review_drafts", flat=True).first())
    made = []
    for customer_id in customers_to_bill(period_start=period_start, period_end=period_end, customers=customers):
        try:
            made += customer_period_close(
                customer_id=customer_id, period_start=period_start, period_end=period_end, review=review
            )
        except Exception:
            # Rolled back for this customer only; the next run (or a rerun) tries again.
            logger.exception("Closing %s..%s for customer %s failed", period_start, period_end, customer_id)
    return made


def billing_period_close(*, period_start: date, period_end: date, customers=None) -> int:
    """For every customer with activity in [period_start, period_end) (or only `customers`): draft, and issue
    unless OperatorProfile.review_drafts, each customer in its own transaction. Returns how many invoices were
    made (issued, or drafted for review). Idempotent: a rerun makes nothing twice."""
    made = billing_period_close_invoices(period_start=period_start, period_end=period_end, customers=customers)
    return len(made)


def billing_periods_close_ending(*, day: date) -> list[Invoice]:
    """Close the periods that end on `day` (a 1st): the previous month, and on a quarter's first day also the
    previous quarter for quarterly customers. Used by the command and the admin's "close now"."""
    made = []
    for _interval, start, end in periods_ending(day):
        made += billing_period_close_invoices(period_start=start, period_end=end)
    return made
