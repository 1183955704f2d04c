"""Who may use the REST API: staff only, by token or session; nothing that records history may be deleted."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from evbackoffice.api_urls import router
from stations.models import ChargePoint
from tests.billing.factories import PriceFeedFactory, TariffAssignmentFactory, TariffFactory
from tests.billing.invoice_factories import InvoiceFactory
from tests.billing.loyalty_factories import (
    ChargeDetailRecordFactory,
    MembershipFactory,
    MembershipPlanFactory,
    PromoCodeFactory,
)
from tests.factories import ConnectorFactory, IdTokenFactory

ENDPOINTS = [
    "location", "charge-point", "customer", "id-token", "tariff", "tariff-assignment", "price-feed",
    "membership-plan", "membership", "promo-code", "cdr", "invoice",
]  # fmt: skip
METHODS = ["get-list", "post-list", "get-detail", "put-detail", "patch-detail"]
# Tariffs nobody uses and assignments that have not started may be deleted (the services refuse the rest);
# everything else keeps its history and can only be ended, suspended or credited.
DELETABLE = {"tariff", "tariff-assignment"}


@pytest.fixture
def detail_objects(db):
    """Per endpoint: the URL key of one object, and (JSON key, value) by which its detail identifies it."""
    connector = ConnectorFactory()
    token = IdTokenFactory()
    charge_point = connector.evse.charge_point
    tariff = TariffFactory()
    assignment = TariffAssignmentFactory(tariff=tariff)
    feed = PriceFeedFactory()
    plan = MembershipPlanFactory()
    membership = MembershipFactory(plan=plan)
    promo = PromoCodeFactory()
    cdr = ChargeDetailRecordFactory()
    invoice = InvoiceFactory()
    return {
        "location": (charge_point.location_id, "id", charge_point.location_id),
        "charge-point": (charge_point.pk, "id", charge_point.pk),
        "customer": (token.customer_id, "id", token.customer_id),
        "id-token": (token.pk, "id", token.pk),
        "tariff": (tariff.pk, "id", tariff.ocpi_id),
        "tariff-assignment": (assignment.pk, "id", assignment.pk),
        "price-feed": (feed.code, "code", feed.code),
        "membership-plan": (plan.pk, "id", plan.pk),
        "membership": (membership.pk, "id", membership.pk),
        "promo-code": (promo.pk, "id", promo.pk),
        "cdr": (cdr.pk, "id", cdr.ocpi_id),
        "invoice": (invoice.pk, "id", invoice.pk),
    }


@pytest.fixture
def detail_pks(detail_objects):
    return {endpoint: key for endpoint, (key, _, _) in detail_objects.items()}


def _call(client, endpoint, method_and_kind, detail_pks):
    method, kind = method_and_kind.split("-")
    if kind == "list":
        url = reverse(f"{endpoint}-list")
    else:
        url = reverse(f"{endpoint}-detail", args=[detail_pks[endpoint]])
    return getattr(client, method)(url, {}, format="json")


def test_every_registered_endpoint_is_covered_by_these_access_tests():
    assert sorted(basename for _, _, basename in router.registry) == sorted(ENDPOINTS)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", METHODS)
def test_anonymous_request_is_refused_with_401(api_client, detail_pks, endpoint, method):
    response = _call(api_client, endpoint, method, detail_pks)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", METHODS)
def test_signed_in_user_who_is_not_staff_is_refused_with_403(api_client, driver_user, detail_pks, endpoint, method):
    api_client.force_login(driver_user)

    response = _call(api_client, endpoint, method, detail_pks)

    assert response.status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_staff_user_with_an_api_token_is_let_in(api_client, staff_user, detail_objects, detail_pks, endpoint):
    token = Token.objects.create(user=staff_user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api_client.get(reverse(f"{endpoint}-detail", args=[detail_pks[endpoint]]))

    _, json_key, expected = detail_objects[endpoint]
    assert response.status_code == 200
    assert response.json()[json_key] == expected


def test_unknown_api_token_is_refused_with_401(api_client, staff_user):
    Token.objects.create(user=staff_user)
    api_client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")

    response = api_client.get(reverse("charge-point-list"))

    assert response.status_code == 401


def test_api_token_of_a_user_who_is_not_staff_is_refused_with_403(api_client, driver_user):
    token = Token.objects.create(user=driver_user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api_client.get(reverse("charge-point-list"))

    assert response.status_code == 403


@pytest.mark.parametrize("endpoint", [endpoint for endpoint in ENDPOINTS if endpoint not in DELETABLE])
def test_delete_is_not_offered_on_endpoints_that_keep_history(staff_api_client, detail_pks, endpoint):
    response = staff_api_client.delete(reverse(f"{endpoint}-detail", args=[detail_pks[endpoint]]))

    assert response.status_code == 405
    assert staff_api_client.get(reverse(f"{endpoint}-detail", args=[detail_pks[endpoint]])).status_code == 200
    assert ChargePoint.objects.filter(pk=detail_pks["charge-point"]).exists()
