"""Memberships: starting and ending them, the member's tariff, and the monthly fee pro-rated by days."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from djmoney.money import Money

from billing.loyalty import membership_end, membership_fee, membership_on, membership_start, membership_tariff
from billing.models import MembershipPlan
from customers.models import Customer
from tests.factories import CustomerFactory

from .factories import TariffFactory
from .loyalty_factories import MembershipFactory, MembershipPlanFactory

pytestmark = pytest.mark.django_db


def fee(starts_on, ends_on, period_start, period_end, monthly="11.99") -> Money:
    plan = MembershipPlanFactory(monthly_fee=Money(monthly, "EUR"))
    membership = MembershipFactory(plan=plan, starts_on=starts_on, ends_on=ends_on)
    return membership_fee(membership=membership, period_start=period_start, period_end=period_end)


def test_whole_month_costs_the_monthly_fee():
    assert fee(date(2026, 1, 1), None, date(2026, 3, 1), date(2026, 4, 1)) == Money("11.99", "EUR")
    assert fee(date(2026, 1, 1), None, date(2026, 2, 1), date(2026, 3, 1)) == Money("11.99", "EUR")  # 28 days
    assert fee(date(2026, 1, 1), None, date(2026, 1, 1), date(2027, 1, 1)) == Money("143.88", "EUR")


def test_joining_on_the_16th_of_a_30_day_month_pays_15_30():
    # 11.99 x 15 / 30 = 5.995, rounded half up once.
    assert fee(date(2026, 6, 16), None, date(2026, 6, 1), date(2026, 7, 1)) == Money("6.00", "EUR")


def test_half_of_february_depends_on_the_leap_year():
    assert fee(date(2026, 2, 15), None, date(2026, 2, 1), date(2026, 3, 1)) == Money("6.00", "EUR")  # 14/28
    assert fee(date(2028, 2, 15), None, date(2028, 2, 1), date(2028, 3, 1)) == Money("6.20", "EUR")  # 15/29


def test_start_and_end_within_a_period_of_several_months():
    # Jan 10-31: 22/31, February whole, Mar 1-19 (ends on the 20th): 19/31 -> 11.99 x 72/31 = 27.8477...
    assert fee(date(2026, 1, 10), date(2026, 3, 20), date(2026, 1, 1), date(2026, 4, 1)) == Money("27.85", "EUR")


def test_no_fee_outside_the_membership():
    assert fee(date(2026, 6, 16), None, date(2026, 5, 1), date(2026, 6, 1)) == Money("0.00", "EUR")
    assert fee(date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 1), date(2026, 3, 1)) == Money("0.00", "EUR")


def test_start_refuses_overlap_with_another_membership():
    customer = CustomerFactory()
    MembershipFactory(customer=customer, starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 1))

    with pytest.raises(ValidationError, match="already a member"):
        membership_start(customer=customer, plan=MembershipPlanFactory(), starts_on=date(2026, 5, 31))
    membership = membership_start(customer=customer, plan=MembershipPlanFactory(), starts_on=date(2026, 6, 1))

    assert membership_on(customer=customer, day=date(2026, 6, 1)) == membership
    assert membership_on(customer=customer, day=date(2026, 5, 31)).ends_on == date(2026, 6, 1)


def test_start_refuses_inactive_plan_and_closed_customer():
    today = date.today()
    with pytest.raises(ValidationError, match="takes no new members"):
        membership_start(customer=CustomerFactory(), plan=MembershipPlanFactory(is_active=False), starts_on=today)
    with pytest.raises(ValidationError, match="closed"):
        membership_start(
            customer=CustomerFactory(status=Customer.Status.CLOSED), plan=MembershipPlanFactory(), starts_on=today
        )


def test_end_sets_the_first_day_without_membership_and_refuses_overlap():
    customer = CustomerFactory()
    first = MembershipFactory(customer=customer, starts_on=date(2026, 1, 1))

    with pytest.raises(ValidationError, match="ends after the day it starts"):
        membership_end(membership=first, ends_on=date(2026, 1, 1))
    membership_end(membership=first, ends_on=date(2026, 3, 1))
    MembershipFactory(customer=customer, starts_on=date(2026, 4, 1))

    assert membership_on(customer=customer, day=date(2026, 3, 1)) is None
    with pytest.raises(ValidationError, match="already a member"):
        membership_end(membership=first, ends_on=None)  # reopening it would overlap the next one


def test_member_tariff_replaces_the_chargers_while_it_is_in_force():
    customer = CustomerFactory()
    member_tariff = TariffFactory(end_date_time=datetime.fromisoformat("2026-07-01T00:00:00+00:00"))
    plan = MembershipPlanFactory(benefit=MembershipPlan.Benefit.TARIFF, discount_per_kwh=None, tariff=member_tariff)
    MembershipFactory(customer=customer, plan=plan, starts_on=date(2026, 6, 1))

    assert membership_tariff(customer=customer, at=datetime.fromisoformat("2026-06-15T12:00:00+00:00")) == member_tariff
    assert membership_tariff(customer=customer, at=datetime.fromisoformat("2026-05-31T12:00:00+00:00")) is None
    assert membership_tariff(customer=customer, at=datetime.fromisoformat("2026-07-01T00:00:00+00:00")) is None


def test_discount_plans_give_no_member_tariff():
    customer = CustomerFactory()
    MembershipFactory(customer=customer)

    assert membership_tariff(customer=customer, at=datetime.fromisoformat("2026-06-15T12:00:00+00:00")) is None
    assert membership_tariff(customer=None, at=datetime.fromisoformat("2026-06-15T12:00:00+00:00")) is None


def test_fee_amount_keeps_the_plans_currency():
    plan = MembershipPlanFactory(monthly_fee=Money("15", "CHF"), discount_per_kwh=Decimal("0.10"))
    membership = MembershipFactory(plan=plan, starts_on=date(2026, 6, 1))

    fee_chf = membership_fee(membership=membership, period_start=date(2026, 6, 1), period_end=date(2026, 7, 1))

    assert fee_chf == Money("15.00", "CHF")
