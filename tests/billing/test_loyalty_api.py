"""Loyalty over the REST API (plans, memberships, promotion codes, a customer's points) and in the admin."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Membership, PointsEntry, PromoCode, PromoRedemption
from tests.factories import CustomerFactory

from .loyalty_factories import (
    ChargeDetailRecordFactory,
    MembershipFactory,
    MembershipPlanFactory,
    PointsCampaignFactory,
    PromoCodeFactory,
    PromoRedemptionFactory,
)

pytestmark = pytest.mark.django_db


# --- REST API -------------------------------------------------------------------------------------------


def test_membership_plans_are_listed_with_fee_and_benefit(staff_api_client):
    MembershipPlanFactory(name="Plus", discount_per_kwh=Decimal("0.20"))

    response = staff_api_client.get("/api/v1/membership-plans/")

    assert response.status_code == 200
    plan = response.json()["results"][0]
    assert (plan["name"], plan["monthly_fee"], plan["currency"]) == ("Plus", "11.99", "EUR")
    assert (plan["benefit"], plan["discount_per_kwh"]) == ("kwh_discount", "0.2000")


def test_membership_is_started_and_ended(staff_api_client):
    customer, plan = CustomerFactory(), MembershipPlanFactory(name="Plus")

    started = staff_api_client.post(
        "/api/v1/memberships/", {"customer": customer.pk, "plan": plan.pk, "starts_on": "2026-06-16"}, format="json"
    )
    ended = staff_api_client.post(
        f"/api/v1/memberships/{started.json()['id']}/end/", {"ends_on": "2026-09-01"}, format="json"
    )

    assert started.status_code == 201, started.json()
    assert started.json()["plan_name"] == "Plus" and started.json()["ends_on"] is None
    assert ended.status_code == 200, ended.json()
    assert Membership.objects.get().ends_on == date(2026, 9, 1)


def test_overlapping_membership_is_refused_with_the_reason(staff_api_client):
    membership = MembershipFactory()

    response = staff_api_client.post(
        "/api/v1/memberships/",
        {"customer": membership.customer.pk, "plan": membership.plan.pk, "starts_on": "2026-06-16"},
        format="json",
    )

    assert response.status_code == 400
    assert "already a member" in response.json()["non_field_errors"][0]


def test_promo_code_is_created_and_listed_with_its_redemptions(staff_api_client):
    created = staff_api_client.post(
        "/api/v1/promo-codes/",
        {"code": "WELCOME", "discount": "amount", "value": "5.00", "currency": "EUR", "max_redemptions": 100},
        format="json",
    )
    PromoRedemptionFactory.create_batch(2, promo_code=PromoCode.objects.get(pk=created.json()["id"]))

    listed = staff_api_client.get("/api/v1/promo-codes/")

    assert created.status_code == 201, created.json()
    assert [(c["code"], c["redemption_count"], c["used_count"]) for c in listed.json()["results"]] == [
        ("WELCOME", 2, 0)
    ]
    duplicate = staff_api_client.post(
        "/api/v1/promo-codes/", {"code": "welcome", "discount": "percent", "value": "5"}, format="json"
    )
    assert duplicate.status_code == 400 and "exists already" in duplicate.json()["code"][0]


def test_promo_code_is_redeemed_or_refused_with_the_reason(staff_api_client):
    customer = CustomerFactory()
    PromoCodeFactory(code="SUMMER26")

    redeemed = staff_api_client.post(
        "/api/v1/promo-codes/redeem/", {"customer": customer.pk, "code": "summer26"}, format="json"
    )
    again = staff_api_client.post(
        "/api/v1/promo-codes/redeem/", {"customer": customer.pk, "code": "SUMMER26"}, format="json"
    )
    unknown = staff_api_client.post("/api/v1/promo-codes/redeem/", {"customer": customer.pk, "code": "NOPE"})

    assert redeemed.status_code == 201, redeemed.json()
    assert redeemed.json()["code"] == "SUMMER26" and redeemed.json()["cdr"] is None
    assert again.status_code == 400 and "already been redeemed by this customer" in again.json()["code"][0]
    assert unknown.status_code == 400 and unknown.json() == {"code": ["There is no promotion code NOPE."]}
    assert PromoRedemption.objects.count() == 1


def test_customer_points_show_the_balance_and_the_ledger(staff_api_client):
    cdr = ChargeDetailRecordFactory()
    PointsCampaignFactory(points_per_kwh=Decimal("2"))
    from billing.loyalty import loyalty_record_cdr, points_redeem

    loyalty_record_cdr(cdr=cdr, discounts=[])
    points_redeem(customer=cdr.customer, points=15)

    response = staff_api_client.get(f"/api/v1/customers/{cdr.customer.pk}/points/")

    assert response.status_code == 200
    body = response.json()
    assert (body["balance"], body["count"]) == (25, 2)
    assert [(e["kind"], e["points"], e["credit_amount"]) for e in body["results"]] == [
        ("redeem", -15, "0.15"), ("earn", 40, None),
    ]  # fmt: skip
    assert staff_api_client.get("/api/v1/customers/999999/points/").status_code == 404


def test_loyalty_endpoints_are_staff_only(client, driver_user):
    client.force_login(driver_user)

    for url in ["/api/v1/membership-plans/", "/api/v1/memberships/", "/api/v1/promo-codes/"]:
        assert client.get(url).status_code == 403


def test_loyalty_endpoints_are_in_the_schema(client):
    paths = json.loads(client.get("/api/schema/", {"format": "json"}).content)["paths"]

    for path in [
        "/api/v1/membership-plans/", "/api/v1/memberships/", "/api/v1/memberships/{id}/end/",
        "/api/v1/promo-codes/", "/api/v1/promo-codes/redeem/", "/api/v1/customers/{customer_id}/points/",
    ]:  # fmt: skip
        assert path in paths
    assert "delete" not in paths["/api/v1/promo-codes/{id}/"]


# --- Admin ----------------------------------------------------------------------------------------------

MAKERS = {
    "membershipplan": MembershipPlanFactory,
    "membership": MembershipFactory,
    "pointscampaign": PointsCampaignFactory,
    "promocode": PromoCodeFactory,
    "promoredemption": PromoRedemptionFactory,
    "pointsentry": lambda: PointsEntry.objects.create(
        customer=CustomerFactory(), kind="earn", points=10, expires_on=date.today() + timedelta(days=9)
    ),
}


@pytest.mark.parametrize("model", MAKERS)
def test_admin_pages_show_loyalty(admin_client, model):
    obj = MAKERS[model]()

    listed = admin_client.get(reverse(f"admin:billing_{model}_changelist"))
    shown = admin_client.get(reverse(f"admin:billing_{model}_change", args=[obj.pk]))

    assert listed.status_code == 200 and obj in listed.context["cl"].result_list
    assert shown.status_code == 200


def test_staff_adjust_points_and_see_the_balance(admin_client):
    customer = CustomerFactory()
    PointsEntry.objects.create(customer=customer, kind="earn", points=10, expires_on=date.today() + timedelta(days=9))
    url = reverse("admin:billing_pointsentry_add")

    refused = admin_client.post(url, {"customer": customer.pk, "points": -11, "note": "typo"})
    added = admin_client.post(url, {"customer": customer.pk, "points": 5, "note": "Apology for a broken charger"})
    listed = admin_client.get(reverse("admin:billing_pointsentry_changelist"))

    assert refused.status_code == 200 and "cannot be removed" in refused.content.decode()
    assert added.status_code == 302
    entry = customer.points_entries.get(kind="adjust")
    assert entry.points == 5 and entry.note.startswith("Apology for a broken charger (")
    assert {row.customer_balance for row in listed.context["cl"].result_list} == {15}


def test_admin_starts_memberships_with_the_services_rules(admin_client):
    existing = MembershipFactory()
    url = reverse("admin:billing_membership_add")

    refused = admin_client.post(
        url, {"customer": existing.customer.pk, "plan": existing.plan.pk, "starts_on": "2026-06-16"}
    )
    started = admin_client.post(
        url, {"customer": CustomerFactory().pk, "plan": existing.plan.pk, "starts_on": "2026-06-16"}
    )

    assert refused.status_code == 200 and "already a member" in refused.content.decode()
    assert started.status_code == 302
    assert Membership.objects.count() == 2


def test_admin_refuses_a_promo_code_that_differs_only_in_case(admin_client):
    PromoCodeFactory(code="SUMMER26")

    response = admin_client.post(
        reverse("admin:billing_promocode_add"),
        {"code": "summer26", "discount": "percent", "value": "10", "currency": "EUR",
         "valid_from_0": "2026-06-01", "valid_from_1": "00:00:00", "max_redemptions_per_customer": 1},
    )

    assert response.status_code == 200
    assert "This code exists already (in any case)." in response.content.decode()
