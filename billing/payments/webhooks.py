"""Provider webhooks: verified, stored by event id, processed once.

The event row is inserted in the same transaction as the changes it causes, so a duplicate delivery (or two
deliveries at once) finds the row (or waits on the unique index) and does nothing; an event whose processing
fails rolls back entirely and the provider delivers it again later.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Payment, PaymentAccount, WebhookEvent

from .accounts import payment_method_save
from .collection import payment_for_intent, payment_record_result
from .providers import IntentResult, WebhookEventData
from .refunds import refund_record

logger = logging.getLogger(__name__)


def webhook_event_process(*, provider: str, event: WebhookEventData) -> WebhookEvent | None:
    """Record and handle a verified event; None when it was processed before (a duplicate)."""
    if WebhookEvent.objects.filter(provider=provider, event_id=event.id).exists():
        return None
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                provider=provider, event_id=event.id, type=event.type, payload=event.payload
            )
            HANDLERS.get(event.type, _ignore)(event.object)
            row.processed_at = timezone.now()
            row.save(update_fields=["processed_at"])
    except IntegrityError:
        if WebhookEvent.objects.filter(provider=provider, event_id=event.id).exists():
            return None  # a concurrent delivery of the same event won
        raise
    return row


def _intent_result(obj: dict) -> IntentResult:
    error = obj.get("last_payment_error") or {}
    return IntentResult(
        id=obj["id"],
        status=obj.get("status") or "",
        amount=obj.get("amount") or 0,
        currency=(obj.get("currency") or "").upper(),
        failure_code=error.get("decline_code") or error.get("code") or "",
        failure_message=error.get("message") or "",
        metadata=dict(obj.get("metadata") or {}),
    )


def _on_intent(obj: dict) -> None:
    payment = payment_for_intent(intent_id=obj["id"], metadata=obj.get("metadata") or {})
    if payment is None:
        logger.info("Webhook about intent %s, which is not ours", obj["id"])
        return
    payment_record_result(payment=payment, result=_intent_result(obj))


def _on_charge_refunded(obj: dict) -> None:
    intent_id = obj.get("payment_intent")
    refunds = Payment.objects.filter(
        purpose=Payment.Purpose.REFUND, state=Payment.State.PENDING, refunded_payment__provider_intent_id=intent_id
    )
    for payment in refunds:
        refund_record(payment=payment, refund_id=payment.provider_refund_id, succeeded=True)


def _on_setup_succeeded(obj: dict) -> None:
    account = PaymentAccount.objects.filter(provider_customer_id=obj.get("customer")).select_related("customer").first()
    if account is None:
        logger.info("Webhook about setup %s of a customer that is not ours", obj["id"])
        return
    payment_method_save(customer=account.customer, setup_intent_id=obj["id"], make_default=True)


def _ignore(obj: dict) -> None:
    pass


HANDLERS = {
    "payment_intent.succeeded": _on_intent,
    "payment_intent.payment_failed": _on_intent,
    "payment_intent.canceled": _on_intent,
    "payment_intent.requires_action": _on_intent,
    "charge.refunded": _on_charge_refunded,
    "setup_intent.succeeded": _on_setup_succeeded,
}
