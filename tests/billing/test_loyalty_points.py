"""The points ledger: earning on charge records (plan + campaigns), redeeming as a credit, FIFO expiry, and what a
charge record does to promotions."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from djmoney.money import Money

from billing.loyalty import (
    Discount,
    loyalty_record_cdr,
    loyalty_record_credit,
    points_balance,
    points_credits_open,
    points_expire,
    points_redeem,
)
from billing.models import ChargeDetailRecord, PointsEntry
from customers.models import Customer
from tests.factories import CustomerFactory

from .loyalty_factories import (
    UTC_START,
    ChargeDetailRecordFactory,
    MembershipFactory,
    MembershipPlanFactory,
    PointsCampaignFactory,
    PromoRedemptionFactory,
)

pytestmark = pytest.mark.django_db


def earned(customer) -> list[int]:
    return list(customer.points_entries.filter(kind=PointsEntry.Kind.EARN).values_list("points", flat=True))


def earn(customer, points, expires_on) -> PointsEntry:
    return PointsEntry.objects.create(
        customer=customer, kind=PointsEntry.Kind.EARN, points=points, expires_on=expires_on
    )


def promotion(redemption) -> Discount:
    return Discount(kind="promotion", label="Promotion", source_id=redemption.pk, excl_vat=Decimal(1), vat_lines=())


def test_points_are_earned_per_kwh_from_plan_and_campaigns_running_at_the_start(settings):
    settings.LOYALTY_POINTS_VALID_DAYS = 365
    cdr = ChargeDetailRecordFactory(total_energy_wh=20_500)  # 20.5 kWh
    MembershipFactory(customer=cdr.customer, plan=MembershipPlanFactory(points_per_kwh=Decimal("1.5")))
    PointsCampaignFactory(name="Summer", points_per_kwh=Decimal("1"))
    PointsCampaignFactory(valid_from=UTC_START + timedelta(minutes=1))  # starts after the session did

    loyalty_record_cdr(cdr=cdr, discounts=[])

    entry = cdr.customer.points_entries.get()
    assert entry.points == 51  # 20.5 x 2.5 = 51.25, floored
    assert entry.cdr == cdr and entry.expires_on == date(2027, 6, 1)
    assert "campaign Summer 1" in entry.note
    assert points_balance(customer=cdr.customer) == 51


def test_no_points_without_a_rate_or_for_less_than_one_point():
    cdr = ChargeDetailRecordFactory(total_energy_wh=20_000)
    loyalty_record_cdr(cdr=cdr, discounts=[])
    small = ChargeDetailRecordFactory(total_energy_wh=900)
    PointsCampaignFactory(points_per_kwh=Decimal("1"))
    loyalty_record_cdr(cdr=small, discounts=[])

    assert not PointsEntry.objects.exists()


def test_recording_a_charge_record_twice_earns_once_and_uses_the_promotion_once():
    cdr = ChargeDetailRecordFactory()
    PointsCampaignFactory(points_per_kwh=Decimal("1"))
    redemption = PromoRedemptionFactory(customer=cdr.customer)

    loyalty_record_cdr(cdr=cdr, discounts=[promotion(redemption)])
    loyalty_record_cdr(cdr=cdr, discounts=[promotion(redemption)])

    assert earned(cdr.customer) == [20]
    redemption.refresh_from_db()
    assert redemption.cdr == cdr


def test_a_redemption_used_by_one_record_cannot_be_used_by_another():
    cdr = ChargeDetailRecordFactory()
    redemption = PromoRedemptionFactory(customer=cdr.customer, cdr=cdr)
    other = ChargeDetailRecordFactory(session__id_token__customer=cdr.customer)

    with pytest.raises(ValidationError, match="cannot be used"):
        loyalty_record_cdr(cdr=other, discounts=[promotion(redemption)])


def test_a_credited_record_gives_back_its_promotion_and_takes_back_its_points():
    cdr = ChargeDetailRecordFactory()
    PointsCampaignFactory(points_per_kwh=Decimal("1"))
    redemption = PromoRedemptionFactory(customer=cdr.customer)
    loyalty_record_cdr(cdr=cdr, discounts=[promotion(redemption)])
    credit = ChargeDetailRecordFactory(
        ocpi_id=f"{cdr.ocpi_id}-C", kind=ChargeDetailRecord.Kind.CREDIT, credited_record=cdr, session=cdr.session,
        tariff_cost_excl_vat=-7, tariff_cost_incl_vat=-9, total_cost_excl_vat=-7, total_cost_incl_vat=-9,
    )  # fmt: skip
    replacement = ChargeDetailRecordFactory(session=cdr.session, replaces=cdr, total_energy_wh=10_000)

    loyalty_record_cdr(cdr=replacement, discounts=[promotion(redemption)])
    loyalty_record_credit(credit=credit)  # again, as the credit's own hook would: nothing more

    redemption.refresh_from_db()
    assert redemption.cdr == replacement
    assert sorted(cdr.customer.points_entries.values_list("kind", "points")) == [
        ("adjust", -20), ("earn", 10), ("earn", 20),
    ]  # fmt: skip
    assert points_balance(customer=cdr.customer) == 10


def test_redeeming_points_gives_a_credit_for_the_next_invoice(settings):
    settings.LOYALTY_POINT_VALUE = "0.01"
    customer = CustomerFactory(currency="EUR")
    earn(customer, 100, date.today() + timedelta(days=30))

    entry = points_redeem(customer=customer, points=30)

    assert (entry.kind, entry.points, entry.credit_amount) == ("redeem", -30, Money("0.30", "EUR"))
    assert points_balance(customer=customer) == 70
    assert list(points_credits_open(customer=customer)) == [entry]


@pytest.mark.parametrize("points", [0, -5, 101])
def test_redeeming_refuses_nothing_negative_or_more_than_the_balance(points):
    customer = CustomerFactory()
    earn(customer, 100, date.today() + timedelta(days=30))

    with pytest.raises(ValidationError) as refusal:
        points_redeem(customer=customer, points=points)

    assert "points" in refusal.value.message_dict
    assert points_balance(customer=customer) == 100


def test_closed_customer_cannot_redeem():
    customer = CustomerFactory()
    earn(customer, 100, date.today() + timedelta(days=30))
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.CLOSED)

    with pytest.raises(ValidationError, match="closed"):
        points_redeem(customer=customer, points=10)


def test_expiry_is_first_in_first_out():
    customer = CustomerFactory()
    earn(customer, 100, date(2026, 3, 1))
    earn(customer, 50, date(2026, 6, 1))
    PointsEntry.objects.create(customer=customer, kind=PointsEntry.Kind.REDEEM, points=-30)  # took 30 of the 100

    assert points_expire(today=date(2026, 2, 28)) == 0
    assert points_expire(today=date(2026, 3, 1)) == 1
    assert points_balance(customer=customer) == 50  # the 70 left of the first 100 lapsed
    assert points_expire(today=date(2026, 3, 1)) == 0  # the same day again: nothing more
    PointsEntry.objects.create(customer=customer, kind=PointsEntry.Kind.REDEEM, points=-20)  # of the 50
    assert points_expire(today=date(2026, 6, 1)) == 1

    assert list(customer.points_entries.filter(kind="expire").order_by("id").values_list("points", flat=True)) == [
        -70, -30,
    ]  # fmt: skip
    assert points_balance(customer=customer) == 0


def test_staff_points_without_expiry_are_used_after_the_expiring_ones():
    customer = CustomerFactory()
    PointsEntry.objects.create(customer=customer, kind=PointsEntry.Kind.ADJUST, points=40, note="goodwill")
    earn(customer, 100, date(2026, 3, 1))
    PointsEntry.objects.create(customer=customer, kind=PointsEntry.Kind.REDEEM, points=-60)

    points_expire(today=date(2026, 3, 1))

    assert points_balance(customer=customer) == 40


def test_lapsed_points_cannot_be_redeemed_before_the_nightly_expiry():
    customer = CustomerFactory()
    earn(customer, 100, date.today())  # lapses today
    earn(customer, 10, date.today() + timedelta(days=1))

    with pytest.raises(ValidationError, match="has 10 points"):
        points_redeem(customer=customer, points=50)


def test_expire_points_task_is_registered_and_idempotent():
    from billing.loyalty.tasks import expire_points
    from evbackoffice.celery import app

    customer = CustomerFactory()
    earn(customer, 100, date.today() - timedelta(days=1))

    assert "billing.expire_points" in app.tasks
    assert app.conf.beat_schedule["billing.expire_points"]["task"] == "billing.expire_points"
    assert expire_points.delay().get() == 1
    assert expire_points.delay().get() == 0
    assert points_balance(customer=customer) == 0
