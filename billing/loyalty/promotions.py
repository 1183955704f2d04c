"""Promotion codes: creating them and a customer's redemption, which waits for their next session."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.models import PromoCode, PromoRedemption
from billing.pricing.money import is_currency_in_use
from customers.models import Customer


@transaction.atomic
def promo_code_create(**fields) -> PromoCode:
    """A new code, validated with the model's rules (case-insensitive uniqueness, percent at most 100)."""
    promo = PromoCode(**fields)
    _validate(promo)
    promo.save()
    return promo


@transaction.atomic
def promo_code_update(*, promo_code: PromoCode, data: dict) -> PromoCode:
    for name, value in data.items():
        setattr(promo_code, name, value)
    _validate(promo_code)
    promo_code.save()
    return promo_code


def _validate(promo: PromoCode) -> None:
    promo.code = promo.code.strip()
    if PromoCode.objects.filter(code__iexact=promo.code).exclude(pk=promo.pk).exists():
        # The database's case-insensitive constraint would only say its own name.
        raise ValidationError({"code": f"The promotion code {promo.code} exists already (in any case)."})
    if not is_currency_in_use(promo.currency):
        raise ValidationError({"currency": f"{promo.currency} is not a currency in use (ISO 4217)."})
    promo.full_clean()


#: A redemption is open until a charge record uses it; a record that was credited gives it back.
OPEN = Q(cdr__isnull=True) | Q(cdr__credits__isnull=False)


def promo_redemptions_open(*, customer) -> QuerySet[PromoRedemption]:
    """The customer's redeemed codes that no (uncredited) charge record has used, in the order sessions use
    them."""
    return PromoRedemption.objects.filter(OPEN, customer=customer).select_related("promo_code").order_by(
        "redeemed_at", "id"
    )


@transaction.atomic
def promo_code_redeem(*, customer: Customer, code: str, at: datetime | None = None) -> PromoRedemption:
    """Claims a code for the customer's next session. The code's row is locked, so concurrent redemptions
    are counted one after the other and cannot pass its limits together."""
    at = at or timezone.now()
    promo = PromoCode.objects.select_for_update(of=("self",)).filter(code__iexact=code.strip()).first()
    if promo is None:
        raise ValidationError({"code": ValidationError(f"There is no promotion code {code.strip()}.", code="unknown")})
    if customer.status == Customer.Status.CLOSED:
        raise ValidationError({"customer": ValidationError("The customer's account is closed.", code="closed")})
    problem = _why_not_redeemable(promo, customer, at)
    if problem:
        reason, text = problem
        raise ValidationError({"code": ValidationError(f"The promotion code {promo.code} {text}.", code=reason)})
    return PromoRedemption.objects.create(promo_code=promo, customer=customer, redeemed_at=at)


def _why_not_redeemable(promo: PromoCode, customer: Customer, at: datetime) -> tuple[str, str] | None:
    """(reason code, staff wording) of why the customer may not redeem the code now; None when they may.
    The codes are the ValidationError codes callers (the portal) turn into their own words."""
    if not promo.is_active:
        return "inactive", "is no longer active"
    if at < promo.valid_from:
        return "not_yet_valid", f"is valid from {_moment(promo.valid_from)}"
    if promo.valid_until is not None and at >= promo.valid_until:
        return "expired", f"expired on {_moment(promo.valid_until)}"
    if promo.discount != PromoCode.Discount.PERCENT and promo.currency != str(customer.currency):
        return "currency", f"gives {promo.currency}; the customer pays in {customer.currency}"
    if promo.max_redemptions is not None and promo.redemptions.count() >= promo.max_redemptions:
        return "used_up", f"has been redeemed the most times allowed ({promo.max_redemptions})"
    per_customer = promo.max_redemptions_per_customer
    if promo.redemptions.filter(customer=customer).count() >= per_customer:
        times = "once" if per_customer == 1 else f"{per_customer} times"
        return "used_by_customer", f"has already been redeemed by this customer (at most {times} per customer)"
    return None


def _moment(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")
