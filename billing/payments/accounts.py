"""The customer's account at the payment provider and their saved methods (cards and wallets).

Provider calls happen outside database transactions (a slow provider must not hold locks); what they return
is then written in one short transaction.
"""

from __future__ import annotations

from django.db import transaction

from billing.models import PaymentAccount, SavedPaymentMethod
from customers.models import Customer

from .errors import PaymentError
from .providers import MethodInfo, PaymentProvider, SetupResult, get_provider


def payment_account_get_or_create(*, customer: Customer) -> PaymentAccount:
    account, _ = PaymentAccount.objects.get_or_create(customer=customer)
    return account


@transaction.atomic
def payment_account_set_collection(*, customer: Customer, collection: str) -> PaymentAccount:
    """How the customer's invoices are settled from now on: bank_transfer, card or prepaid."""
    if collection not in PaymentAccount.Collection.values:
        raise PaymentError(f"{collection!r} is not a way of collecting payments.")
    account = payment_account_get_or_create(customer=customer)
    account = PaymentAccount.objects.select_for_update(of=("self",)).get(pk=account.pk)
    account.collection = collection
    account.save(update_fields=["collection"])
    return account


def provider_customer_ensure(*, customer: Customer, provider: PaymentProvider | None = None) -> PaymentAccount:
    """The account with its provider customer id, creating the provider's customer on first use. The provider
    call is idempotent on the customer's number, so two concurrent first uses make one provider customer."""
    provider = provider or get_provider()
    account = payment_account_get_or_create(customer=customer)
    provider_id = provider.ensure_customer(
        customer_id=account.provider_customer_id, email=customer.email, name=customer.name, reference=customer.number
    )
    if provider_id != account.provider_customer_id:
        with transaction.atomic():
            account = PaymentAccount.objects.select_for_update(of=("self",)).get(pk=account.pk)
            account.provider_customer_id = provider_id
            account.save(update_fields=["provider_customer_id"])
    return account


def setup_intent_start(*, customer: Customer) -> SetupResult:
    """Start saving a card or wallet from the portal: the result's client secret goes to Stripe.js."""
    if not customer.is_active:
        raise PaymentError(f"{customer} is not active.")
    provider = get_provider()
    account = provider_customer_ensure(customer=customer, provider=provider)
    return provider.setup_intent(customer_id=account.provider_customer_id, metadata={"evb_customer": str(customer.pk)})


def payment_method_save(*, customer: Customer, setup_intent_id: str, make_default: bool = True) -> SavedPaymentMethod:
    """Record the method a succeeded SetupIntent saved (the portal's return page and the setup_intent.succeeded
    webhook both call this; the second call finds the first one's row)."""
    provider = get_provider()
    account = provider_customer_ensure(customer=customer, provider=provider)
    setup = provider.retrieve_setup_intent(setup_intent_id)
    if setup.customer_id != account.provider_customer_id:
        raise PaymentError("This setup belongs to another customer.")
    if setup.status != "succeeded" or not setup.method_id:
        raise PaymentError(f"The card was not saved (setup {setup.status}).")
    info = provider.retrieve_method(setup.method_id)
    if info.customer_id is None:
        # Stripe attaches the method when the SetupIntent succeeds; attaching here covers providers (and the
        # localstripe emulator) that leave that to us.
        info = provider.attach_method(method_id=info.id, customer_id=account.provider_customer_id)
    elif info.customer_id != account.provider_customer_id:
        raise PaymentError("This card belongs to another customer.")
    return _method_store(account=account, info=info, make_default=make_default)


@transaction.atomic
def _method_store(*, account: PaymentAccount, info: MethodInfo, make_default: bool) -> SavedPaymentMethod:
    account = PaymentAccount.objects.select_for_update(of=("self",)).get(pk=account.pk)
    method, _ = SavedPaymentMethod.objects.update_or_create(
        provider_method_id=info.id,
        defaults={
            "account": account,
            "kind": info.kind,
            "brand": info.brand,
            "last4": info.last4,
            "exp_month": info.exp_month,
            "exp_year": info.exp_year,
            "wallet": info.wallet,
        },
    )
    has_default = account.methods.filter(is_default=True).exclude(pk=method.pk).exists()
    if make_default or not has_default:
        account.methods.exclude(pk=method.pk).filter(is_default=True).update(is_default=False)
        method.is_default = True
        method.save(update_fields=["is_default"])
    return method


@transaction.atomic
def payment_method_set_default(*, method: SavedPaymentMethod) -> SavedPaymentMethod:
    PaymentAccount.objects.select_for_update(of=("self",)).get(pk=method.account_id)
    SavedPaymentMethod.objects.filter(account_id=method.account_id, is_default=True).update(is_default=False)
    SavedPaymentMethod.objects.filter(pk=method.pk).update(is_default=True)
    method.refresh_from_db()
    return method


def payment_method_detach(*, method: SavedPaymentMethod) -> None:
    """Remove a saved method at the provider and here; the newest remaining one becomes the default."""
    get_provider().detach_method(method.provider_method_id)
    with transaction.atomic():
        account = PaymentAccount.objects.select_for_update(of=("self",)).get(pk=method.account_id)
        SavedPaymentMethod.objects.filter(pk=method.pk).delete()
        if not account.methods.filter(is_default=True).exists():
            newest = account.methods.order_by("-created_at", "-id").first()
            if newest is not None:
                SavedPaymentMethod.objects.filter(pk=newest.pk).update(is_default=True)


def payment_methods_of(*, customer: Customer) -> list[SavedPaymentMethod]:
    """The customer's saved methods, default first (for the portal and the admin)."""
    return list(SavedPaymentMethod.objects.filter(account__customer=customer).order_by("-is_default", "-created_at"))


def default_method(customer: Customer) -> SavedPaymentMethod | None:
    return (
        SavedPaymentMethod.objects.filter(account__customer=customer, is_default=True).select_related("account").first()
    )
