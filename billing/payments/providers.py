"""The payment provider interface the services use, its results and errors, and amounts in minor units.

A provider moves money and reports what happened; it never touches our database. Every call that moves money
takes an idempotency key derived from our own ids (`evb-payment-<pk>-<salt>`, stored on the Payment), so that
a retried call returns the first call's result instead of charging again.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from djmoney.money import Money

# ISO 4217 currencies without minor units that Stripe takes as whole amounts (of those we might bill in).
ZERO_DECIMAL = frozenset({"JPY", "KRW", "CLP", "VND", "ISK"})


def to_minor(amount: Money) -> int:
    """Money to the provider's integer minor units (cents). Amounts here are already rounded to the currency."""
    exponent = 0 if str(amount.currency) in ZERO_DECIMAL else 2
    return int((amount.amount * (10**exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(value: int, currency: str) -> Money:
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return Money(Decimal(value) / (10**exponent), currency.upper())


class ProviderError(Exception):
    """The provider refused a request (bad state, bad amount, unknown object): not worth retrying."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message


class PaymentDeclined(ProviderError):
    """The card or wallet was declined (insufficient funds, expired, fraud suspicion, ...)."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with a server error: retry later with the same key."""


class InvalidWebhook(Exception):
    """A webhook whose signature or payload does not verify."""


@dataclass(frozen=True)
class MethodInfo:
    """A saved payment method as the provider describes it."""

    id: str
    customer_id: str | None
    kind: str = "card"
    brand: str = ""
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None
    wallet: str = ""


@dataclass(frozen=True)
class IntentResult:
    """A payment intent after a call: `status` is the provider's (succeeded, requires_capture, requires_action,
    processing, requires_payment_method, canceled ...); amounts in minor units."""

    id: str
    status: str
    amount: int
    currency: str
    amount_received: int = 0
    amount_capturable: int = 0
    failure_code: str = ""
    failure_message: str = ""
    metadata: dict = field(default_factory=dict)
    # For the browser (Stripe.js) when the customer must act (3-D Secure): never stored, never logged.
    client_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: int


@dataclass(frozen=True)
class SetupResult:
    id: str
    status: str
    client_secret: str
    customer_id: str | None = None
    method_id: str | None = None


@dataclass(frozen=True)
class WebhookEventData:
    """A verified event: id, type and the object it is about (the provider's JSON)."""

    id: str
    type: str
    object: dict
    payload: dict


class PaymentProvider(abc.ABC):
    """What the payment services need from a provider (Stripe today)."""

    name: str

    @abc.abstractmethod
    def ensure_customer(self, *, customer_id: str | None, email: str, name: str, reference: str) -> str:
        """The provider's customer id: `customer_id` when it still exists, else a new customer."""

    @abc.abstractmethod
    def setup_intent(self, *, customer_id: str, metadata: dict) -> SetupResult:
        """Start saving a method from the portal: the client secret goes to the browser (Stripe.js)."""

    @abc.abstractmethod
    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult: ...

    @abc.abstractmethod
    def retrieve_method(self, method_id: str) -> MethodInfo: ...

    @abc.abstractmethod
    def attach_method(self, *, method_id: str, customer_id: str) -> MethodInfo: ...

    @abc.abstractmethod
    def list_methods(self, *, customer_id: str) -> list[MethodInfo]: ...

    @abc.abstractmethod
    def detach_method(self, method_id: str) -> None: ...

    @abc.abstractmethod
    def charge_off_session(
        self, *, amount: Money, customer_id: str, method_id: str, idempotency_key: str, metadata: dict
    ) -> IntentResult:
        """Charge a saved method with the customer absent. A decline is a result (requires_payment_method with a
        failure code), not an exception; a network failure raises ProviderUnavailable."""

    @abc.abstractmethod
    def authorize_hold(
        self, *, amount: Money, customer_id: str | None, method_id: str, idempotency_key: str, metadata: dict
    ) -> IntentResult:
        """Authorise `amount` without capturing it (manual capture): requires_capture on success."""

    @abc.abstractmethod
    def capture(self, *, intent_id: str, amount: Money, idempotency_key: str) -> IntentResult:
        """Capture at most the authorised amount; the rest of the hold is released."""

    @abc.abstractmethod
    def cancel(self, *, intent_id: str, idempotency_key: str) -> IntentResult:
        """Release a hold (or abandon an unconfirmed intent)."""

    @abc.abstractmethod
    def retrieve_intent(self, intent_id: str) -> IntentResult: ...

    @abc.abstractmethod
    def refund(self, *, intent_id: str, amount: Money, idempotency_key: str, metadata: dict) -> RefundResult: ...

    @abc.abstractmethod
    def parse_webhook(self, *, payload: bytes, signature_header: str | None) -> WebhookEventData:
        """Verify the signature and parse the event; raises InvalidWebhook."""


def get_provider(name: str = "stripe") -> PaymentProvider:
    """The configured provider. Only Stripe exists now; a second one registers here."""
    if name != "stripe":
        raise ProviderError(f"Unknown payment provider {name!r}")
    from .stripe_provider import StripeProvider

    return StripeProvider.from_settings()
