"""Collecting issued invoices by card, and recording what the provider says about any payment.

Nothing is charged twice, whatever fails when:
1. A Payment row is written first, in its own transaction, with its idempotency key `evb-payment-<pk>-<salt>`;
   the database allows one live or successful collection per invoice.
2. The provider is called with that key. A retried call (a task redelivered, a network error, a duplicate
   request) finds the live row and repeats the call with the same key, so the provider returns the first
   answer; once the row knows its intent id, a retry asks for the intent instead of charging.
3. The answer is written in a second transaction (idempotent too: a finished payment is never changed again),
   and webhooks arrive at the same function, matched by intent id or by the payment id in the metadata.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from djmoney.money import Money

from billing.models import DunningCase, Invoice, Payment, PaymentAccount

from .accounts import default_method, provider_customer_ensure
from .dunning import dunning_case_for, dunning_record_failure, dunning_record_paid
from .errors import PaymentError
from .providers import IntentResult, PaymentProvider, get_provider, to_minor

logger = logging.getLogger(__name__)

FAILED_STATUSES = {"requires_payment_method", "canceled"}


def payment_create(**fields) -> Payment:
    """A Payment row with its idempotency key, inside the caller's transaction. The key is derived from the
    row's id plus a random suffix stored with it: retries reuse the stored key, while a second database that
    reuses ids (a restored backup, staging or a test run sharing one Stripe account) can never collide with it."""
    payment = Payment.objects.create(**fields)
    payment.idempotency_key = f"evb-payment-{payment.pk}-{secrets.token_hex(4)}"
    payment.save(update_fields=["idempotency_key"])
    return payment


def invoice_collection_request(*, invoice: Invoice) -> None:
    """After the current transaction commits, collect an issued invoice, or refund an issued credit note to
    what paid its invoice (invoice_issue calls this for every document it issues)."""
    from .tasks import collect_invoice, refund_credit_note

    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        refund_credit_note.delay_on_commit(invoice.pk)
    else:
        collect_invoice.delay_on_commit(invoice.pk)


def invoice_amount_due(invoice: Invoice) -> Money:
    """The invoice's total less its issued credit notes (whose totals are negative)."""
    credited = (
        Invoice.objects.filter(credited_invoice=invoice, status=Invoice.Status.ISSUED).aggregate(
            total=Sum("total_incl_vat")
        )["total"]
    ) or Decimal(0)
    return Money(max(invoice.total_incl_vat + credited, Decimal(0)), invoice.currency)


def invoice_collect(*, invoice: Invoice) -> Payment | object | None:
    """Collect an issued, unpaid invoice the way its customer pays: a card customer's default method is charged
    off-session (returns the Payment), a prepaid customer's balance is debited (returns the ledger entry or
    None), a bank-transfer customer pays by themselves (None). Safe to call any number of times."""
    account = PaymentAccount.objects.filter(customer_id=invoice.customer_id).first()
    if account is None or account.collection == PaymentAccount.Collection.BANK_TRANSFER:
        return None
    if account.is_prepaid:
        from .prepaid import prepaid_settle_invoice

        return prepaid_settle_invoice(invoice=invoice)
    payment = _collection_begin(invoice=invoice)
    if payment is None or payment.state not in Payment.LIVE:
        return payment
    provider = get_provider(payment.provider)
    return payment_run(payment=payment, provider=provider)


def _collection_begin(*, invoice: Invoice) -> Payment | None:
    """The live (or successful) collection of the invoice, else a new attempt; None when nothing is due."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).select_related("customer").get(pk=invoice.pk)
        if invoice.kind != Invoice.Kind.INVOICE or not invoice.is_issued:
            raise PaymentError(f"Only issued invoices are collected, not {invoice}.")
        existing = invoice.payments.filter(
            purpose=Payment.Purpose.INVOICE, state__in=[*Payment.LIVE, Payment.State.SUCCEEDED]
        ).first()
        if existing is not None:
            return existing
        case = dunning_case_for(invoice)
        due = invoice_amount_due(invoice)
        if invoice.paid_at is not None or due.amount <= 0 or case.state == DunningCase.State.WRITTEN_OFF:
            return None
        method = default_method(invoice.customer)
        if method is None:
            dunning_record_failure(invoice=invoice, reason="No saved card or wallet.")
            return None
        attempt = (invoice.payments.filter(purpose=Payment.Purpose.INVOICE).aggregate(n=Max("attempt"))["n"] or 0) + 1
        payment = payment_create(
            purpose=Payment.Purpose.INVOICE,
            customer=invoice.customer,
            invoice=invoice,
            method=method,
            amount=due,
            attempt=attempt,
        )
        if case.state != DunningCase.State.FAILED:
            DunningCase.objects.filter(pk=case.pk).update(state=DunningCase.State.COLLECTING)
    return payment


def payment_run(*, payment: Payment, provider: PaymentProvider) -> Payment:
    """Make (or repeat, with the same key) the provider call of a live invoice or top-up payment, and record its
    answer. ProviderUnavailable propagates: the row stays live and a retry repeats the call."""
    if payment.provider_intent_id:
        result = provider.retrieve_intent(payment.provider_intent_id)
    else:
        if payment.method is None:
            return payment_record_result(payment=payment, result=None, failure=("no_method", "No saved method."))
        account = provider_customer_ensure(customer=payment.customer, provider=provider)
        result = provider.charge_off_session(
            amount=payment.amount,
            customer_id=account.provider_customer_id,
            method_id=payment.method.provider_method_id,
            idempotency_key=payment.idempotency_key,
            metadata={
                "evb_payment": str(payment.pk),
                "evb_purpose": payment.purpose,
                "evb_invoice": payment.invoice.number if payment.invoice_id else "",
            },
        )
    return payment_record_result(payment=payment, result=result)


def payment_record_result(
    *, payment: Payment, result: IntentResult | None, failure: tuple[str, str] | None = None
) -> Payment:
    """Move a payment by the provider's answer (a call's result or a webhook's object). A payment that already
    succeeded, failed or was canceled stays as it is, so a late or duplicated answer changes nothing."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        if payment.state not in Payment.LIVE:
            return payment
        if result is not None and result.id and not payment.provider_intent_id:
            payment.provider_intent_id = result.id
        state, code, message = _state_of(result, failure)
        if state is None or state == payment.state:  # processing, or still waiting: a webhook finishes it
            payment.save(update_fields=["provider_intent_id", "updated_at"])
            return payment
        if state == Payment.State.SUCCEEDED and result.amount != to_minor(payment.amount):
            logger.error(
                "Payment %s: the provider moved %s minor units, not %s",
                payment.pk,
                result.amount,
                to_minor(payment.amount),
            )
        payment.state, payment.failure_code, payment.failure_message = state, code, message
        if state != Payment.State.REQUIRES_ACTION:
            payment.completed_at = timezone.now()
        payment.save()
        _after_state_change(payment)
    return payment


def _state_of(result: IntentResult | None, failure: tuple[str, str] | None) -> tuple[str | None, str, str]:
    if result is None:
        code, message = failure or ("unknown", "")
        return Payment.State.FAILED, code, message
    if result.status in ("succeeded", "requires_capture"):
        return Payment.State.SUCCEEDED, "", ""
    if result.status == "requires_action":
        return Payment.State.REQUIRES_ACTION, "authentication_required", "The customer must confirm the payment."
    if result.status in FAILED_STATUSES:
        return Payment.State.FAILED, result.failure_code or result.status, result.failure_message
    return None, "", ""


def _after_state_change(payment: Payment) -> None:
    if payment.purpose == Payment.Purpose.INVOICE:
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=payment.invoice_id)
        if payment.state == Payment.State.SUCCEEDED:
            if invoice.paid_at is None:
                invoice.paid_at = payment.completed_at
                invoice.save(update_fields=["paid_at"])
            dunning_record_paid(invoice=invoice)
        else:  # failed, or off-session authentication needed: the next attempt follows the dunning schedule
            dunning_record_failure(invoice=invoice, reason=payment.failure_message or payment.failure_code)
    elif payment.purpose == Payment.Purpose.TOP_UP and payment.state == Payment.State.SUCCEEDED:
        from .prepaid import ledger_credit_top_up

        ledger_credit_top_up(payment=payment)


def collections_due(*, now=None, limit: int = 200) -> list[int]:
    """Invoices whose failed collection is due for its next attempt, oldest due first."""
    now = now or timezone.now()
    return list(
        DunningCase.objects.filter(
            state=DunningCase.State.FAILED, next_retry_at__lte=now, invoice__paid_at__isnull=True
        )
        .order_by("next_retry_at", "pk")
        .values_list("invoice_id", flat=True)[:limit]
    )


def payments_stale(*, older_than=timedelta(minutes=10), limit: int = 200) -> list[Payment]:
    """Charges still pending a while after their call: the answer was lost (crash, timeout, outage)."""
    return list(
        Payment.objects.filter(
            state=Payment.State.PENDING,
            updated_at__lt=timezone.now() - older_than,
            purpose__in=[Payment.Purpose.INVOICE, Payment.Purpose.TOP_UP],
        )
        .select_related("method", "customer", "invoice")
        .order_by("pk")[:limit]
    )


def payment_abandon_action(*, payment: Payment) -> Payment:
    """Cancel an off-session payment still waiting for the customer's authentication, so that the next
    scheduled attempt may start (one live collection per invoice)."""
    if payment.state != Payment.State.REQUIRES_ACTION:
        return payment
    if payment.provider_intent_id:
        get_provider(payment.provider).cancel(
            intent_id=payment.provider_intent_id, idempotency_key=f"{payment.idempotency_key}-cancel"
        )
    Payment.objects.filter(pk=payment.pk, state=Payment.State.REQUIRES_ACTION).update(
        state=Payment.State.CANCELED, completed_at=timezone.now(), updated_at=timezone.now()
    )
    payment.refresh_from_db()
    return payment


def payment_for_intent(*, intent_id: str, metadata: dict) -> Payment | None:
    """The payment an intent belongs to: by intent id, else by our id in its metadata (an answer lost in the
    network is recovered from the webhook)."""
    payment = Payment.objects.filter(provider_intent_id=intent_id).exclude(purpose=Payment.Purpose.REFUND).first()
    if payment is None and str(metadata.get("evb_payment", "")).isdigit():
        payment = (
            Payment.objects.filter(pk=int(metadata["evb_payment"])).exclude(purpose=Payment.Purpose.REFUND).first()
        )
    return payment
