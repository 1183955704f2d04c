"""Loyalty in the portal: joining and leaving a membership plan, what it saved, points history, and promotion
codes with every refusal said in plain words."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.cdrs import cdr_credit
from billing.models import Membership, PointsEntry, PromoRedemption
from tests.billing.loyalty_factories import (
    ChargeDetailRecordFactory,
    MembershipFactory,
    MembershipPlanFactory,
    PromoCodeFactory,
    PromoRedemptionFactory,
)
from tests.factories import ChargingSessionFactory, CustomerFactory, IdTokenFactory
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

LOYALTY = reverse("portal:loyalty")
JOIN = reverse("portal:membership-join")
LEAVE = reverse("portal:membership-leave")
PROMO = reverse("portal:promo-redeem")


def today() -> date:
    return timezone.localdate()


def membership_discount(amount: str) -> dict:
    return {"kind": "membership", "label": "Plus member", "source_id": 1, "excl_vat": amount, "incl_vat": amount,
            "vat_lines": []}


def test_joining_a_plan_starts_the_membership_today(person, person_client):
    plan = MembershipPlanFactory(name="Plus", monthly_fee=Money("11.99", "EUR"))

    response = person_client.post(JOIN, {"plan": plan.pk}, follow=True)

    membership = Membership.objects.get(customer=person.customer)
    assert (membership.plan, membership.starts_on, membership.ends_on) == (plan, today(), None)
    assert "Welcome to Plus" in response.content.decode()


def test_joining_after_charging_today_starts_tomorrow_so_no_earlier_session_is_discounted(person, person_client):
    plan = MembershipPlanFactory()
    ChargingSessionFactory(id_token=IdTokenFactory(customer=person.customer), started_at=timezone.now())

    person_client.post(JOIN, {"plan": plan.pk})

    assert Membership.objects.get(customer=person.customer).starts_on == today() + timedelta(days=1)


def test_a_second_plan_cannot_be_joined_while_a_member(person, person_client):
    MembershipFactory(customer=person.customer, plan=MembershipPlanFactory(name="Plus"), starts_on=date(2026, 1, 1))
    other = MembershipPlanFactory(name="Max")

    response = person_client.post(JOIN, {"plan": other.pk}, follow=True)

    assert Membership.objects.filter(customer=person.customer).count() == 1
    assert "already a member of Plus" in response.content.decode()


def test_an_inactive_or_unknown_plan_cannot_be_joined(person, person_client):
    closed = MembershipPlanFactory(is_active=False)

    for plan in (closed.pk, 999999, "x"):
        response = person_client.post(JOIN, {"plan": plan}, follow=True)
        assert "choose one of the plans" in response.content.decode()
    assert not Membership.objects.exists()


def test_leaving_ends_the_membership_after_today_and_staying_takes_it_back(person, person_client):
    membership = MembershipFactory(customer=person.customer, starts_on=date(2026, 1, 1))

    left = person_client.post(LEAVE, follow=True)
    membership.refresh_from_db()
    assert membership.ends_on == today() + timedelta(days=1)
    assert "ends after" in left.content.decode()

    person_client.post(LEAVE, {"stay": "1"})
    membership.refresh_from_db()
    assert membership.ends_on is None


def test_leaving_without_a_membership_is_a_404(person_client):
    assert person_client.post(LEAVE).status_code == 404


def test_the_page_shows_the_plan_the_savings_and_the_points_history(person, person_client):
    MembershipFactory(customer=person.customer, plan=MembershipPlanFactory(name="Plus"), starts_on=date(2026, 1, 1))
    session = ChargingSessionFactory(id_token=IdTokenFactory(customer=person.customer))
    cdr = ChargeDetailRecordFactory(session=session, discounts=[membership_discount("2.38")])
    credited = ChargeDetailRecordFactory(
        session=ChargingSessionFactory(id_token=IdTokenFactory(customer=person.customer)),
        discounts=[membership_discount("5.00")],
    )
    cdr_credit(cdr=credited, reason="Wrong meter")
    PointsEntry.objects.create(customer=person.customer, kind="earn", points=40, cdr=cdr,
                               expires_on=date(2027, 6, 1))
    PointsEntry.objects.create(customer=person.customer, kind="redeem", points=-30,
                               credit_amount=Money("0.30", "EUR"))

    response = person_client.get(LOYALTY)

    assert response.context["savings"] == [Money("2.38", "EUR")]
    assert response.context["points"] == 10
    page = response.content.decode()
    assert "Plus" in page and "€2.38" in page
    assert "+40" in page and "-30" in page and "credit of €0.30" in page


def test_a_valid_promotion_code_is_saved_for_the_next_session(person, person_client):
    PromoCodeFactory(code="SUMMER26")

    response = person_client.post(PROMO, {"code": " summer26 "}, follow=True)

    assert PromoRedemption.objects.get(customer=person.customer).promo_code.code == "SUMMER26"
    assert "applies to your next charging session" in response.content.decode()
    assert "SUMMER26" in response.content.decode()


@pytest.mark.parametrize(("code_fields", "typed", "message"), [
    ({}, "NOPE", "There is no promotion code “NOPE”"),
    ({"is_active": False}, "CODE", "no longer valid"),
    ({"valid_until": datetime(2026, 1, 31, tzinfo=UTC)}, "CODE", "expired on"),
    ({"valid_from": datetime(2099, 1, 1, tzinfo=UTC)}, "CODE", "can be used from"),
    ({"discount": "amount", "value": Decimal("5"), "currency": "CHF"}, "CODE", "for payments in CHF"),
])
def test_a_refused_promotion_code_says_why_in_plain_words(person_client, code_fields, typed, message):
    PromoCodeFactory(code="CODE", **code_fields)

    response = person_client.post(PROMO, {"code": typed})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PromoRedemption.objects.exists()


def test_a_code_used_already_or_used_up_is_refused(person, person_client):
    used = PromoCodeFactory(code="ONCE")
    PromoRedemptionFactory(promo_code=used, customer=person.customer)
    used_up = PromoCodeFactory(code="FIRST10", max_redemptions=1)
    PromoRedemptionFactory(promo_code=used_up, customer=CustomerFactory())

    assert "already used this code" in person_client.post(PROMO, {"code": "once"}).content.decode()
    assert "has been used up" in person_client.post(PROMO, {"code": "first10"}).content.decode()


def test_loyalty_is_for_the_holder_or_fleet_manager_and_its_forms_are_csrf_protected(person, fleet):
    plan = MembershipPlanFactory()
    assert signed_in(fleet.driver).get(LOYALTY).status_code == 404
    assert signed_in(fleet.driver).post(JOIN, {"plan": plan.pk}).status_code == 404
    assert signed_in(fleet.manager).get(LOYALTY).status_code == 200

    client = Client(enforce_csrf_checks=True)
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    assert client.post(JOIN, {"plan": plan.pk}).status_code == 403
    assert client.post(PROMO, {"code": "X"}).status_code == 403
    assert not Membership.objects.exists()
