"""Payments: cards and wallets through a provider (Stripe), prepaid balances, refunds of credit notes, webhooks
and dunning. Services write, selectors read; the provider interface is in `providers`.

    setup_intent_start(customer=c)                       # -> SetupResult: client secret for Stripe.js
    payment_method_save(customer=c, setup_intent_id=id)  # -> SavedPaymentMethod (default)
    invoice_collection_request(invoice=inv)              # queue collection after commit (invoice_issue)
    invoice_collect(invoice=inv)                         # card: Payment; prepaid: ledger debit; idempotent
    credit_note_refund(credit_note=cn)                   # refund to card or balance; once per credit note
    prepaid_top_up(customer=c, amount=Money(...))        # card charge, then a ledger credit
    prepaid_settle_invoice(invoice=inv)                  # all or nothing from the balance
    prepaid_allows_charging(customer=c) -> bool          # OCPP Authorize: balance >= PREPAID_MINIMUM_BALANCE
    dunning_state(invoice) -> DunningState               # collecting / failed / paid / written_off
    customers_filter_payment_state(qs, "in_dunning")     # list filters: in_dunning / tokens_blocked / paid_up

Tasks: `billing.collect_invoice`, `billing.retry_failed_collections` (hourly beat).
"""

from .accounts import (
    default_method,
    payment_account_get_or_create,
    payment_account_set_collection,
    payment_method_detach,
    payment_method_save,
    payment_method_set_default,
    payment_methods_of,
    provider_customer_ensure,
    setup_intent_start,
)
from .collection import invoice_amount_due, invoice_collect, invoice_collection_request, payment_abandon_action
from .errors import PaymentError
from .prepaid import (
    is_prepaid,
    prepaid_adjust,
    prepaid_allows_charging,
    prepaid_balance,
    prepaid_customers_short,
    prepaid_settle_invoice,
    prepaid_settle_open_invoices,
    prepaid_top_up,
)
from .refunds import credit_note_refund
from .selectors import (
    PAYMENT_STATES,
    DunningState,
    customers_filter_payment_state,
    dunning_state,
    invoices_filter_payment_state,
    invoices_with_dunning,
    payments_of_invoice,
)

__all__ = [
    "PAYMENT_STATES",
    "DunningState",
    "customers_filter_payment_state",
    "invoices_filter_payment_state",
    "PaymentError",
    "credit_note_refund",
    "default_method",
    "dunning_state",
    "invoice_amount_due",
    "invoice_collect",
    "invoice_collection_request",
    "invoices_with_dunning",
    "is_prepaid",
    "prepaid_customers_short",
    "payment_abandon_action",
    "payment_account_get_or_create",
    "payment_account_set_collection",
    "payment_method_detach",
    "payment_method_save",
    "payment_method_set_default",
    "payment_methods_of",
    "payments_of_invoice",
    "prepaid_adjust",
    "prepaid_allows_charging",
    "prepaid_balance",
    "prepaid_settle_invoice",
    "prepaid_settle_open_invoices",
    "prepaid_top_up",
    "provider_customer_ensure",
    "setup_intent_start",
]
