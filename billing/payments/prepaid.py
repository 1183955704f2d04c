"""Prepaid balances: an append-only ledger per customer (top-ups by card, invoice debits, credit-note refunds,
staff adjustments); the balance is always the ledger's sum, never a stored counter.

Settling an invoice from the balance is all or nothing: when the balance covers the amount due, one debit
pays the invoice; when it does not, nothing is debited, the invoice stays unpaid (its dunning case says why),
and the next top-up settles open invoices oldest first. An invoice is never half paid, and a balance never
goes negative through settling (staff adjustments may correct it either way). Charging is refused at
Authorize while the balance is below PREPAID_MINIMUM_BALANCE, which keeps shortfalls small and rare.

Writers of one customer's ledger serialise on the customer's PaymentAccount row (select_for_update), so two
debits cannot both spend the same balance.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from djmoney.money import Money

from billing.models import DunningCase, Invoice, Payment, PaymentAccount, PrepaidLedgerEntry, SavedPaymentMethod
from customers.models import Customer

from .accounts import default_method, payment_account_get_or_create
from .collection import invoice_amount_due, payment_create, payment_run
from .dunning import dunning_case_for, dunning_record_paid
from .errors import PaymentError
from .providers import get_provider


def prepaid_balance(*, customer: Customer, currency: str | None = None) -> Money:
    """The sum of the customer's ledger in `currency` (default: the customer's)."""
    currency = currency or str(customer.currency)
    total = PrepaidLedgerEntry.objects.filter(customer=customer, amount_currency=currency).aggregate(
        total=Sum("amount")
    )["total"]
    return Money(total or Decimal(0), currency)


def is_prepaid(customer: Customer) -> bool:
    return PaymentAccount.objects.filter(customer=customer, collection=PaymentAccount.Collection.PREPAID).exists()


def prepaid_allows_charging(*, customer: Customer) -> bool:
    """Whether a charging session may start (OCPP Authorize): always for customers who do not pay in advance;
    for prepaid customers while their balance is at least PREPAID_MINIMUM_BALANCE."""
    return customer.pk not in prepaid_customers_short(customer_ids=[customer.pk])


def prepaid_customers_short(*, customer_ids) -> set[int]:
    """Of these customers, those who pay in advance and whose balance (in their own currency) is below
    PREPAID_MINIMUM_BALANCE, in one query: OCPP Authorize asks for one customer, a local list for many."""
    balance = (
        PrepaidLedgerEntry.objects.filter(
            customer=OuterRef("customer_id"), amount_currency=OuterRef("customer__currency")
        ).values("customer").annotate(total=Sum("amount")).values("total")
    )
    short = PaymentAccount.objects.filter(
        customer_id__in=customer_ids, collection=PaymentAccount.Collection.PREPAID
    ).annotate(balance=Coalesce(Subquery(balance), Value(Decimal(0)), output_field=DecimalField()))
    minimum = Decimal(settings.PREPAID_MINIMUM_BALANCE)
    return set(short.filter(balance__lt=minimum).values_list("customer_id", flat=True))


def _lock_account(customer: Customer) -> PaymentAccount:
    account = payment_account_get_or_create(customer=customer)
    return PaymentAccount.objects.select_for_update(of=("self",)).get(pk=account.pk)


def prepaid_top_up(
    *, customer: Customer, amount: Money, method: SavedPaymentMethod | None = None, once_since: datetime | None = None
) -> Payment:
    """Charge `amount` to a saved method (default: the customer's default) and, once it succeeded, credit the
    ledger (here or from the webhook) and settle open invoices. Returns the Payment (failed on a decline).

    `once_since` (the moment the driver's form was shown) makes a double submit harmless: when the customer
    already has a top-up made since then, that one is returned and nothing is charged again."""
    if amount.amount <= 0 or str(amount.currency) != str(customer.currency):
        raise PaymentError(f"A top-up is a positive amount in {customer.currency}.")
    method = method or default_method(customer)
    if method is None or method.account.customer_id != customer.pk:
        raise PaymentError("Save a card or wallet before topping up.")
    with transaction.atomic():
        if once_since is not None:
            _lock_account(customer)  # a second submit waits here for the first one's row
            earlier = Payment.objects.filter(
                customer=customer, purpose=Payment.Purpose.TOP_UP, created_at__gte=once_since
            ).order_by("pk").first()
            if earlier is not None:
                return earlier
        payment = payment_create(
            purpose=Payment.Purpose.TOP_UP, customer=customer, method=method, amount=amount.round(2)
        )

    return payment_run(payment=payment, provider=get_provider(payment.provider))


def ledger_credit_top_up(*, payment: Payment) -> PrepaidLedgerEntry:
    """The ledger credit of a succeeded top-up (once: the entry is one-to-one with the payment); then open
    invoices are settled after commit. Runs inside the caller's transaction."""
    _lock_account(payment.customer)
    entry, created = PrepaidLedgerEntry.objects.get_or_create(
        payment=payment,
        defaults={
            "customer": payment.customer,
            "kind": PrepaidLedgerEntry.Kind.TOP_UP,
            "amount": payment.amount,
            "note": "Top-up by card",
        },
    )
    if created:
        customer_id = payment.customer_id
        transaction.on_commit(lambda: prepaid_settle_open_invoices(customer=Customer.objects.get(pk=customer_id)))
    return entry


def prepaid_settle_invoice(*, invoice: Invoice) -> PrepaidLedgerEntry | None:
    """Debit the amount due of an issued invoice of a prepaid customer and mark it paid; None (and the invoice
    left unpaid, its dunning case saying why) when the balance does not cover it. Idempotent."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).select_related("customer").get(pk=invoice.pk)
        if invoice.kind != Invoice.Kind.INVOICE or not invoice.is_issued:
            raise PaymentError(f"Only issued invoices are settled, not {invoice}.")
        _lock_account(invoice.customer)
        existing = PrepaidLedgerEntry.objects.filter(
            invoice=invoice, kind=PrepaidLedgerEntry.Kind.INVOICE_DEBIT
        ).first()
        if existing is not None or invoice.paid_at is not None:
            return existing
        due = invoice_amount_due(invoice)
        case = dunning_case_for(invoice)
        if due.amount > prepaid_balance(customer=invoice.customer, currency=str(invoice.currency)).amount:
            DunningCase.objects.filter(pk=case.pk).update(
                state=DunningCase.State.COLLECTING, last_failure="Prepaid balance too low; settled at the next top-up."
            )
            return None
        entry = None
        if due.amount > 0:
            entry = PrepaidLedgerEntry.objects.create(
                customer=invoice.customer,
                kind=PrepaidLedgerEntry.Kind.INVOICE_DEBIT,
                amount=-due,
                invoice=invoice,
                note=f"Invoice {invoice.number}",
            )
        invoice.paid_at = timezone.now()
        invoice.save(update_fields=["paid_at"])
        dunning_record_paid(invoice=invoice)
    return entry


def prepaid_settle_open_invoices(*, customer: Customer) -> list[PrepaidLedgerEntry]:
    """Settle the customer's unpaid issued invoices, oldest first, while the balance covers them."""
    settled = []
    open_invoices = Invoice.objects.filter(
        customer=customer, kind=Invoice.Kind.INVOICE, status=Invoice.Status.ISSUED, paid_at__isnull=True
    ).order_by("issue_date", "pk")
    for invoice in open_invoices:
        entry = prepaid_settle_invoice(invoice=invoice)
        if entry is None and Invoice.objects.filter(pk=invoice.pk, paid_at__isnull=True).exists():
            break  # not covered: later invoices wait too, so they are paid in order
        if entry is not None:
            settled.append(entry)
    return settled


@transaction.atomic
def prepaid_adjust(*, customer: Customer, amount: Money, note: str, user=None) -> PrepaidLedgerEntry:
    """A staff correction of the balance (positive or negative), with the reason."""
    if not note.strip():
        raise PaymentError({"note": "Say why the balance is adjusted."})
    if amount.amount == 0:
        raise PaymentError({"amount": "An adjustment moves a non-zero amount."})
    _lock_account(customer)
    return PrepaidLedgerEntry.objects.create(
        customer=customer, kind=PrepaidLedgerEntry.Kind.ADJUSTMENT, amount=amount, note=note.strip(), created_by=user
    )
