"""Reads about payments for the admin, the accountants' pages and (later) the driver portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from billing.models import Invoice, Payment


@dataclass(frozen=True)
class DunningState:
    state: str  # "" (collection never started), collecting, failed, paid, written_off
    label: str
    failures: int
    next_retry_at: datetime | None
    last_failure: str
    tokens_blocked: bool


def dunning_state(invoice: Invoice) -> DunningState:
    """The collection state of one invoice, for staff and for the driver."""
    # A reverse one-to-one that does not exist raises an AttributeError subclass; select_related caches it.
    case = getattr(invoice, "dunning", None)
    if case is None:
        return DunningState("", "", 0, None, "", False)
    blocked = case.tokens_blocked_at is not None and case.tokens_reinstated_at is None
    return DunningState(
        case.state, str(case.get_state_display()), case.failures, case.next_retry_at, case.last_failure, blocked
    )


def invoices_with_dunning(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """For list pages (the invoice admin's dunning column): one join, no query per row."""
    return queryset.select_related("dunning")


def payments_of_invoice(invoice: Invoice) -> QuerySet[Payment]:
    return Payment.objects.filter(invoice=invoice).order_by("attempt", "pk")
