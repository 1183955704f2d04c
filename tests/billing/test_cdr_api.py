"""GET /api/v1/cdrs/: charge records as OCPI 2.2.1 CDR objects for staff and partners, filtered, paginated, in a
fixed number of queries; and the explanation of each record's price."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.cdrs import cdr_create_for_session, cdr_credit
from tests.billing.test_cdr_rating import BERLIN_EVENING, METER_START, plain_tariff, session_started, stopped_quietly
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/cdrs/"


def rated(*, day=0, energy_wh=23_456, **fields):
    start = BERLIN_EVENING + timedelta(days=day)
    session = session_started(at=start, connector=ConnectorFactory(), **fields)
    stopped_quietly(session, start + timedelta(hours=1), METER_START + energy_wh)
    return cdr_create_for_session(session_id=session.pk)


@pytest.fixture
def tariff():
    return plain_tariff()


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in json.loads(response.content)["results"]]


def test_a_cdr_is_served_in_the_ocpi_2_2_1_form(staff_api_client, tariff):
    cdr = rated()

    document = json.loads(staff_api_client.get(f"{URL}{cdr.pk}/").content)

    assert set(document) == {
        "country_code", "party_id", "id", "start_date_time", "end_date_time", "session_id", "cdr_token",
        "auth_method", "cdr_location", "currency", "tariffs", "charging_periods", "total_cost", "total_fixed_cost",
        "total_energy", "total_energy_cost", "total_time", "total_time_cost", "total_parking_time",
        "total_parking_cost", "credit", "last_updated",
    }
    assert document["id"] == cdr.ocpi_id and len(cdr.ocpi_id) <= 36
    assert (document["start_date_time"], document["end_date_time"]) == ("2026-06-01T19:00:00Z", "2026-06-01T20:00:00Z")
    assert document["total_cost"] == {"excl_vat": 9.15, "incl_vat": 10.89}
    assert document["total_energy_cost"] == {"excl_vat": 9.15, "incl_vat": 10.89}
    assert document["total_fixed_cost"] == {"excl_vat": 0, "incl_vat": 0}
    assert (document["total_energy"], document["total_time"], document["total_parking_time"]) == (23.456, 1, 0)
    assert document["cdr_token"] == {"country_code": "DE", "party_id": "EVB", "uid": cdr.token_uid, "type": "RFID",
                                     "contract_id": cdr.token_uid}
    assert document["auth_method"] == "WHITELIST" and document["currency"] == "EUR" and document["credit"] is False
    assert document["tariffs"][0]["id"] == tariff.ocpi_id
    assert document["tariffs"][0]["elements"][0]["price_components"][0] == {
        "type": "ENERGY", "price": 0.39, "vat": 19, "step_size": 0}
    assert document["charging_periods"] == [{
        "start_date_time": "2026-06-01T19:00:00Z", "tariff_id": tariff.ocpi_id,
        "dimensions": [{"type": "ENERGY", "volume": 23.456}, {"type": "TIME", "volume": 1},
                       {"type": "MAX_POWER", "volume": 23.456}],
    }]
    location = document["cdr_location"]
    assert (location["country"], location["connector_standard"], location["connector_power_type"]) == (
        "DEU", "IEC_62196_T2", "AC_3_PHASE")
    assert location["coordinates"] == {"latitude": "52.531000", "longitude": "13.384000"}


def test_numbers_have_at_most_four_decimals(staff_api_client, tariff):
    session = session_started(connector=ConnectorFactory())
    stopped_quietly(session, BERLIN_EVENING + timedelta(seconds=4_321), METER_START + 7_777)
    cdr = cdr_create_for_session(session_id=session.pk)

    document = json.loads(staff_api_client.get(f"{URL}{cdr.pk}/").content)

    assert document["total_time"] == 1.2003  # 4321 s
    for period in document["charging_periods"]:
        for dimension in period["dimensions"]:
            assert len(str(dimension["volume"]).partition(".")[2]) <= 4


def test_the_explanation_says_why_it_costs_what_it_costs(staff_api_client, tariff):
    cdr = rated()

    explanation = json.loads(staff_api_client.get(f"{URL}{cdr.pk}/explanation/").content)

    assert explanation["id"] == cdr.ocpi_id
    assert explanation["lines"][-1] == "Total: 9.15 EUR excl. VAT, 10.89 EUR incl. VAT"
    assert explanation["vat_breakdown"] == [
        {"rate": "19.000000", "excl_vat": "9.147840", "vat": "1.738090", "incl_vat": "10.885930"}]
    assert (explanation["total_cost_incl_vat"], explanation["discounts"]) == (10.89, [])


def test_a_credit_is_listed_with_its_reference(staff_api_client, tariff):
    cdr = rated()
    credit = cdr_credit(cdr=cdr, reason="Goodwill.")

    items = json.loads(staff_api_client.get(URL).content)["results"]

    by_id = {item["id"]: item for item in items}
    assert by_id[credit.ocpi_id]["credit_reference_id"] == cdr.ocpi_id
    assert by_id[credit.ocpi_id]["total_cost"] == {"excl_vat": -9.15, "incl_vat": -10.89}


def test_filters_by_charge_point_transaction_and_customer(staff_api_client, tariff):
    first, second = rated(), rated()

    assert ids(staff_api_client.get(URL, {"charge_point": first.charge_point_identity})) == [first.ocpi_id]
    assert ids(staff_api_client.get(URL, {"transaction_id": second.transaction_id})) == [second.ocpi_id]
    assert ids(staff_api_client.get(URL, {"customer": first.customer_id})) == [first.ocpi_id]
    assert ids(staff_api_client.get(URL, {"customer": second.customer.number.lower()})) == [second.ocpi_id]
    assert ids(staff_api_client.get(URL, {"customer": "C000NOBODY"})) == []


def test_filters_by_start_with_dates_and_date_times_from_inclusive_to_exclusive(staff_api_client, tariff):
    june_1, june_2, june_3 = rated(day=0), rated(day=1), rated(day=2)

    assert ids(staff_api_client.get(URL, {"date_from": "2026-06-02"})) == [june_3.ocpi_id, june_2.ocpi_id]
    assert ids(staff_api_client.get(URL, {"date_to": "2026-06-02"})) == [june_1.ocpi_id]
    assert ids(staff_api_client.get(URL, {"date_from": "2026-06-02T19:00:00Z", "date_to": "2026-06-03T19:00:00Z"})) == [
        june_2.ocpi_id]
    assert ids(staff_api_client.get(URL, {"date_from": "2026-06-02T21:00:00+02:00", "date_to": "2026-06-03"})) == [
        june_2.ocpi_id]


@pytest.mark.parametrize("params", [{"date_from": "yesterday"}, {"date_to": "2026-02-30"},
                                    {"date_from": "2026-06-01T25:00:00Z"}])
def test_a_bad_date_is_a_400_saying_what_is_expected(staff_api_client, params):
    response = staff_api_client.get(URL, params)

    assert response.status_code == 400
    (field,) = params
    assert json.loads(response.content) == {
        field: ["Enter an ISO 8601 date (2026-06-01) or date-time (2026-06-01T08:00:00Z)."]}


def test_the_list_is_paginated(staff_api_client, tariff):
    for _ in range(3):
        rated()

    page = json.loads(staff_api_client.get(URL, {"page_size": 2}).content)

    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_drivers_and_anonymous_clients_get_no_records(api_client, driver_user, tariff):
    rated()

    assert api_client.get(URL).status_code in (401, 403)
    api_client.force_authenticate(driver_user)
    assert api_client.get(URL).status_code == 403


def test_the_list_reads_a_page_in_the_same_number_of_queries_for_one_record_as_for_many(
        staff_api_client, tariff, django_assert_num_queries):
    cdr_credit(cdr=rated(), reason="Goodwill.")
    with CaptureQueriesContext(connection) as with_two:
        assert len(ids(staff_api_client.get(URL))) == 2
    for _ in range(5):
        cdr_credit(cdr=rated(), reason="Goodwill.")

    with django_assert_num_queries(len(with_two)):
        assert len(ids(staff_api_client.get(URL))) == 12


def test_the_schema_describes_the_cdr_endpoints_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.json"),
                 "--format", "openapi-json")

    schema = json.loads((tmp_path / "schema.json").read_text())
    assert {"/api/v1/cdrs/", "/api/v1/cdrs/{id}/", "/api/v1/cdrs/{id}/explanation/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/cdrs/"]["get"]["parameters"]}
    assert {"charge_point", "transaction_id", "customer", "date_from", "date_to", "page"} <= parameters
    cdr = schema["components"]["schemas"]["OcpiCdr"]["properties"]
    assert cdr["total_energy"]["type"] == "number" and "cdr_location" in cdr and "charging_periods" in cdr
    assert "delete" not in schema["paths"]["/api/v1/cdrs/{id}/"]
