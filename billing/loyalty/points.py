"""The points ledger: balance, redemption as a credit for the next invoice, staff adjustments and expiry.

Entries are never changed; the balance is their sum. Expiry is first in, first out (see the package
docstring): what lapses by `today` is the points whose `expires_on` has come, less everything redeemed,
removed or expired before, since those used the oldest points first."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from djmoney.money import Money

from billing.models import PointsEntry
from billing.pricing import quantize_price
from customers.models import Customer

NOTE_LENGTH = PointsEntry._meta.get_field("note").max_length


def points_balance(*, customer) -> int:
    return PointsEntry.objects.filter(customer=customer).aggregate(balance=Coalesce(Sum("points"), 0))["balance"]


def point_value() -> Decimal:
    """What one point is worth as a credit, in the customer's currency (LOYALTY_POINT_VALUE)."""
    return Decimal(str(settings.LOYALTY_POINT_VALUE))


def points_credits_open(*, customer) -> QuerySet[PointsEntry]:
    """Redemptions whose credit no invoice has taken yet (an invoice line points at the entry it consumed),
    oldest first: the next invoice takes them."""
    return PointsEntry.objects.filter(
        customer=customer, kind=PointsEntry.Kind.REDEEM, invoice_line__isnull=True
    ).order_by("created_at", "id")


@transaction.atomic
def points_redeem(*, customer: Customer, points: int) -> PointsEntry:
    """Turns points into a credit of points x LOYALTY_POINT_VALUE (rounded once to the currency)."""
    if points <= 0:
        raise ValidationError({"points": "Redeem a positive number of points."})
    customer = _locked(customer)
    if customer.status == Customer.Status.CLOSED:
        raise ValidationError({"customer": "The customer's account is closed."})
    _expire_due(customer=customer, today=timezone.localdate())  # lapsed points are not there to redeem
    balance = points_balance(customer=customer)
    if points > balance:
        raise ValidationError({"points": f"The customer has {balance} points; {points} cannot be redeemed."})
    currency = str(customer.currency)
    credit = quantize_price(points * point_value(), currency)
    return PointsEntry.objects.create(
        customer=customer,
        kind=PointsEntry.Kind.REDEEM,
        points=-points,
        credit_amount=Money(credit, currency),
        note=f"{points} points for a credit of {credit} {currency} on the next invoice",
    )


@transaction.atomic
def points_adjust(*, customer: Customer, points: int, note: str, by=None) -> PointsEntry:
    """A staff correction: adds (positive) or removes (negative) points, never below a zero balance."""
    customer = _locked(customer)
    points_check_adjust(customer=customer, points=points, note=note)
    if by is not None:
        note = f"{note.strip()} ({by.get_username()})"
    return PointsEntry.objects.create(
        customer=customer, kind=PointsEntry.Kind.ADJUST, points=points, note=note.strip()[:NOTE_LENGTH]
    )


def points_check_adjust(*, customer: Customer, points: int, note: str) -> None:
    """Raises the ValidationError `points_adjust` would (forms call it to show the reason beside the field)."""
    if not points:
        raise ValidationError({"points": "An adjustment adds or removes at least one point."})
    if not note.strip():
        raise ValidationError({"note": "Say why the points are adjusted."})
    balance = points_balance(customer=customer)
    if balance + points < 0:
        raise ValidationError({"points": f"The customer has {balance} points; {-points} cannot be removed."})


def points_expire(*, today: date) -> int:
    """Writes one EXPIRE entry per customer with lapsed, unused points; returns how many it wrote. Running it
    again the same day writes nothing (the entries it wrote count as used)."""
    written = 0
    for customer_id in _due_totals(today).filter(due__gt=0).values_list("customer", flat=True):
        with transaction.atomic():
            customer = Customer.objects.select_for_update(of=("self",)).get(pk=customer_id)
            written += _expire_due(customer=customer, today=today) is not None
    return written


def _due_totals(today: date):
    """Per customer: points lapsed by `today` + (negative) points used or expired already."""
    lapsed = Sum("points", filter=Q(points__gt=0, expires_on__lte=today))
    used = Sum("points", filter=Q(points__lt=0))  # redeemed, removed by staff and expired before
    return (
        PointsEntry.objects.values("customer")
        .annotate(due=Coalesce(lapsed, 0) + Coalesce(used, 0))
        .order_by("customer")
    )


def _expire_due(*, customer: Customer, today: date) -> PointsEntry | None:
    """Call with the customer's row locked."""
    due = _due_totals(today).filter(customer=customer).values_list("due", flat=True).first() or 0
    if due <= 0:
        return None
    return PointsEntry.objects.create(
        customer=customer,
        kind=PointsEntry.Kind.EXPIRE,
        points=-due,
        note=f"Points earned and not used, lapsed by {today.isoformat()}",
    )


def _locked(customer: Customer) -> Customer:
    # Balance checks and the entries they allow are serialised on the customer's row.
    return Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
