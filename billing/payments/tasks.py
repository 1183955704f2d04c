"""Celery tasks of payments: collecting one invoice, and the hourly sweep that retries failed collections when
their dunning schedule says so. Both take ids and are idempotent (see collection.py); provider network errors
retry with backoff, reusing the same Payment row and idempotency key."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.db import OperationalError

from billing.models import Invoice, Payment

from .collection import collections_due, invoice_collect, payment_abandon_action, payment_run, payments_stale
from .errors import PaymentError
from .providers import ProviderUnavailable, get_provider
from .refunds import credit_note_refund

logger = logging.getLogger(__name__)

SWEEP_BUDGET_S = 240


@shared_task(
    bind=True,
    name="billing.collect_invoice",
    acks_late=True,
    autoretry_for=(ProviderUnavailable, OperationalError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
    soft_time_limit=90,
    time_limit=120,
)
def collect_invoice(self, invoice_id: int) -> int | None:
    """Collect the invoice; returns the Payment's id (None: nothing to collect by card)."""
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        logger.warning("Invoice %s to collect does not exist", invoice_id)
        return None
    try:
        result = invoice_collect(invoice=invoice)
    except PaymentError as exc:
        logger.warning("Invoice %s is not collected: %s", invoice_id, exc.messages)
        return None
    except ProviderUnavailable:
        if not self.request.is_eager:
            raise  # a worker retries with backoff, with the same Payment row and key
        # Inline (the embedded default) this runs in whoever issued the invoice: issuing must not fail because
        # the provider is down. The payment stays pending; the hourly sweep repeats the call with its key.
        logger.warning("Payment provider unavailable; invoice %s is collected by the next sweep", invoice_id)
        return None
    return result.pk if isinstance(result, Payment) else None


@shared_task(
    bind=True,
    name="billing.refund_credit_note",
    acks_late=True,
    autoretry_for=(ProviderUnavailable, OperationalError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
    soft_time_limit=90,
    time_limit=120,
)
def refund_credit_note(self, credit_note_id: int) -> None:
    """Refund an issued credit note to the card or balance that paid its invoice (once: see refunds.py)."""
    note = Invoice.objects.filter(pk=credit_note_id).first()
    if note is None:
        logger.warning("Credit note %s to refund does not exist", credit_note_id)
        return
    try:
        credit_note_refund(credit_note=note)
    except PaymentError as exc:
        logger.warning("Credit note %s is not refunded: %s", credit_note_id, exc.messages)
    except ProviderUnavailable:
        if not self.request.is_eager:
            raise  # a worker retries with backoff, with the same refund row and key
        logger.warning("Payment provider unavailable; credit note %s is refunded when retried", credit_note_id)


@shared_task(name="billing.retry_failed_collections", acks_late=True, soft_time_limit=270, time_limit=300)
def retry_failed_collections() -> int:
    """Repeat, with their own keys, payments left pending by a crash or an outage; then retry each failed
    collection whose next attempt is due (a customer's pending authentication is given up first). A provider
    outage stops the sweep (the next hour tries again); other errors skip the invoice."""
    started, deadline = 0, time.monotonic() + SWEEP_BUDGET_S
    for payment in payments_stale():
        try:
            payment_run(payment=payment, provider=get_provider(payment.provider))
        except ProviderUnavailable:
            logger.warning("Payment provider unavailable; the next sweep retries")
            return started
        except Exception:
            logger.exception("Repeating payment %s failed", payment.pk)
    for invoice_id in collections_due():
        if time.monotonic() >= deadline:
            break
        try:
            waiting = Payment.objects.filter(
                invoice_id=invoice_id, purpose=Payment.Purpose.INVOICE, state=Payment.State.REQUIRES_ACTION
            ).first()
            if waiting is not None:
                payment_abandon_action(payment=waiting)
            invoice_collect(invoice=Invoice.objects.get(pk=invoice_id))
            started += 1
        except ProviderUnavailable:
            logger.warning("Payment provider unavailable; the next sweep retries")
            break
        except Exception:
            logger.exception("Retrying the collection of invoice %s failed", invoice_id)
    return started
