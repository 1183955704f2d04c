"""Memberships: who is a member on a day, starting and ending a membership, and the fee for a period."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Context, Decimal, localcontext
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from djmoney.money import Money

from billing.models import Membership, MembershipPlan, Tariff
from billing.pricing import quantize_price
from customers.models import Customer


def membership_day(at: datetime) -> date:
    """The membership day a moment belongs to: memberships run on the operator's calendar (TIME_ZONE, UTC)."""
    return timezone.localdate(at)


def membership_on(*, customer, day: date) -> Membership | None:
    return (
        Membership.objects.filter(customer=customer, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
        .select_related("plan__tariff")
        .order_by("-starts_on", "-id")
        .first()
    )


def membership_tariff(*, customer, at: datetime) -> Tariff | None:
    """The tariff that prices a member's session instead of the charger's, if their plan gives one and it is
    in force at `at` (otherwise the charger's tariff applies, rather than no price at all)."""
    if customer is None:
        return None
    membership = membership_on(customer=customer, day=membership_day(at))
    if membership is None or membership.plan.benefit != MembershipPlan.Benefit.TARIFF:
        return None
    tariff = membership.plan.tariff
    if tariff.start_date_time is not None and at < tariff.start_date_time:
        return None
    if tariff.end_date_time is not None and at >= tariff.end_date_time:
        return None
    return tariff


@transaction.atomic
def membership_start(*, customer: Customer, plan: MembershipPlan, starts_on: date) -> Membership:
    customer = _locked(customer)
    membership_check_start(customer=customer, plan=plan, starts_on=starts_on)
    return Membership.objects.create(customer=customer, plan=plan, starts_on=starts_on)


def membership_check_start(*, customer: Customer, plan: MembershipPlan, starts_on: date) -> None:
    """Raises the ValidationError `membership_start` would (forms call it to show the reason beside the field)."""
    if customer.status == Customer.Status.CLOSED:
        raise ValidationError({"customer": "The customer's account is closed."})
    if not plan.is_active:
        raise ValidationError({"plan": f"The plan {plan.name} takes no new members."})
    _refuse_overlap(customer=customer, starts_on=starts_on, ends_on=None, exclude_id=None)


@transaction.atomic
def membership_end(*, membership: Membership, ends_on: date | None) -> Membership:
    """Ends (or moves the end of) a membership; `ends_on` is the first day it no longer applies, None to let it
    run until cancelled again."""
    _locked(membership.customer)
    membership = Membership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
    membership_check_end(membership=membership, ends_on=ends_on)
    membership.ends_on = ends_on
    membership.save(update_fields=["ends_on"])
    return membership


def membership_check_end(*, membership: Membership, ends_on: date | None) -> None:
    if ends_on is not None and ends_on <= membership.starts_on:
        raise ValidationError({"ends_on": "A membership ends after the day it starts."})
    _refuse_overlap(
        customer=membership.customer_id, starts_on=membership.starts_on, ends_on=ends_on, exclude_id=membership.pk
    )


def membership_fee(*, membership: Membership, period_start: date, period_end: date) -> Money:
    """The fee for the days of [period_start, period_end) the customer was a member.

    Per calendar month: monthly fee x days of membership in that month / days in that month; the months are
    summed exactly and rounded once. Joining on the 16th of a 30-day month pays 15/30 of that month; a
    whole February is a whole month (28 or 29 days alike)."""
    fee = membership.plan.monthly_fee
    start = max(period_start, membership.starts_on)
    end = period_end if membership.ends_on is None else min(period_end, membership.ends_on)
    months = Fraction(0)
    month = start.replace(day=1)
    while start < end and month < end:
        following = _next_month(month)
        days = (min(end, following) - max(start, month)).days
        months += Fraction(days, (following - month).days)
        month = following
    owed = Fraction(fee.amount) * months
    with localcontext(Context(prec=60)):
        exact = Decimal(owed.numerator) / Decimal(owed.denominator)
    currency = fee.currency.code
    return Money(quantize_price(exact, currency), currency)


def _next_month(first_day: date) -> date:
    return date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)


def _locked(customer: Customer) -> Customer:
    # A customer's membership changes are serialised on their row, so two requests cannot both pass the
    # overlap check.
    return Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)


def _refuse_overlap(*, customer, starts_on: date, ends_on: date | None, exclude_id: int | None) -> None:
    others = Membership.objects.filter(customer=customer).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=starts_on))
    if ends_on is not None:
        others = others.filter(starts_on__lt=ends_on)
    other = others.exclude(pk=exclude_id).select_related("plan").order_by("starts_on").first()
    if other is not None:
        until = f" until {other.ends_on.isoformat()}" if other.ends_on else ""
        raise ValidationError(
            f"The customer is already a member of {other.plan.name} from {other.starts_on.isoformat()}{until}."
        )
