"""factory_boy factories for loyalty (plans, memberships, campaigns, promotion codes) and a minimal charge record.

`MembershipPlanFactory()` is "Plus": 11.99 EUR a month, 0.20 EUR/kWh off, no points.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import factory
from djmoney.money import Money

from billing.models import ChargeDetailRecord, Membership, MembershipPlan, PointsCampaign, PromoCode, PromoRedemption
from tests.factories import ChargingSessionFactory, CustomerFactory

UTC_START = datetime.fromisoformat("2026-06-01T07:30:00+00:00")


class MembershipPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MembershipPlan

    name = factory.Sequence(lambda n: f"Plus {n}")
    monthly_fee = Money("11.99", "EUR")
    benefit = MembershipPlan.Benefit.KWH_DISCOUNT
    discount_per_kwh = Decimal("0.20")


class MembershipFactory(factory.django.DjangoModelFactory):
    """Created directly (no overlap check); use `billing.loyalty.membership_start` to test the service."""

    class Meta:
        model = Membership

    customer = factory.SubFactory(CustomerFactory)
    plan = factory.SubFactory(MembershipPlanFactory)
    starts_on = date(2026, 1, 1)


class PointsCampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PointsCampaign

    name = factory.Sequence(lambda n: f"Summer {n}")
    points_per_kwh = Decimal("1")
    valid_from = UTC_START - timedelta(days=10)
    valid_until = UTC_START + timedelta(days=10)


class PromoCodeFactory(factory.django.DjangoModelFactory):
    """10 % off, valid from 2026-01-01, once per customer, no total limit."""

    class Meta:
        model = PromoCode

    code = factory.Sequence(lambda n: f"SUMMER{n}")
    discount = PromoCode.Discount.PERCENT
    value = Decimal("10")
    currency = "EUR"
    valid_from = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


class PromoRedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromoRedemption

    promo_code = factory.SubFactory(PromoCodeFactory)
    customer = factory.SubFactory(CustomerFactory)
    redeemed_at = UTC_START - timedelta(days=1)


class ChargeDetailRecordFactory(factory.django.DjangoModelFactory):
    """A charge record of 20 kWh, as loyalty sees it (the amounts are the 0.39 EUR/kWh, 19 % VAT tariff's)."""

    class Meta:
        model = ChargeDetailRecord

    ocpi_id = factory.Sequence(lambda n: f"CDR{n:06d}")
    session = factory.SubFactory(ChargingSessionFactory)
    customer = factory.SelfAttribute("session.customer")
    token_uid = factory.SelfAttribute("session.id_tag")
    location_snapshot = factory.LazyFunction(dict)
    charge_point_identity = factory.SelfAttribute("session.charge_point.identity")
    transaction_id = factory.SelfAttribute("session.transaction_id")
    tariff_snapshot = factory.LazyFunction(dict)
    currency = "EUR"
    start_date_time = UTC_START
    end_date_time = factory.LazyAttribute(lambda o: o.start_date_time + timedelta(hours=1))
    total_energy_wh = 20_000
    total_time_s = 3600
    total_parking_time_s = 0
    charging_periods = factory.LazyFunction(list)
    tariff_cost_excl_vat = Decimal("7.80")
    tariff_cost_incl_vat = Decimal("9.28")
    total_cost_excl_vat = Decimal("7.80")
    total_cost_incl_vat = Decimal("9.28")
