# ruff: noqa: F811  (pytest fixtures imported from payments_helpers are parameters of the tests)
"""Refunds of credit notes, holds with manual capture (the provider interface ad-hoc charging will use), and
prepaid balances: top-ups, all-or-nothing invoice debits, the Authorize rule and the append-only ledger. The
real `stripe` library against a real localstripe server."""

import json
from decimal import Decimal

import pytest
from djmoney.money import Money

from billing.invoicing import credit_note_issue
from billing.models import Payment, PaymentAccount, PrepaidLedgerEntry
from billing.payments import (
    credit_note_refund,
    dunning_state,
    invoice_collect,
    payment_account_set_collection,
    prepaid_adjust,
    prepaid_allows_charging,
    prepaid_balance,
    prepaid_settle_invoice,
    prepaid_top_up,
)
from billing.payments.providers import ProviderError, get_provider
from tests.billing.payments_helpers import (
    card_customer,
    issued_invoice,
    localstripe_server,  # noqa: F401  (session fixture)
    raw_client,
    sign,
    stripe_settings,  # noqa: F401
)
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]

EUR = "EUR"


def refunds_at_stripe(base, intent_id):
    return [r.to_dict() for r in raw_client(base).v1.refunds.list(params={"payment_intent": intent_id}).data]


def test_a_credit_note_is_refunded_to_the_card_once(localstripe_server, client):
    customer = card_customer(localstripe_server)
    invoice = issued_invoice(customer)
    paid = invoice_collect(invoice=invoice)
    note = credit_note_issue(invoice=invoice, reason="Station fault")

    refund = credit_note_refund(credit_note=note)

    assert (refund.purpose, refund.state, refund.amount) == ("refund", "succeeded", Money("11.90", EUR))
    assert refund.refunded_payment == paid and refund.provider_refund_id.startswith("re_")
    paid.refresh_from_db()
    assert paid.state == Payment.State.REFUNDED
    assert [r["amount"] for r in refunds_at_stripe(localstripe_server, paid.provider_intent_id)] == [1190]
    # Again (a retried task, a second click): the same refund, nothing more at Stripe.
    assert credit_note_refund(credit_note=note) == refund
    # Stripe's charge.refunded for it changes nothing either.
    event = {
        "id": "evt_refunded",
        "type": "charge.refunded",
        "data": {"object": {"id": "ch_x", "payment_intent": paid.provider_intent_id}},
    }
    payload = json.dumps(event)
    response = client.post(
        "/payments/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)
    )
    assert response.status_code == 200
    assert len(refunds_at_stripe(localstripe_server, paid.provider_intent_id)) == 1


def test_a_partial_credit_note_refunds_its_amount_and_the_payment_stays_succeeded(localstripe_server):
    customer = card_customer(localstripe_server)
    invoice = issued_invoice(customer)
    paid = invoice_collect(invoice=invoice)
    line = invoice.lines.get()
    note = credit_note_issue(invoice=invoice, reason="Idle fee waived", lines={line.pk: Decimal("5.00")})

    refund = credit_note_refund(credit_note=note)

    assert refund.amount == Money("5.95", EUR) and refund.state == "succeeded"
    paid.refresh_from_db()
    assert paid.state == Payment.State.SUCCEEDED


def test_a_credit_note_of_an_unpaid_invoice_lowers_what_is_collected(localstripe_server):
    customer = card_customer(localstripe_server)
    invoice = issued_invoice(customer)
    line = invoice.lines.get()
    note = credit_note_issue(invoice=invoice, reason="Goodwill", lines={line.pk: Decimal("4.00")})

    assert credit_note_refund(credit_note=note) is None
    assert invoice_collect(invoice=invoice).amount == Money("7.14", EUR)  # 11.90 - 4.76


def test_a_hold_is_captured_at_a_lower_amount_and_the_rest_released(localstripe_server):
    customer = card_customer(localstripe_server)
    account = PaymentAccount.objects.get(customer=customer)
    method = account.methods.get()
    provider = get_provider()

    hold = provider.authorize_hold(
        amount=Money("30.00", EUR),
        customer_id=account.provider_customer_id,
        method_id=method.provider_method_id,
        idempotency_key="evb-test-hold-1",
        metadata={"evb_session": "1"},
    )
    assert hold.status == "requires_capture" and hold.amount == 3000

    captured = provider.capture(intent_id=hold.id, amount=Money("12.50", EUR), idempotency_key="evb-test-capture-1")

    assert captured.status == "succeeded"
    # The emulator releases the uncaptured 17.50 as a refund of the charge; Stripe reports amount_received 1250.
    assert [r["amount"] for r in refunds_at_stripe(localstripe_server, hold.id)] == [1750]


def test_a_capture_above_the_hold_is_refused_and_the_hold_can_be_released(localstripe_server):
    customer = card_customer(localstripe_server)
    account = PaymentAccount.objects.get(customer=customer)
    provider = get_provider()
    hold = provider.authorize_hold(
        amount=Money("30.00", EUR),
        customer_id=account.provider_customer_id,
        method_id=account.methods.get().provider_method_id,
        idempotency_key="evb-test-hold-2",
        metadata={},
    )

    with pytest.raises(ProviderError):
        provider.capture(intent_id=hold.id, amount=Money("42.00", EUR), idempotency_key="evb-test-capture-2")

    assert provider.retrieve_intent(hold.id).status == "requires_capture"
    assert provider.cancel(intent_id=hold.id, idempotency_key="evb-test-cancel-2").status == "canceled"


# --- prepaid -------------------------------------------------------------------------------------------------


def prepaid_customer(base, **fields):
    customer = card_customer(base, **fields)
    payment_account_set_collection(customer=customer, collection=PaymentAccount.Collection.PREPAID)
    return customer


def test_a_top_up_is_charged_to_the_card_and_credited_to_the_ledger(localstripe_server):
    customer = prepaid_customer(localstripe_server)

    payment = prepaid_top_up(customer=customer, amount=Money("25.00", EUR))

    assert (payment.purpose, payment.state) == ("top_up", "succeeded")
    assert prepaid_balance(customer=customer) == Money("25.00", EUR)
    assert PrepaidLedgerEntry.objects.get(customer=customer).payment == payment


def test_a_declined_top_up_credits_nothing(localstripe_server):
    customer = card_customer(localstripe_server, "4000000000000341")
    payment_account_set_collection(customer=customer, collection="prepaid")

    payment = prepaid_top_up(customer=customer, amount=Money("25.00", EUR))

    assert payment.state == "failed" and prepaid_balance(customer=customer) == Money(0, EUR)


def test_an_invoice_of_a_prepaid_customer_is_debited_from_the_balance(localstripe_server):
    customer = prepaid_customer(localstripe_server)
    prepaid_top_up(customer=customer, amount=Money("20.00", EUR))
    invoice = issued_invoice(customer)

    entry = invoice_collect(invoice=invoice)

    assert (entry.kind, entry.amount, entry.invoice) == ("invoice_debit", Money("-11.90", EUR), invoice)
    invoice.refresh_from_db()
    assert invoice.paid_at is not None and prepaid_balance(customer=customer) == Money("8.10", EUR)
    assert prepaid_settle_invoice(invoice=invoice) == entry  # idempotent
    assert prepaid_balance(customer=customer) == Money("8.10", EUR)


def test_an_invoice_above_the_balance_waits_unpaid_and_the_next_top_up_settles_it(localstripe_server):
    customer = prepaid_customer(localstripe_server)
    prepaid_top_up(customer=customer, amount=Money("5.00", EUR))
    invoice = issued_invoice(customer)

    assert prepaid_settle_invoice(invoice=invoice) is None
    invoice.refresh_from_db()
    assert invoice.paid_at is None and prepaid_balance(customer=customer) == Money("5.00", EUR)  # nothing debited
    assert dunning_state(invoice).state == "collecting"

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        prepaid_top_up(customer=customer, amount=Money("10.00", EUR))

    invoice.refresh_from_db()
    assert invoice.paid_at is not None and prepaid_balance(customer=customer) == Money("3.10", EUR)
    assert dunning_state(invoice).state == "paid"


def test_charging_is_allowed_only_while_the_prepaid_balance_reaches_the_minimum(localstripe_server, settings):
    settings.PREPAID_MINIMUM_BALANCE = "5.00"
    customer = prepaid_customer(localstripe_server)
    assert prepaid_allows_charging(customer=customer) is False  # empty balance

    prepaid_top_up(customer=customer, amount=Money("5.00", EUR))
    assert prepaid_allows_charging(customer=customer) is True

    prepaid_adjust(customer=customer, amount=Money("-0.01", EUR), note="Rounding correction")
    assert prepaid_allows_charging(customer=customer) is False
    assert prepaid_allows_charging(customer=CustomerFactory()) is True  # invoiced afterwards, not prepaid


def test_a_credit_note_of_a_prepaid_invoice_is_refunded_to_the_balance(localstripe_server):
    customer = prepaid_customer(localstripe_server)
    prepaid_top_up(customer=customer, amount=Money("20.00", EUR))
    invoice = issued_invoice(customer)
    invoice_collect(invoice=invoice)
    note = credit_note_issue(invoice=invoice, reason="Wrong tariff")

    entry = credit_note_refund(credit_note=note)

    assert (entry.kind, entry.amount) == ("refund", Money("11.90", EUR))
    assert prepaid_balance(customer=customer) == Money("20.00", EUR)
    assert credit_note_refund(credit_note=note) == entry


def test_the_ledger_is_append_only_and_adjustments_need_a_reason(db):
    customer = CustomerFactory()
    entry = prepaid_adjust(customer=customer, amount=Money("3.00", EUR), note="Goodwill")

    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    from billing.payments import PaymentError

    with pytest.raises(PaymentError):
        prepaid_adjust(customer=customer, amount=Money("3.00", EUR), note=" ")


def test_staff_see_payments_and_adjust_a_balance_in_the_admin(admin_client, localstripe_server):
    customer = prepaid_customer(localstripe_server)
    prepaid_top_up(customer=customer, amount=Money("10.00", EUR))
    for name in ("payment", "webhookevent", "prepaidledgerentry", "dunningcase", "paymentaccount"):
        assert admin_client.get(f"/admin/billing/{name}/").status_code == 200
    assert admin_client.get("/admin/billing/payment/add/").status_code == 403

    response = admin_client.post(
        "/admin/billing/prepaidledgerentry/adjust/",
        {
            "customer": customer.pk,
            "amount_0": "-2.50",
            "amount_1": "EUR",
            "note": "Faulty session",
        },
    )

    assert response.status_code == 302
    assert prepaid_balance(customer=customer) == Money("7.50", EUR)
