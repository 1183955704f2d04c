"""Dunning: what happens to an invoice whose collection failed. Each failure schedules the next attempt after
PAYMENT_RETRY_DAYS[failures - 1] days (none once the list is used up: staff decide, e.g. write off); after
PAYMENT_MAX_FAILURES the customer's valid tokens are blocked, and the case remembers which, so that paying
reinstates exactly those and never a token staff blocked for another reason.

These helpers run inside the caller's transaction with the invoice locked.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from billing.models import DunningCase, Invoice
from customers.models import IdToken
from customers.services import id_token_update


def dunning_case_for(invoice: Invoice) -> DunningCase:
    case, _ = DunningCase.objects.get_or_create(invoice=invoice)
    return case


def dunning_record_failure(*, invoice: Invoice, reason: str) -> DunningCase:
    case = DunningCase.objects.select_for_update(of=("self",)).get(pk=dunning_case_for(invoice).pk)
    if case.state in (DunningCase.State.PAID, DunningCase.State.WRITTEN_OFF):
        return case
    case.failures += 1
    case.state = DunningCase.State.FAILED
    case.last_failure = reason[:300]
    delays = settings.PAYMENT_RETRY_DAYS
    case.next_retry_at = (
        timezone.now() + timedelta(days=delays[case.failures - 1]) if case.failures <= len(delays) else None
    )
    case.save()
    limit = settings.PAYMENT_MAX_FAILURES
    if limit and case.failures >= limit and case.tokens_blocked_at is None:
        _block_tokens(case)
    return case


def dunning_record_paid(*, invoice: Invoice) -> DunningCase | None:
    case = DunningCase.objects.select_for_update(of=("self",)).filter(invoice=invoice).first()
    if case is None or case.state == DunningCase.State.PAID:
        return case
    case.state, case.next_retry_at = DunningCase.State.PAID, None
    case.save(update_fields=["state", "next_retry_at", "updated_at"])
    if case.tokens_blocked_at is not None and case.tokens_reinstated_at is None:
        _reinstate_tokens(case)
    return case


def _block_tokens(case: DunningCase) -> None:
    tokens = list(
        IdToken.objects.select_for_update(of=("self",))
        .filter(customer_id=case.invoice.customer_id, status=IdToken.Status.VALID)
        .order_by("pk")
    )
    for token in tokens:
        id_token_update(id_token=token, data={"status": IdToken.Status.BLOCKED})
    case.blocked_tokens.set(tokens)
    case.tokens_blocked_at = timezone.now()
    case.save(update_fields=["tokens_blocked_at", "updated_at"])


def _reinstate_tokens(case: DunningCase) -> None:
    tokens = list(
        case.blocked_tokens.select_for_update(of=("self",)).filter(status=IdToken.Status.BLOCKED).order_by("pk")
    )
    # Another unpaid invoice of the customer that also reached the limit keeps the tokens blocked: hand them
    # over to that case, so that its payment reinstates them.
    other = (
        DunningCase.objects.filter(
            invoice__customer_id=case.invoice.customer_id,
            tokens_blocked_at__isnull=False,
            tokens_reinstated_at__isnull=True,
        )
        .exclude(pk=case.pk)
        .exclude(state=DunningCase.State.PAID)
        .first()
    )
    if other is not None:
        other.blocked_tokens.add(*tokens)
    else:
        for token in tokens:
            id_token_update(id_token=token, data={"status": IdToken.Status.VALID})
    case.tokens_reinstated_at = timezone.now()
    case.save(update_fields=["tokens_reinstated_at", "updated_at"])
