"""The customers and tokens endpoints: accounts with generated numbers, VAT ids, RFID and contract tokens."""

import pytest
from django.urls import reverse

from customers.models import Customer, IdToken
from tests.factories import CustomerFactory, IdTokenFactory

CUSTOMERS_URL = "/api/v1/customers/"
TOKENS_URL = "/api/v1/tokens/"


def customer_payload(**overrides):
    return {
        "kind": "company", "name": "Spree Logistics GmbH", "email": "fleet@spree.example", "address_line1": "Am Ufer 3",
        "postal_code": "10997", "city": "Berlin", "country": "DE", "vat_id": "DE123456789", **overrides,
    }


def test_customer_is_created_with_a_generated_number_that_the_request_cannot_choose(staff_api_client):
    response = staff_api_client.post(CUSTOMERS_URL, customer_payload(number="C-MINE"), format="json")

    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    assert number != "C-MINE" and number.startswith("C") and len(number) == 10
    assert Customer.objects.get(number=number).name == "Spree Logistics GmbH"
    assert response.json()["currency"] == "EUR"


def test_customer_needs_only_name_email_and_address(staff_api_client, db):
    payload = {"name": "Ada", "email": "ada@example.com", "address_line1": "Weg 1", "postal_code": "1010",
               "city": "Wien", "country": "AT"}

    response = staff_api_client.post(CUSTOMERS_URL, payload, format="json")

    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["status"], response.json()["vat_id"]) == ("person", "active", "")


def test_vat_id_not_matching_the_country_is_refused_naming_the_field(staff_api_client):
    response = staff_api_client.post(CUSTOMERS_URL, customer_payload(vat_id="FR12345678901"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["vat_id"]
    assert "country" in response.json()["vat_id"][0]
    assert not Customer.objects.exists()


def test_moving_a_customer_to_a_country_its_vat_id_does_not_fit_is_refused(staff_api_client):
    customer = CustomerFactory(country="DE", vat_id="DE123456789")

    response = staff_api_client.patch(reverse("customer-detail", args=[customer.pk]), {"country": "AT"}, format="json")

    assert response.status_code == 400
    assert "vat_id" in response.json()
    customer.refresh_from_db()
    assert customer.country == "DE"


def test_vat_id_is_stored_without_spaces_and_dashes_in_upper_case(staff_api_client):
    response = staff_api_client.post(CUSTOMERS_URL, customer_payload(vat_id="de 123-456-789"), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["vat_id"] == "DE123456789"


def test_customer_can_be_suspended_with_patch(staff_api_client):
    customer = CustomerFactory()

    response = staff_api_client.patch(
        reverse("customer-detail", args=[customer.pk]), {"status": "suspended"}, format="json"
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.status == Customer.Status.SUSPENDED


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "company"}, ["Spree Logistics"]),
        ({"status": "closed"}, ["Anna Closed"]),
        ({"country": "AT"}, ["Wiener Taxi"]),
        ({"currency": "CHF"}, ["Zürich Fleet"]),
        ({"search": "ATU1234"}, ["Wiener Taxi"]),
        ({"search": "anna@"}, ["Anna Closed"]),
    ],
)
def test_customers_can_be_filtered_and_searched(staff_api_client, query, expected):
    CustomerFactory(name="Spree Logistics", kind="company")
    CustomerFactory(name="Anna Closed", email="anna@example.com", status="closed")
    CustomerFactory(name="Wiener Taxi", country="AT", vat_id="ATU12345678")
    CustomerFactory(name="Zürich Fleet", country="CH", currency="CHF")

    response = staff_api_client.get(CUSTOMERS_URL, query)

    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == expected


def test_customer_can_be_found_by_its_number(staff_api_client):
    customer = CustomerFactory()
    CustomerFactory()

    response = staff_api_client.get(CUSTOMERS_URL, {"search": customer.number})

    assert [c["id"] for c in response.json()["results"]] == [customer.pk]


def test_token_is_created_for_a_customer_given_by_id(staff_api_client):
    customer = CustomerFactory()

    response = staff_api_client.post(
        TOKENS_URL, {"uid": "04a1b2c3d4", "customer": customer.pk, "visual_number": "EVB-0001"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["customer"] == customer.pk
    assert response.json()["uid"] == "04A1B2C3D4"  # RFID UIDs are kept in upper-case hex
    assert IdToken.objects.get(uid="04A1B2C3D4").customer == customer


def test_token_for_an_unknown_customer_is_refused_naming_the_field(staff_api_client, db):
    response = staff_api_client.post(TOKENS_URL, {"uid": "04A1B2C3D4", "customer": 999999}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["customer"]


def test_invalid_emaid_is_refused_naming_the_field(staff_api_client):
    customer = CustomerFactory()

    response = staff_api_client.post(
        TOKENS_URL, {"uid": "CONTRACT-1", "type": "eMAID", "contract_id": "DE-X", "customer": customer.pk},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["contract_id"]


def test_contract_id_is_stored_in_upper_case(staff_api_client):
    customer = CustomerFactory()

    response = staff_api_client.post(
        TOKENS_URL, {"uid": "APP-1", "type": "eMAID", "contract_id": "de-evb-c12345678-9", "customer": customer.pk},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["contract_id"] == "DE-EVB-C12345678-9"


def test_uid_that_differs_from_an_existing_card_only_in_case_is_refused(staff_api_client):
    existing = IdTokenFactory(uid="04AABBCCDD")

    response = staff_api_client.post(
        TOKENS_URL, {"uid": "04aabbccdd", "customer": existing.customer_id}, format="json"
    )

    assert response.status_code == 400
    assert "uid" in response.json()
    assert IdToken.objects.count() == 1


def test_token_can_be_blocked_with_patch(staff_api_client):
    token = IdTokenFactory()

    response = staff_api_client.patch(reverse("id-token-detail", args=[token.pk]), {"status": "blocked"}, format="json")

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.status == IdToken.Status.BLOCKED


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "blocked"}, ["04000002"]),
        ({"type": "eMAID"}, ["APP-3"]),
        ({"search": "EVB-77"}, ["04000002"]),
        ({"search": "DEEVBC12345678"}, ["APP-3"]),
    ],
)
def test_tokens_can_be_filtered_and_searched(staff_api_client, query, expected):
    IdTokenFactory(uid="04000001")
    IdTokenFactory(uid="04000002", status="blocked", visual_number="EVB-77")
    IdTokenFactory(uid="APP-3", type="eMAID", contract_id="DEEVBC12345678")

    response = staff_api_client.get(TOKENS_URL, query)

    assert response.status_code == 200
    assert [t["uid"] for t in response.json()["results"]] == expected


def test_tokens_can_be_filtered_by_customer(staff_api_client):
    mine = IdTokenFactory()
    IdTokenFactory()

    response = staff_api_client.get(TOKENS_URL, {"customer": mine.customer_id})

    assert [t["id"] for t in response.json()["results"]] == [mine.pk]
