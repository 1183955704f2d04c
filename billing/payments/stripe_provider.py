"""The Stripe implementation of the provider interface, with the official `stripe` library.

Requests carry only what both Stripe and the localstripe emulator the tests use accept: intents name
`payment_method_types=["card"]` (wallets such as Apple Pay and Google Pay are card methods with a `wallet`)
instead of automatic payment methods, which would also need a return URL. The secret key is read from settings
(the environment) and never logged: errors are logged by their type, code and request id only.
"""

from __future__ import annotations

import contextlib
import json
import logging

import stripe
from django.conf import settings
from djmoney.money import Money

from .providers import (
    IntentResult,
    InvalidWebhook,
    MethodInfo,
    PaymentDeclined,
    PaymentProvider,
    ProviderError,
    ProviderUnavailable,
    RefundResult,
    SetupResult,
    WebhookEventData,
    to_minor,
)

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _translated_errors():
    """Stripe's exceptions as ours: network and server trouble is retryable, the rest is a refusal."""
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        logger.warning("Stripe unreachable: %s (request %s)", type(exc).__name__, exc.request_id)
        raise ProviderUnavailable(type(exc).__name__) from exc
    except stripe.APIError as exc:
        if (exc.http_status or 500) >= 500:
            logger.warning("Stripe server error %s (request %s)", exc.http_status, exc.request_id)
            raise ProviderUnavailable(f"HTTP {exc.http_status}") from exc
        raise ProviderError(exc.user_message or str(exc), code=exc.code or "") from exc
    except stripe.CardError as exc:
        raise PaymentDeclined(exc.user_message or "The card was declined.", code=exc.code or "card_declined") from exc
    except stripe.AuthenticationError as exc:
        logger.error("Stripe refused our API key (request %s)", exc.request_id)
        raise ProviderUnavailable("authentication") from exc
    except stripe.StripeError as exc:
        raise ProviderError(exc.user_message or str(exc), code=exc.code or "") from exc


def _plain(obj) -> dict:
    # StripeObject is deliberately not a dict; the event payloads of webhooks already are.
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _intent(obj) -> IntentResult:
    obj = _plain(obj)
    error = obj.get("last_payment_error") or {}
    return IntentResult(
        id=obj["id"],
        status=obj["status"],
        amount=obj["amount"],
        currency=obj["currency"].upper(),
        amount_received=obj.get("amount_received") or 0,
        amount_capturable=obj.get("amount_capturable") or 0,
        failure_code=error.get("decline_code") or error.get("code") or "",
        failure_message=error.get("message") or "",
        metadata=dict(obj.get("metadata") or {}),
        client_secret=obj.get("client_secret") or "",
    )


def _method(obj) -> MethodInfo:
    obj = _plain(obj)
    card = obj.get("card") or {}
    wallet = card.get("wallet") or {}
    return MethodInfo(
        id=obj["id"],
        customer_id=obj.get("customer"),
        kind=obj.get("type") or "card",
        brand=card.get("brand") or "",
        last4=card.get("last4") or "",
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
        wallet=(wallet.get("type") or "") if isinstance(wallet, dict) else "",
    )


def _setup(obj) -> SetupResult:
    obj = _plain(obj)
    return SetupResult(
        id=obj["id"],
        status=obj["status"],
        client_secret=obj["client_secret"],
        customer_id=obj.get("customer"),
        method_id=obj.get("payment_method"),
    )


class StripeProvider(PaymentProvider):
    name = "stripe"

    def __init__(self, *, api_key: str, webhook_secret: str, api_base: str, timeout_s: float = 30.0):
        if not api_key:
            raise ProviderUnavailable("STRIPE_SECRET_KEY is not configured")
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=2,
            http_client=stripe.RequestsClient(timeout=timeout_s),
        )

    @classmethod
    def from_settings(cls) -> StripeProvider:
        return cls(
            api_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            api_base=settings.STRIPE_API_BASE,
            timeout_s=settings.STRIPE_TIMEOUT_S,
        )

    def __repr__(self) -> str:  # never the key
        return "StripeProvider()"

    # --- customers and methods ---------------------------------------------------------------------------

    def ensure_customer(self, *, customer_id: str | None, email: str, name: str, reference: str) -> str:
        with _translated_errors():
            if customer_id:
                with contextlib.suppress(stripe.InvalidRequestError):
                    found = _plain(self._client.v1.customers.retrieve(customer_id))
                    if not found.get("deleted"):
                        return found["id"]
            created = self._client.v1.customers.create(
                params={"email": email, "name": name, "metadata": {"evb_customer": reference}},
                options={"idempotency_key": f"evb-customer-{reference}"},
            )
        return created["id"]

    def setup_intent(self, *, customer_id: str, metadata: dict) -> SetupResult:
        with _translated_errors():
            obj = self._client.v1.setup_intents.create(
                params={
                    "customer": customer_id,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                    "metadata": metadata,
                }
            )
        return _setup(obj)

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        with _translated_errors():
            return _setup(self._client.v1.setup_intents.retrieve(setup_intent_id))

    def retrieve_method(self, method_id: str) -> MethodInfo:
        with _translated_errors():
            return _method(self._client.v1.payment_methods.retrieve(method_id))

    def attach_method(self, *, method_id: str, customer_id: str) -> MethodInfo:
        with _translated_errors():
            return _method(self._client.v1.payment_methods.attach(method_id, params={"customer": customer_id}))

    def list_methods(self, *, customer_id: str) -> list[MethodInfo]:
        with _translated_errors():
            page = self._client.v1.payment_methods.list(params={"customer": customer_id, "type": "card", "limit": 100})
        return [_method(obj) for obj in page.data]

    def detach_method(self, method_id: str) -> None:
        with _translated_errors():
            self._client.v1.payment_methods.detach(method_id)

    # --- moving money ------------------------------------------------------------------------------------

    def _create_intent(self, params: dict, idempotency_key: str) -> IntentResult:
        try:
            with _translated_errors():
                return _intent(
                    self._client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
                )
        except PaymentDeclined as declined:
            # Stripe answers a declined confirmation with 402 and the intent inside the error; a decline is
            # an outcome to record, not a failure of the call.
            intent = getattr(getattr(declined.__cause__, "error", None), "payment_intent", None)
            if intent:
                return _intent(intent)
            return IntentResult(
                id="",
                status="requires_payment_method",
                amount=params["amount"],
                currency=params["currency"].upper(),
                failure_code=declined.code,
                failure_message=declined.message,
                metadata=params.get("metadata") or {},
            )

    def charge_off_session(
        self, *, amount: Money, customer_id: str, method_id: str, idempotency_key: str, metadata: dict
    ) -> IntentResult:
        return self._create_intent(
            {
                "amount": to_minor(amount),
                "currency": str(amount.currency).lower(),
                "customer": customer_id,
                "payment_method": method_id,
                "payment_method_types": ["card"],
                "confirm": True,
                "off_session": True,
                "metadata": metadata,
            },
            idempotency_key,
        )

    def authorize_hold(
        self, *, amount: Money, customer_id: str | None, method_id: str, idempotency_key: str, metadata: dict
    ) -> IntentResult:
        params = {
            "amount": to_minor(amount),
            "currency": str(amount.currency).lower(),
            "payment_method": method_id,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "metadata": metadata,
        }
        if customer_id:
            params["customer"] = customer_id
        return self._create_intent(params, idempotency_key)

    def capture(self, *, intent_id: str, amount: Money, idempotency_key: str) -> IntentResult:
        with _translated_errors():
            return _intent(
                self._client.v1.payment_intents.capture(
                    intent_id,
                    params={"amount_to_capture": to_minor(amount)},
                    options={"idempotency_key": idempotency_key},
                )
            )

    def cancel(self, *, intent_id: str, idempotency_key: str) -> IntentResult:
        with _translated_errors():
            return _intent(
                self._client.v1.payment_intents.cancel(intent_id, options={"idempotency_key": idempotency_key})
            )

    def retrieve_intent(self, intent_id: str) -> IntentResult:
        with _translated_errors():
            return _intent(self._client.v1.payment_intents.retrieve(intent_id))

    def refund(self, *, intent_id: str, amount: Money, idempotency_key: str, metadata: dict) -> RefundResult:
        with _translated_errors():
            obj = self._client.v1.refunds.create(
                params={"payment_intent": intent_id, "amount": to_minor(amount), "metadata": metadata},
                options={"idempotency_key": idempotency_key},
            )
        obj = _plain(obj)
        return RefundResult(id=obj["id"], status=obj["status"], amount=obj["amount"])

    # --- webhooks ----------------------------------------------------------------------------------------

    def parse_webhook(self, *, payload: bytes, signature_header: str | None) -> WebhookEventData:
        if not self._webhook_secret:
            raise InvalidWebhook("STRIPE_WEBHOOK_SECRET is not configured")
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature_header, self._webhook_secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
            data = json.loads(payload)
            return WebhookEventData(id=data["id"], type=data["type"], object=data["data"]["object"], payload=data)
        except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook(str(exc)) from exc
