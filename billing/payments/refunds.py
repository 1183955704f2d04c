"""Refunds of credit notes: the money of a credit note goes back the way the credited invoice was paid: to the
card (a provider refund on the invoice's successful payment) or to the prepaid balance (a ledger credit). An
unpaid invoice needs no refund: its credit notes lower what collection asks for.

One refund per credit note (a database constraint); the provider call carries the idempotency key of the
refund's own Payment row, written before the call, so a retry never refunds twice.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from djmoney.money import Money

from billing.models import Invoice, Payment, PrepaidLedgerEntry

from .collection import payment_create
from .errors import PaymentError
from .providers import get_provider


def credit_note_refund(*, credit_note: Invoice) -> Payment | PrepaidLedgerEntry | None:
    """Refund an issued credit note; returns the refund Payment, the ledger credit, or None (nothing was paid)."""
    begun = _refund_begin(credit_note=credit_note)
    if not isinstance(begun, Payment) or begun.state != Payment.State.PENDING:
        return begun
    original = begun.refunded_payment
    result = get_provider(begun.provider).refund(
        intent_id=original.provider_intent_id,
        amount=begun.amount,
        idempotency_key=begun.idempotency_key,
        metadata={"evb_payment": str(begun.pk), "evb_credit_note": credit_note.number},
    )
    return refund_record(payment=begun, refund_id=result.id, succeeded=result.status in ("succeeded", "pending"))


def _refund_begin(*, credit_note: Invoice) -> Payment | PrepaidLedgerEntry | None:
    with transaction.atomic():
        note = Invoice.objects.select_for_update(of=("self",)).select_related("credited_invoice").get(pk=credit_note.pk)
        if note.kind != Invoice.Kind.CREDIT_NOTE or not note.is_issued:
            raise PaymentError(f"Only issued credit notes are refunded, not {note}.")
        existing = (
            Payment.objects.filter(purpose=Payment.Purpose.REFUND, invoice=note).first()
            or PrepaidLedgerEntry.objects.filter(kind=PrepaidLedgerEntry.Kind.REFUND, invoice=note).first()
        )
        if existing is not None:
            return existing
        amount = Money(-note.total_incl_vat, note.currency)
        if amount.amount <= 0:
            return None
        invoice = note.credited_invoice
        paid = invoice.payments.filter(
            purpose=Payment.Purpose.INVOICE, state__in=[Payment.State.SUCCEEDED, Payment.State.REFUNDED]
        ).first()
        if paid is not None:
            return _refund_payment_create(note=note, original=paid, amount=amount)
        if PrepaidLedgerEntry.objects.filter(invoice=invoice, kind=PrepaidLedgerEntry.Kind.INVOICE_DEBIT).exists():
            return PrepaidLedgerEntry.objects.create(
                customer=note.customer,
                kind=PrepaidLedgerEntry.Kind.REFUND,
                amount=amount,
                invoice=note,
                note=f"Credit note {note.number}",
            )
    return None


def _refund_payment_create(*, note: Invoice, original: Payment, amount: Money) -> Payment:
    refunded = (
        Payment.objects.filter(
            refunded_payment=original, state__in=[Payment.State.PENDING, Payment.State.SUCCEEDED]
        ).aggregate(total=Sum("amount"))["total"]
    ) or Decimal(0)
    if amount.amount > original.amount.amount - refunded:
        raise PaymentError(f"{note} asks to refund more than is left of the payment of {note.credited_invoice}.")
    return payment_create(
        purpose=Payment.Purpose.REFUND,
        customer=note.customer,
        invoice=note,
        refunded_payment=original,
        amount=amount,
        provider=original.provider,
    )


def refund_record(*, payment: Payment, refund_id: str, succeeded: bool) -> Payment:
    """Record a refund's outcome (the call's answer or the charge.refunded webhook); the original payment is
    `refunded` once refunds cover all of it."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        if payment.state != Payment.State.PENDING:
            return payment
        payment.provider_refund_id = refund_id or payment.provider_refund_id
        payment.state = Payment.State.SUCCEEDED if succeeded else Payment.State.FAILED
        payment.completed_at = timezone.now()
        payment.save()
        original = Payment.objects.select_for_update(of=("self",)).get(pk=payment.refunded_payment_id)
        refunded = (
            Payment.objects.filter(refunded_payment=original, state=Payment.State.SUCCEEDED).aggregate(
                total=Sum("amount")
            )["total"]
        ) or Decimal(0)
        if refunded >= original.amount.amount and original.state == Payment.State.SUCCEEDED:
            original.state = Payment.State.REFUNDED
            original.save(update_fields=["state", "updated_at"])
    return payment
