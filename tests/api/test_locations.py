"""The locations endpoint: creating and changing sites, their validation, filters and search."""

import pytest
from django.urls import reverse

from stations.models import Location
from tests.factories import LocationFactory

LIST_URL = "/api/v1/locations/"


def location_payload(**overrides):
    return {
        "code": "berlin-mitte-1", "name": "Mitte Garage", "address": "Invalidenstrasse 1", "postal_code": "10115",
        "city": "Berlin", "country": "DE", "latitude": "52.531000", "longitude": "13.384000",
        "time_zone": "Europe/Berlin", **overrides,
    }


def test_location_created_reads_back_with_its_defaults(staff_api_client):
    created = staff_api_client.post(LIST_URL, location_payload(), format="json")

    assert created.status_code == 201, created.json()
    body = staff_api_client.get(reverse("location-detail", args=[created.json()["id"]])).json()
    assert body["code"] == "berlin-mitte-1"
    assert body["country"] == "DE"
    assert body["opening_hours"] == {"twentyfourseven": True}
    assert body["is_published"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"latitude": "95.000000"}, "latitude"),
        ({"longitude": "-181.000000"}, "longitude"),
        ({"opening_hours": {"regular_hours": []}}, "opening_hours"),
        ({"country": "XX"}, "country"),
    ],
)
def test_invalid_location_is_refused_naming_the_field(staff_api_client, overrides, field):
    response = staff_api_client.post(LIST_URL, location_payload(**overrides), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Location.objects.exists()


def test_location_code_already_used_is_refused_naming_the_field(staff_api_client):
    LocationFactory(code="berlin-mitte-1")

    response = staff_api_client.post(LIST_URL, location_payload(), format="json")

    assert response.status_code == 400
    assert "code" in response.json()


def test_patch_changes_only_the_fields_given(staff_api_client):
    location = LocationFactory(name="Old name", city="Berlin")

    response = staff_api_client.patch(
        reverse("location-detail", args=[location.pk]), {"name": "New name", "is_published": False}, format="json"
    )

    assert response.status_code == 200
    location.refresh_from_db()
    assert (location.name, location.city, location.is_published) == ("New name", "Berlin", False)


def test_patch_with_a_bad_time_zone_is_refused_and_keeps_the_old_one(staff_api_client):
    location = LocationFactory(time_zone="Europe/Berlin")

    response = staff_api_client.patch(
        reverse("location-detail", args=[location.pk]), {"time_zone": "Mars/Olympus"}, format="json"
    )

    assert response.status_code == 400
    assert "time_zone" in response.json()
    location.refresh_from_db()
    assert location.time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"country": "AT"}, ["Wien Hbf"]),
        ({"city": "berlin"}, ["Berlin Mitte", "Berlin Hidden"]),
        ({"is_published": "false"}, ["Berlin Hidden"]),
        ({"search": "wien"}, ["Wien Hbf"]),
        ({"search": "mitte"}, ["Berlin Mitte"]),
    ],
)
def test_locations_can_be_filtered_and_searched(staff_api_client, query, expected):
    LocationFactory(name="Berlin Mitte", code="ber-mitte", city="Berlin", country="DE")
    LocationFactory(name="Berlin Hidden", code="ber-x", city="Berlin", country="DE", is_published=False)
    LocationFactory(name="Wien Hbf", code="vie-hbf", city="Wien", country="AT", time_zone="Europe/Vienna")

    response = staff_api_client.get(LIST_URL, query)

    assert response.status_code == 200
    assert sorted(loc["name"] for loc in response.json()["results"]) == sorted(expected)
