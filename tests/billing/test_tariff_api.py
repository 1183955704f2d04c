"""The REST API for tariffs (OCPI documents as they are), tariff assignments and price feed values."""

import json
from datetime import UTC, datetime

import pytest

from billing.models import PriceFeedValue, Tariff, TariffAssignment
from billing.tariffs import tariff_create_from_ocpi
from tests.billing.factories import PriceFeedFactory, TariffAssignmentFactory, TariffFactory
from tests.factories import LocationFactory

from .spec_tariffs import EXAMPLES, load

pytestmark = pytest.mark.django_db


def _post_document(client, document, **params):
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    return client.post(f"/api/v1/tariffs/{query}", data=EXAMPLES_JSON(document), content_type="application/json")


def EXAMPLES_JSON(document) -> str:  # noqa: N802 - reads like a constant at the call
    return json.dumps(document, default=float)


def test_posting_an_ocpi_document_as_is_stores_it_and_answers_the_stored_document(staff_api_client):
    response = staff_api_client.post("/api/v1/tariffs/?name=Complex", data=EXAMPLES["tariff_4_complex"],
                                     content_type="application/json")

    assert response.status_code == 201, response.content
    body = response.json()
    meta = body.pop("_backoffice")
    tariff = Tariff.objects.get()
    assert meta["pk"] == tariff.pk and meta["name"] == "Complex" and "EUR per session" in meta["summary"]
    expected = json.loads(EXAMPLES["tariff_4_complex"])
    assert body.pop("last_updated") and expected.pop("last_updated")
    assert body == expected


def test_list_and_detail_are_ocpi_documents(staff_api_client, django_assert_max_num_queries):
    for name in ["tariff_4_complex", "tariff_13_simple_3hour_5parking"]:
        document = load(name)
        document["id"] = name[:36]
        tariff_create_from_ocpi(document=document)

    with django_assert_max_num_queries(6):
        listed = staff_api_client.get("/api/v1/tariffs/").json()
    tariff = Tariff.objects.get(ocpi_id="tariff_4_complex")
    detail = staff_api_client.get(f"/api/v1/tariffs/{tariff.pk}/").json()

    assert listed["count"] == 2
    assert detail["id"] == "tariff_4_complex" and len(detail["elements"]) == 6
    assert detail in listed["results"]


@pytest.mark.parametrize(("change", "errors"), [
    (lambda d: d["elements"][0]["price_components"].append({"type": "TIME", "price": 1, "step_size": -1}),
     {"elements[0].price_components[1].step_size": ["must not be negative"]}),
    (lambda d: d["elements"][0]["price_components"][0].update(price=-1),
     {"elements[0].price_components[0].price": ["must not be negative"]}),
    (lambda d: d.update(currency="XYZ"), {"currency": ["must be an ISO 4217 code of a currency in use, e.g. EUR"]}),
    (lambda d: d.update(start_date_time="2026-02-01T00:00:00Z", end_date_time="2026-01-01T00:00:00Z"),
     {"end_date_time": ["must be after start_date_time"]}),
    (lambda d: d["elements"][0].update(restrictions={"min_kwh": 5, "max_kwh": 1}),
     {"elements[0].restrictions.max_kwh": ["must be greater than min_kwh (the element would never apply)"]}),
    (lambda d: d.update(tarif_alt_url="x"), {"tarif_alt_url": ["unknown field"]}),
])
def test_an_invalid_document_answers_400_naming_the_field_and_the_rule(staff_api_client, change, errors):
    document = load("tariff_8_simple_025kwh")
    change(document)

    response = _post_document(staff_api_client, document)

    assert response.status_code == 400
    assert response.json() == errors
    assert not Tariff.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(staff_api_client):
    response = staff_api_client.post("/api/v1/tariffs/", data="[1, 2]", content_type="application/json")

    assert response.status_code == 400


def test_put_replaces_the_tariff_from_a_document_and_ignores_our_metadata(staff_api_client):
    tariff = tariff_create_from_ocpi(document=load("tariff_4_complex"))
    document = staff_api_client.get(f"/api/v1/tariffs/{tariff.pk}/").json()
    document["elements"] = document["elements"][:1]

    response = staff_api_client.put(f"/api/v1/tariffs/{tariff.pk}/?name=Short", data=document, format="json")

    assert response.status_code == 200, response.content
    assert len(response.json()["elements"]) == 1 and response.json()["_backoffice"]["name"] == "Short"
    assert tariff.elements.count() == 1


def test_delete_is_refused_for_an_assigned_tariff_and_allowed_otherwise(staff_api_client):
    assigned, unused = TariffFactory(), TariffFactory()
    TariffAssignmentFactory(tariff=assigned)

    refused = staff_api_client.delete(f"/api/v1/tariffs/{assigned.pk}/")
    deleted = staff_api_client.delete(f"/api/v1/tariffs/{unused.pk}/")

    assert refused.status_code == 400 and "assigned" in refused.json()["non_field_errors"][0]
    assert deleted.status_code == 204
    assert list(Tariff.objects.all()) == [assigned]




# --- assignments ---------------------------------------------------------------------------------------------


def test_an_assignment_is_created_and_an_overlapping_one_answers_400_naming_the_conflict(staff_api_client):
    location = LocationFactory(name="Hafen")
    tariff = TariffFactory(name="AC")
    body = {"tariff": tariff.pk, "location": location.pk, "valid_from": "2026-01-01T00:00:00Z"}

    created = staff_api_client.post("/api/v1/tariff-assignments/", data=body, format="json")
    overlapping = staff_api_client.post("/api/v1/tariff-assignments/", data=body, format="json")

    assert created.status_code == 201 and created.json()["scope"].startswith("location Hafen")
    assert overlapping.status_code == 400
    assert overlapping.json()["non_field_errors"][0].startswith('Overlaps "AC" at location Hafen')
    assert TariffAssignment.objects.count() == 1


def test_an_assignment_with_two_scopes_or_the_end_first_answers_400(staff_api_client):
    tariff, location = TariffFactory(), LocationFactory()
    two_scopes = staff_api_client.post("/api/v1/tariff-assignments/", format="json", data={
        "tariff": tariff.pk, "location": location.pk, "charge_point": _charge_point().pk,
        "valid_from": "2026-01-01T00:00:00Z"})
    end_first = staff_api_client.post("/api/v1/tariff-assignments/", format="json", data={
        "tariff": tariff.pk, "valid_from": "2026-02-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"})

    assert two_scopes.status_code == 400 and "Give one scope" in two_scopes.json()["non_field_errors"][0]
    assert end_first.status_code == 400 and end_first.json() == {"valid_until": ["The end must be after the start."]}


def test_an_assignment_is_ended_by_patching_valid_until(staff_api_client):
    assignment = TariffAssignmentFactory(valid_from=datetime(2026, 1, 1, tzinfo=UTC))

    response = staff_api_client.patch(f"/api/v1/tariff-assignments/{assignment.pk}/", format="json",
                                      data={"valid_until": "2026-02-01T00:00:00Z"})

    assert response.status_code == 200
    assignment.refresh_from_db()
    assert assignment.valid_until == datetime(2026, 2, 1, tzinfo=UTC)


def _charge_point():
    from tests.factories import ChargePointFactory

    return ChargePointFactory()


# --- price feeds ---------------------------------------------------------------------------------------------


def test_a_price_feed_is_created_and_values_are_posted_as_json(staff_api_client):
    created = staff_api_client.post("/api/v1/price-feeds/", format="json",
                                    data={"code": "epex-de", "name": "EPEX DE-LU", "interval_s": 3600})
    response = staff_api_client.post("/api/v1/price-feeds/epex-de/values/", format="json", data=[
        {"start": "2026-03-01T00:00:00Z", "price_per_kwh": "0.084"},
        {"start": "2026-03-01T01:00:00Z", "price_per_kwh": -0.01},
    ])

    assert created.status_code == 201
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    assert PriceFeedValue.objects.count() == 2


def test_price_feed_values_are_posted_as_csv_in_mwh(staff_api_client):
    PriceFeedFactory(code="epex-at", interval_s=900)

    response = staff_api_client.post("/api/v1/price-feeds/epex-at/values/?unit=mwh", content_type="text/csv",
                                     data="start,price\n2026-03-01T00:00:00Z,84.5\n")

    assert response.status_code == 200, response.content
    assert str(PriceFeedValue.objects.get().price_per_kwh) == "0.084500"


def test_a_bad_value_answers_400_and_imports_nothing(staff_api_client):
    PriceFeedFactory(code="epex-fr", interval_s=900)

    naive = staff_api_client.post("/api/v1/price-feeds/epex-fr/values/", format="json",
                                  data=[{"start": "2026-03-01T00:00:00", "price_per_kwh": "0.1"}])
    misaligned = staff_api_client.post("/api/v1/price-feeds/epex-fr/values/", content_type="text/csv",
                                       data="2026-03-01T00:00:00Z,1\n2026-03-01T00:10:00Z,1\n")

    assert naive.status_code == 400 and naive.json() == {"0": {"start": ["Give the UTC offset (Z or +01:00)."]}}
    assert misaligned.status_code == 400 and "line 2" in misaligned.json()["non_field_errors"][0]
    assert not PriceFeedValue.objects.exists()


def test_the_schema_describes_tariffs_assignments_and_feed_values(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    for path in ["/api/v1/tariffs/", "/api/v1/tariffs/{id}/", "/api/v1/tariff-assignments/{id}/",
                 "/api/v1/price-feeds/{code}/values/"]:
        assert path in schema["paths"]
    request = schema["paths"]["/api/v1/price-feeds/{code}/values/"]["post"]["requestBody"]["content"]
    assert set(request) == {"application/json", "text/csv"}


# --- access: staff only, like the rest of the API (tests/api/test_access.py lists the other endpoints) ----------

_URLS = [
    lambda: "/api/v1/tariffs/", lambda: f"/api/v1/tariffs/{TariffFactory().pk}/",
    lambda: "/api/v1/tariff-assignments/", lambda: f"/api/v1/tariff-assignments/{TariffAssignmentFactory().pk}/",
    lambda: "/api/v1/price-feeds/", lambda: f"/api/v1/price-feeds/{PriceFeedFactory().code}/",
    lambda: f"/api/v1/price-feeds/{PriceFeedFactory().code}/values/",
]


@pytest.mark.parametrize("url", _URLS)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_anonymous_and_non_staff_requests_are_refused(api_client, driver_user, url, method):
    address = url()

    anonymous = getattr(api_client, method)(address, {}, format="json")
    api_client.force_authenticate(driver_user)
    driver = getattr(api_client, method)(address, {}, format="json")

    assert (anonymous.status_code, driver.status_code) == (401, 403)
