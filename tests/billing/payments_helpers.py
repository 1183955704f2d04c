"""A real localstripe (Stripe emulator) server for the payment tests, and helpers to use it like a browser would.

`localstripe_server` (session fixture) starts `localstripe` from PyPI in its own process on a free loopback
port, waits until it answers, and the `stripe_settings` fixture points the official `stripe` library at it
(settings STRIPE_API_BASE, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET).

Two narrow adaptations, both in the process started here (run as `python payments_helpers.py PORT`), none in
the product:
- localstripe writes its whole store to the fixed file /tmp/localstripe.pickle after every request, which
  parallel test runs on one machine would share; the store stays in memory here.
- localstripe ignores the `Idempotency-Key` header. Stripe documents that a repeated request with the same key
  returns the first request's saved answer (status and body) for 24 hours; a small middleware does exactly that,
  so that the tests observe what our code sends. The product does not rely on it alone: it records every
  request before making it (see billing/payments/collection.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SECRET_KEY = "sk_test_evbackoffice_tests"
WEBHOOK_SECRET = "whsec_evbackoffice_tests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_answering(base: str, process: subprocess.Popen, timeout_s: float = 20.0) -> str | None:
    """None when the server answers, else why it did not."""
    import requests

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"localstripe exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}"
        try:
            requests.get(f"{base}/v1/customers", auth=(SECRET_KEY, ""), timeout=1)
            return None
        except requests.RequestException:
            time.sleep(0.1)
    return f"localstripe did not answer within {timeout_s:.0f} s"


@pytest.fixture(scope="session")
def localstripe_server():
    """The base URL of a localstripe server started for this test session."""
    from tests.needs import missing  # not at the top: this file also runs as the localstripe process itself
    try:
        import localstripe  # noqa: F401
    except ImportError:
        missing("localstripe is not installed (pip install -r requirements-dev.txt)")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    problem = _wait_until_answering(base, process)
    if problem:
        process.kill()
        missing(f"localstripe could not start: {problem}")
    yield base
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def stripe_settings(settings, localstripe_server):
    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


def raw_client(base: str):
    """The official library, straight at the emulator: what a browser (Stripe.js) or Stripe's dashboard does."""
    import stripe

    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": base}, max_network_retries=0)


def browser_card(base: str, number: str = "4242424242424242"):
    """A card method as Stripe.js creates it in the browser (not yet attached): its id."""
    client = raw_client(base)
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    return method.id


def browser_confirm_setup(base: str, setup_intent_id: str, number: str = "4242424242424242") -> None:
    """The driver types a card into the portal's Stripe.js form, which confirms the SetupIntent."""
    client = raw_client(base)
    client.v1.setup_intents.confirm(setup_intent_id, params={"payment_method": browser_card(base, number)})


def intents_of(base: str, customer_id: str) -> list[dict]:
    """The customer's PaymentIntents at the emulator (it lists all; we filter)."""
    client = raw_client(base)
    page = client.v1.payment_intents.list(params={"limit": 100})
    return [pi.to_dict() for pi in page.data if pi.customer == customer_id]


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header as Stripe computes it: t=..., v1=HMAC_SHA256(secret, f"{t}.{payload}")."""
    import stripe

    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


# --- customers and invoices ------------------------------------------------------------------------------------


def card_customer(base: str, number: str = "4242424242424242", **customer_fields):
    """A card-paying customer who saved `number` from the portal (SetupIntent confirmed by "Stripe.js")."""
    from billing.payments import payment_account_set_collection
    from tests.factories import CustomerFactory

    customer = CustomerFactory(**customer_fields)
    payment_account_set_collection(customer=customer, collection="card")
    card_save(base, customer, number)
    return customer


def card_save(base: str, customer, number: str):
    from billing.payments import payment_method_save, setup_intent_start

    setup = setup_intent_start(customer=customer)
    browser_confirm_setup(base, setup.id, number)
    return payment_method_save(customer=customer, setup_intent_id=setup.id)


def issued_invoice(customer, *, net: str = "10.00", period_start=None):
    """An issued invoice of one 19 % line: net 10.00 -> 11.90 incl. VAT."""
    from datetime import date
    from decimal import Decimal

    from billing.invoicing import invoice_issue
    from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory

    OperatorProfileFactory()
    start = period_start or date(2026, 6, 1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    draft = InvoiceFactory(customer=customer, period_start=start, period_end=end)
    InvoiceLineFactory(invoice=draft, position=1, unit_price_excl_vat=Decimal(net))
    return invoice_issue(invoice=draft, issue_date=end)


# --- the emulator process --------------------------------------------------------------------------------------


def _serve(port: int) -> None:
    from aiohttp import web
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None  # keep the store in memory (see module docstring)
    replies: dict[tuple[str, str, str], tuple[int, bytes, str]] = {}

    @web.middleware
    async def idempotency(request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        cache_key = (key, request.method, request.path)
        if cache_key in replies:
            status, body, content_type = replies[cache_key]
            return web.Response(
                status=status, body=body, content_type=content_type, headers={"Idempotent-Replayed": "true"}
            )
        response = await handler(request)
        if response.status < 500:  # Stripe does not save answers of requests that did not start executing
            replies[cache_key] = (response.status, response.body, response.content_type)
        return response

    server.app.middlewares.insert(0, idempotency)
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
