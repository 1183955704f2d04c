# ruff: noqa: F811  (pytest fixtures imported from payments_helpers are parameters of the tests)
"""Cards through Stripe (the real `stripe` library against a real localstripe server): saving a card from the
portal, collecting issued invoices off-session, declines and dunning with token blocking, retries that never
charge twice, and the signed, idempotent webhook."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import DunningCase, Payment, PaymentAccount, SavedPaymentMethod, WebhookEvent
from billing.payments import PaymentError, dunning_state, invoice_collect, payment_method_save, setup_intent_start
from billing.payments import collection as collection_module
from billing.payments.tasks import collect_invoice, retry_failed_collections
from customers.models import IdToken
from tests.billing.payments_helpers import (
    browser_confirm_setup,
    card_customer,
    card_save,
    intents_of,
    issued_invoice,
    localstripe_server,  # noqa: F401  (session fixture)
    raw_client,
    sign,
    stripe_settings,  # noqa: F401
)
from tests.factories import CustomerFactory, IdTokenFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]

DECLINES_CHARGES = "4000000000000341"  # attaches fine, every charge is declined
DECLINES_SAVING = "4000000000000002"  # declined already when saved


def provider_id(customer) -> str:
    return PaymentAccount.objects.get(customer=customer).provider_customer_id


def test_saving_a_card_from_the_portal_makes_it_the_default(localstripe_server):
    customer = card_customer(localstripe_server)

    method = SavedPaymentMethod.objects.get(account__customer=customer)
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("visa", "4242", 12, 2034)
    assert method.is_default and method.provider_method_id.startswith("pm_")
    at_stripe = raw_client(localstripe_server).v1.payment_methods.retrieve(method.provider_method_id)
    assert at_stripe.customer == provider_id(customer)

    second = card_save(localstripe_server, customer, "5555555555554444")
    assert SavedPaymentMethod.objects.get(is_default=True, account__customer=customer) == second


def test_a_card_declined_while_saving_is_not_stored(localstripe_server):
    import stripe

    customer = CustomerFactory()
    setup = setup_intent_start(customer=customer)
    with pytest.raises(stripe.CardError):
        browser_confirm_setup(localstripe_server, setup.id, DECLINES_SAVING)

    with pytest.raises(PaymentError):
        payment_method_save(customer=customer, setup_intent_id=setup.id)
    assert not SavedPaymentMethod.objects.exists()


def test_collecting_an_issued_invoice_charges_the_default_card_once_and_marks_it_paid(localstripe_server):
    customer = card_customer(localstripe_server)
    invoice = issued_invoice(customer)

    payment = invoice_collect(invoice=invoice)

    assert payment.state == Payment.State.SUCCEEDED and payment.amount.amount == Decimal("11.90")
    assert payment.idempotency_key.startswith(f"evb-payment-{payment.pk}-")
    invoice.refresh_from_db()
    assert invoice.paid_at is not None
    [intent] = intents_of(localstripe_server, provider_id(customer))
    assert (intent["id"], intent["amount"], intent["currency"], intent["status"]) == (
        payment.provider_intent_id,
        1190,
        "eur",
        "succeeded",
    )
    assert intent["metadata"]["evb_invoice"] == invoice.number
    # Collecting again (a duplicate request, a second task) finds the payment and charges nothing.
    assert invoice_collect(invoice=invoice) == payment
    assert len(intents_of(localstripe_server, provider_id(customer))) == 1


def test_a_declined_collection_is_a_failed_attempt_with_a_retry_scheduled(localstripe_server, settings):
    settings.PAYMENT_RETRY_DAYS = [1, 3, 7]
    customer = card_customer(localstripe_server, DECLINES_CHARGES)
    invoice = issued_invoice(customer)

    payment = invoice_collect(invoice=invoice)

    assert payment.state == Payment.State.FAILED and payment.failure_code == "card_declined"
    invoice.refresh_from_db()
    assert invoice.paid_at is None
    state = dunning_state(invoice)
    assert (state.state, state.failures, state.tokens_blocked) == ("failed", 1, False)
    assert timedelta(hours=23) < state.next_retry_at - timezone.now() <= timedelta(days=1)


def test_after_the_last_allowed_failure_tokens_are_blocked_and_paying_reinstates_exactly_those(
    localstripe_server, settings
):
    settings.PAYMENT_MAX_FAILURES = 2
    customer = card_customer(localstripe_server, DECLINES_CHARGES)
    card, staff_blocked = IdTokenFactory(customer=customer), IdTokenFactory(customer=customer, status="blocked")
    invoice = issued_invoice(customer)
    invoice_collect(invoice=invoice)
    DunningCase.objects.update(next_retry_at=timezone.now() - timedelta(minutes=1))

    assert retry_failed_collections() == 1  # second attempt, declined again: the limit

    card.refresh_from_db()
    assert card.status == IdToken.Status.BLOCKED and dunning_state(invoice).tokens_blocked
    assert list(invoice.payments.values_list("attempt", "state")) == [(2, "failed"), (1, "failed")]

    card_save(localstripe_server, customer, "4242424242424242")  # the driver saves a working card
    DunningCase.objects.update(next_retry_at=timezone.now() - timedelta(minutes=1))
    retry_failed_collections()

    card.refresh_from_db(), staff_blocked.refresh_from_db(), invoice.refresh_from_db()
    assert invoice.paid_at is not None and dunning_state(invoice).state == "paid"
    assert card.status == IdToken.Status.VALID
    assert staff_blocked.status == IdToken.Status.BLOCKED  # blocked by staff, not by dunning


def test_a_collection_retried_after_its_answer_was_lost_does_not_charge_twice(localstripe_server, monkeypatch):
    customer = card_customer(localstripe_server)
    invoice = issued_invoice(customer)
    real_record = collection_module.payment_record_result

    def worker_dies(**kwargs):
        raise SystemExit("worker killed after the provider charged")

    # The provider charges, then the worker dies before recording anything.
    monkeypatch.setattr(collection_module, "payment_record_result", worker_dies)
    with pytest.raises(SystemExit):
        collect_invoice.delay(invoice.pk)
    payment = Payment.objects.get(invoice=invoice)
    assert payment.state == Payment.State.PENDING and not payment.provider_intent_id

    # The task is redelivered: the same row, the same key, so the same intent.
    monkeypatch.setattr(collection_module, "payment_record_result", real_record)
    assert collect_invoice.delay(invoice.pk).get() == payment.pk

    payment.refresh_from_db()
    [intent] = intents_of(localstripe_server, provider_id(customer))
    assert payment.state == Payment.State.SUCCEEDED and payment.provider_intent_id == intent["id"]
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_a_pending_payment_left_by_an_outage_is_finished_by_the_sweep(localstripe_server, monkeypatch):
    from billing.payments.providers import ProviderUnavailable
    from billing.payments.stripe_provider import StripeProvider

    customer = card_customer(localstripe_server)
    invoice = issued_invoice(customer)
    real_charge = StripeProvider.charge_off_session

    def charged_but_timed_out(self, **kwargs):
        real_charge(self, **kwargs)
        raise ProviderUnavailable("read timeout")

    monkeypatch.setattr(StripeProvider, "charge_off_session", charged_but_timed_out)
    assert collect_invoice.delay(invoice.pk).get() is None  # inline: issuing never fails because of the provider
    monkeypatch.setattr(StripeProvider, "charge_off_session", real_charge)
    Payment.objects.update(updated_at=timezone.now() - timedelta(hours=1))

    retry_failed_collections()

    invoice.refresh_from_db()
    assert invoice.paid_at is not None
    assert len(intents_of(localstripe_server, provider_id(customer))) == 1


# --- webhooks ------------------------------------------------------------------------------------------------


def post_event(client, event: dict, *, signature: str | None = None):
    payload = json.dumps(event)
    return client.post(
        "/payments/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature or sign(payload),
    )


def intent_event(event_id: str, event_type: str, intent) -> dict:
    return {"id": event_id, "object": "event", "type": event_type, "data": {"object": intent}}


def test_a_webhook_with_a_bad_signature_is_refused(client):
    event = intent_event("evt_1", "payment_intent.succeeded", {"id": "pi_x", "status": "succeeded"})

    assert post_event(client, event, signature=sign(json.dumps(event), secret="whsec_wrong")).status_code == 400
    assert post_event(client, event, signature="t=1,v1=deadbeef").status_code == 400
    assert client.post("/payments/stripe/webhook/", data="{}", content_type="application/json").status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_duplicated_webhook_is_processed_once(client, localstripe_server, monkeypatch):
    from billing.payments.providers import ProviderUnavailable
    from billing.payments.stripe_provider import StripeProvider

    customer = card_customer(localstripe_server)
    invoice = issued_invoice(customer)
    # The charge happens but its answer is lost: only the webhook tells us.
    real_charge = StripeProvider.charge_off_session

    def lost_answer(self, **kwargs):
        real_charge(self, **kwargs)
        raise ProviderUnavailable("connection reset")

    monkeypatch.setattr(StripeProvider, "charge_off_session", lost_answer)
    collect_invoice.delay(invoice.pk)
    [intent] = intents_of(localstripe_server, provider_id(customer))
    event = intent_event("evt_dup", "payment_intent.succeeded", intent)

    first, second = post_event(client, event), post_event(client, event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert WebhookEvent.objects.filter(event_id="evt_dup").count() == 1
    payment = Payment.objects.get(invoice=invoice)
    assert payment.state == Payment.State.SUCCEEDED and payment.provider_intent_id == intent["id"]
    paid_at = invoice.__class__.objects.get(pk=invoice.pk).paid_at
    assert paid_at is not None
    # A late failure event of the same intent changes nothing: a finished payment stays finished.
    failed = {**intent, "status": "requires_payment_method", "last_payment_error": {"code": "card_declined"}}
    assert post_event(client, intent_event("evt_late", "payment_intent.payment_failed", failed)).status_code == 200
    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED and not DunningCase.objects.filter(state="failed").exists()


def test_a_payment_failed_webhook_fails_the_pending_payment(client, localstripe_server):
    customer = card_customer(localstripe_server)
    invoice = issued_invoice(customer)
    payment = collection_module._collection_begin(invoice=invoice)
    intent = {
        "id": "pi_from_webhook",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "amount": 1190,
        "currency": "eur",
        "metadata": {"evb_payment": str(payment.pk)},
        "last_payment_error": {
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        },
    }

    assert post_event(client, intent_event("evt_fail", "payment_intent.payment_failed", intent)).status_code == 200

    payment.refresh_from_db()
    assert (payment.state, payment.failure_code) == ("failed", "insufficient_funds")
    assert dunning_state(invoice).state == "failed"


def test_a_setup_intent_succeeded_webhook_saves_the_card(client, localstripe_server):
    customer = CustomerFactory()
    setup = setup_intent_start(customer=customer)
    browser_confirm_setup(localstripe_server, setup.id)
    obj = raw_client(localstripe_server).v1.setup_intents.retrieve(setup.id).to_dict()

    response = post_event(client, {"id": "evt_setup", "type": "setup_intent.succeeded", "data": {"object": obj}})

    assert response.status_code == 200
    assert SavedPaymentMethod.objects.get(account__customer=customer).is_default
