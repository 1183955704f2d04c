"""The charge-points endpoint: nested EVSEs and connectors, the station password, validation, lists."""

import pytest
from django.urls import reverse

from stations.models import ChargePoint, Connector, Evse
from tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory, LocationFactory

LIST_URL = "/api/v1/charge-points/"
PASSWORD = "s3cret-station-pass"  # 19 characters


def connector_payload(**overrides):
    return {
        "ocpp_connector_id": 1, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
        "max_voltage_v": 400, "max_amperage_a": 32, "max_power_w": 22000, **overrides,
    }


def charge_point_payload(location, **overrides):
    return {
        "location": location.pk,
        "identity": "BER-MITTE-01",
        "ocpp_version": "ocpp2.0.1",
        "vendor": "Alfen",
        "model": "Eve Double",
        "password": PASSWORD,
        "evses": [
            {"ocpp_evse_id": 1, "evse_id": "DE*EVB*E0001*1", "connectors": [connector_payload()]},
            {
                "ocpp_evse_id": 2, "evse_id": "DE*EVB*E0001*2",
                "connectors": [
                    connector_payload(),
                    connector_payload(ocpp_connector_id=2, standard="IEC_62196_T2_COMBO", format="CABLE",
                                      power_type="DC", max_voltage_v=920, max_amperage_a=200, max_power_w=150000),
                ],
            },
        ],
        **overrides,
    }


def detail_url(charge_point_id):
    return reverse("charge-point-detail", args=[charge_point_id])


@pytest.fixture
def location(db):
    return LocationFactory()


def test_charge_point_created_with_nested_evses_and_connectors_reads_back_the_same(staff_api_client, location):
    created = staff_api_client.post(LIST_URL, charge_point_payload(location), format="json")

    assert created.status_code == 201, created.json()
    body = staff_api_client.get(detail_url(created.json()["id"])).json()
    assert body == created.json()
    assert body["identity"] == "BER-MITTE-01"
    assert body["location"] == location.pk
    assert [(e["ocpp_evse_id"], e["evse_id"]) for e in body["evses"]] == [(1, "DE*EVB*E0001*1"), (2, "DE*EVB*E0001*2")]
    dc = body["evses"][1]["connectors"][1]
    assert (dc["ocpp_connector_id"], dc["standard"], dc["max_power_w"]) == (2, "IEC_62196_T2_COMBO", 150000)
    assert dc["status"] == "Unknown"  # nothing reported by the station yet
    assert Connector.objects.filter(evse__charge_point__identity="BER-MITTE-01").count() == 3


def test_station_not_yet_placed_at_a_location_can_be_registered_by_its_identity_alone(staff_api_client, db):
    response = staff_api_client.post(LIST_URL, {"identity": "NEW-STATION"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["location"], body["evses"], body["has_password"]) == (None, [], False)
    assert body["registration_status"] == "Pending"


def test_station_password_is_stored_hashed_and_never_returned(staff_api_client, location):
    response = staff_api_client.post(LIST_URL, charge_point_payload(location), format="json")

    assert response.status_code == 201
    assert "password" not in response.json()
    assert response.json()["has_password"] is True
    assert PASSWORD not in response.content.decode()
    charge_point = ChargePoint.objects.get(identity="BER-MITTE-01")
    assert PASSWORD not in charge_point.password_hash
    assert charge_point.check_password(PASSWORD)
    listed = staff_api_client.get(LIST_URL).json()["results"][0]
    assert "password" not in listed and "password_hash" not in listed


@pytest.mark.parametrize("password", ["x" * 15, "x" * 41])
def test_station_password_outside_16_to_40_characters_is_refused(staff_api_client, location, password):
    response = staff_api_client.post(LIST_URL, charge_point_payload(location, password=password), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert not ChargePoint.objects.exists()


def test_invalid_emi3_evse_id_is_refused_naming_the_field(staff_api_client, location):
    payload = charge_point_payload(location)
    payload["evses"][1]["evse_id"] = "not-an-evse-id"

    response = staff_api_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    # DRF 3.18 keys list errors by index and leaves out the entries without errors.
    errors = response.json()["evses"]
    assert list(errors) == ["1"]
    assert "eMI3" in errors["1"]["evse_id"][0]
    assert not ChargePoint.objects.exists()


def test_evse_id_of_another_station_is_refused_naming_the_field_and_nothing_is_saved(staff_api_client, location):
    EvseFactory(evse_id="DE*EVB*E0001*2")
    stations_before = ChargePoint.objects.count()

    response = staff_api_client.post(LIST_URL, charge_point_payload(location), format="json")

    assert response.status_code == 400
    assert response.json() == {"evses": {"1": {"evse_id": ["EVSE with this EVSE id (eMI3) already exists."]}}}
    assert ChargePoint.objects.count() == stations_before
    assert not Evse.objects.filter(evse_id="DE*EVB*E0001*1").exists()


def test_evse_id_given_twice_in_one_request_is_refused(staff_api_client, location):
    payload = charge_point_payload(location)
    payload["evses"][1]["evse_id"] = payload["evses"][0]["evse_id"]

    response = staff_api_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    assert "evse_id" in response.json()["evses"]["1"]


def test_ocpp_evse_id_given_twice_in_one_request_is_refused(staff_api_client, location):
    payload = charge_point_payload(location)
    payload["evses"][1]["ocpp_evse_id"] = 1

    response = staff_api_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    assert "ocpp_evse_id" in response.json()["evses"]["1"]


def test_invalid_connector_is_refused_naming_its_place_in_the_request(staff_api_client, location):
    payload = charge_point_payload(location)
    payload["evses"][1]["connectors"][1]["max_power_w"] = 0

    response = staff_api_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    assert "max_power_w" in response.json()["evses"]["1"]["connectors"]["1"]
    assert not ChargePoint.objects.exists()


def test_identity_already_registered_is_refused_naming_the_field(staff_api_client, location):
    ChargePointFactory(identity="BER-MITTE-01")

    response = staff_api_client.post(LIST_URL, charge_point_payload(location, evses=[]), format="json")

    assert response.status_code == 400
    assert "identity" in response.json()


def test_identity_that_cannot_be_a_websocket_path_segment_is_refused(staff_api_client, location):
    response = staff_api_client.post(LIST_URL, charge_point_payload(location, identity="a/b"), format="json")

    assert response.status_code == 400
    assert "identity" in response.json()


def test_connection_state_is_reported_by_the_station_not_set_through_the_api(staff_api_client, location):
    payload = charge_point_payload(
        location, is_connected=True, last_seen_at="2025-01-01T00:00:00Z", firmware_status="Installed"
    )

    response = staff_api_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["is_connected"], body["last_seen_at"], body["firmware_status"]) == (False, None, "")


def test_update_without_evses_changes_the_station_and_leaves_its_equipment_alone(staff_api_client):
    connector = ConnectorFactory(evse__charge_point__vendor="Alfen")
    charge_point = connector.evse.charge_point

    response = staff_api_client.patch(detail_url(charge_point.pk), {"vendor": "ABB"}, format="json")

    assert response.status_code == 200
    assert response.json()["vendor"] == "ABB"
    assert [e["evse_id"] for e in response.json()["evses"]] == [connector.evse.evse_id]
    assert Connector.objects.filter(evse__charge_point=charge_point).count() == 1


def test_update_with_evses_changes_matching_ones_adds_new_ones_and_keeps_the_rest(staff_api_client):
    first = ConnectorFactory(evse__ocpp_evse_id=1, evse__evse_id="DE*EVB*E0009*1").evse
    second = ConnectorFactory(
        evse__ocpp_evse_id=2, evse__evse_id="DE*EVB*E0009*2", evse__charge_point=first.charge_point
    ).evse
    evses = [
        {"ocpp_evse_id": 1, "physical_reference": "left",
         "connectors": [{"ocpp_connector_id": 1, "max_power_w": 11000}]},
        {"ocpp_evse_id": 3, "evse_id": "DE*EVB*E0009*3", "connectors": [connector_payload()]},
    ]

    response = staff_api_client.patch(detail_url(first.charge_point_id), {"evses": evses}, format="json")

    assert response.status_code == 200, response.json()
    by_id = {e["ocpp_evse_id"]: e for e in response.json()["evses"]}
    assert sorted(by_id) == [1, 2, 3]
    assert by_id[1]["physical_reference"] == "left"
    assert by_id[1]["evse_id"] == "DE*EVB*E0009*1"
    assert [c["max_power_w"] for c in by_id[1]["connectors"]] == [11000]
    assert by_id[2]["evse_id"] == second.evse_id
    assert len(by_id[3]["connectors"]) == 1


def test_evse_added_by_patch_with_another_stations_evse_id_is_refused_naming_the_field(staff_api_client):
    taken = EvseFactory(evse_id="DE*EVB*E0042*1")
    charge_point = ChargePointFactory()

    response = staff_api_client.patch(
        detail_url(charge_point.pk), {"evses": [{"ocpp_evse_id": 1, "evse_id": taken.evse_id}]}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["evses"]["0"]) == ["evse_id"]
    assert not charge_point.evses.exists()


def test_connector_numbered_0_is_refused_naming_the_field(staff_api_client, location):
    payload = charge_point_payload(location)
    payload["evses"][0]["connectors"][0]["ocpp_connector_id"] = 0  # OCPP 1.6 connector 0 is the station itself

    response = staff_api_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["evses"]["0"]["connectors"]["0"]) == ["ocpp_connector_id"]


def test_evse_id_is_stored_in_its_canonical_upper_case_form(staff_api_client, location):
    payload = charge_point_payload(location)
    payload["evses"][0]["evse_id"] = " de*evb*e0001*1 "

    response = staff_api_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["evses"][0]["evse_id"] == "DE*EVB*E0001*1"


def test_evse_entry_without_ocpp_evse_id_is_refused(staff_api_client):
    charge_point = ChargePointFactory()

    response = staff_api_client.patch(
        detail_url(charge_point.pk), {"evses": [{"evse_id": "DE*EVB*E0010*1"}]}, format="json"
    )

    assert response.status_code == 400
    assert "ocpp_evse_id" in response.json()["evses"]["0"]


def test_update_with_a_new_password_replaces_it_and_without_one_keeps_it(staff_api_client):
    charge_point = ChargePointFactory(password="the-old-password-16")
    url = detail_url(charge_point.pk)

    staff_api_client.patch(url, {"vendor": "ABB"}, format="json")
    charge_point.refresh_from_db()
    assert charge_point.check_password("the-old-password-16")

    response = staff_api_client.patch(url, {"password": "the-new-password-16"}, format="json")
    charge_point.refresh_from_db()
    assert response.status_code == 200
    assert charge_point.check_password("the-new-password-16")
    assert not charge_point.check_password("the-old-password-16")


def test_put_changes_the_stations_fields_and_needs_the_required_ones(staff_api_client, location):
    charge_point = ChargePointFactory(vendor="Alfen")
    url = detail_url(charge_point.pk)

    incomplete = staff_api_client.put(url, {"vendor": "ABB"}, format="json")
    complete = staff_api_client.put(
        url, {"location": location.pk, "identity": charge_point.identity, "vendor": "ABB"}, format="json"
    )

    assert incomplete.status_code == 400
    assert list(incomplete.json()) == ["identity"]
    assert complete.status_code == 200
    charge_point.refresh_from_db()
    assert (charge_point.location, charge_point.vendor) == (location, "ABB")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("registration_status=Pending", ["CP-PENDING"]),
        ("is_connected=true", ["CP-ONLINE"]),
        ("ocpp_version=ocpp2.0.1", ["CP-ONLINE"]),
        ("search=eve", ["CP-ONLINE", "CP-PENDING"]),
        ("search=SN-777", ["CP-PENDING"]),
    ],
)
def test_charge_points_can_be_filtered_and_searched(staff_api_client, query, expected):
    ChargePointFactory(identity="CP-ONLINE", is_connected=True, ocpp_version="ocpp2.0.1", model="Eve Single")
    ChargePointFactory(identity="CP-PENDING", registration_status="Pending", model="Eve Double", serial_number="SN-777")
    ChargePointFactory(identity="CP-OTHER", vendor="ABB", model="Terra AC")

    response = staff_api_client.get(f"{LIST_URL}?{query}")

    assert response.status_code == 200
    assert [cp["identity"] for cp in response.json()["results"]] == expected


def test_charge_points_can_be_filtered_by_location(staff_api_client, location):
    ChargePointFactory(identity="HERE", location=location)
    ChargePointFactory(identity="ELSEWHERE")

    response = staff_api_client.get(LIST_URL, {"location": location.pk})

    assert [cp["identity"] for cp in response.json()["results"]] == ["HERE"]


def test_charge_point_list_is_paginated_with_page_and_page_size(staff_api_client):
    for n in range(5):
        ChargePointFactory(identity=f"CP-{n}")

    first = staff_api_client.get(LIST_URL, {"page_size": 2}).json()
    last = staff_api_client.get(LIST_URL, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert [cp["identity"] for cp in first["results"]] == ["CP-0", "CP-1"]
    assert first["next"] is not None and first["previous"] is None
    assert [cp["identity"] for cp in last["results"]] == ["CP-4"]
    assert last["next"] is None


@pytest.mark.parametrize("stations", [1, 8])
def test_charge_point_list_takes_the_same_number_of_queries_however_many_stations(
    staff_api_client, django_assert_num_queries, stations
):
    for _ in range(stations):
        charge_point = ChargePointFactory()
        for ocpp_evse_id in (1, 2):
            evse = EvseFactory(charge_point=charge_point, ocpp_evse_id=ocpp_evse_id)
            ConnectorFactory(evse=evse, ocpp_connector_id=1)
            ConnectorFactory(evse=evse, ocpp_connector_id=2)

    # count, charge points, their EVSEs, the EVSEs' connectors
    with django_assert_num_queries(4):
        response = staff_api_client.get(LIST_URL)

    assert len(response.json()["results"]) == stations
    assert all(len(evse["connectors"]) == 2 for cp in response.json()["results"] for evse in cp["evses"])
