"""Reads about payments for the admin, the accountants' pages and (later) the driver portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from billing.models import DunningCase, Invoice, Payment


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


# --- where customers and invoices stand in dunning (the admin's list filters) ----------------------------------
#: Payment states for list filters: a collection failed and is still open (retrying or waiting for staff); the
#: tokens are blocked for non-payment now; nothing is owed through dunning.
PAYMENT_STATES = {
    "in_dunning": _("in dunning"),
    "tokens_blocked": _("tokens blocked for non-payment"),
    "paid_up": _("paid up"),
}
_IN_DUNNING = Q(state=DunningCase.State.FAILED)
_TOKENS_BLOCKED = Q(tokens_blocked_at__isnull=False, tokens_reinstated_at__isnull=True)
_OPEN = Q(state__in=[DunningCase.State.COLLECTING, DunningCase.State.FAILED])


def customers_filter_payment_state(queryset: QuerySet, state: str) -> QuerySet:
    """The customers of `queryset` in one of PAYMENT_STATES, as EXISTS subqueries of the list's one query.
    Paid up: no collection open (neither collecting nor failed) and no tokens blocked for non-payment."""
    cases = DunningCase.objects.filter(invoice__customer=OuterRef("pk"))
    if state == "in_dunning":
        return queryset.filter(Exists(cases.filter(_IN_DUNNING)))
    if state == "tokens_blocked":
        return queryset.filter(Exists(cases.filter(_TOKENS_BLOCKED)))
    if state == "paid_up":
        return queryset.exclude(Exists(cases.filter(_OPEN | _TOKENS_BLOCKED)))
    raise ValueError(f"{state!r} is not one of {', '.join(PAYMENT_STATES)}")


def invoices_filter_payment_state(queryset: QuerySet[Invoice], state: str) -> QuerySet[Invoice]:
    """The invoices of `queryset` in one of PAYMENT_STATES (a join on their dunning case); paid up: paid."""
    if state == "in_dunning":
        return queryset.filter(dunning__state=DunningCase.State.FAILED)
    if state == "tokens_blocked":
        return queryset.filter(dunning__tokens_blocked_at__isnull=False, dunning__tokens_reinstated_at__isnull=True)
    if state == "paid_up":
        return queryset.filter(paid_at__isnull=False)
    raise ValueError(f"{state!r} is not one of {', '.join(PAYMENT_STATES)}")
