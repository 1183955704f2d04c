"""Find a charger: the public list and search, a location's page, the availability JSON; what they show and
what they must never show."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Membership, MembershipPlan
from customers.models import Customer
from stations.models import ChargePoint, Connector, ConnectorStatus
from tests.billing.factories import CustomerGroupFactory, TariffAssignmentFactory, TariffFactory
from tests.factories import (
    ChargePointFactory,
    ChargingSessionFactory,
    ConnectorFactory,
    CustomerFactory,
    EvseFactory,
    IdTokenFactory,
    LocationFactory,
)
from tests.portal.conftest import signed_in

TYPE2, CCS = Connector.Standard.TYPE2, Connector.Standard.CCS2


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the status JSON is cached for a few seconds; every test starts without it
    yield
    cache.clear()


def add_station(location, *plugs, connected=True, station_status=ConnectorStatus.AVAILABLE):
    """A station at `location` with one EVSE per plug: (standard, power_w, status)."""
    station = ChargePointFactory(location=location, is_connected=connected, status=station_status)
    for number, (standard, power_w, status) in enumerate(plugs, start=1):
        evse = EvseFactory(charge_point=station, ocpp_evse_id=number)
        ConnectorFactory(evse=evse, standard=standard, max_power_w=power_w, status=status,
                         power_type=Connector.PowerType.DC if standard == CCS else Connector.PowerType.AC_3_PHASE)
    return station


@pytest.fixture
def park(db):
    """A public location: two Type 2 22 kW (one in use) and one CCS 150 kW, priced 0.39 EUR/kWh for everyone."""
    location = LocationFactory(name="Hauptbahnhof Süd", address="Europaplatz 1", postal_code="10557", city="Berlin")
    add_station(location, (TYPE2, 22000, ConnectorStatus.AVAILABLE), (TYPE2, 22000, ConnectorStatus.CHARGING))
    add_station(location, (CCS, 150000, ConnectorStatus.AVAILABLE))
    TariffAssignmentFactory(location=location, tariff=TariffFactory(name="Public AC/DC"))
    return location


def get_list(client=None, **params):
    return (client or Client()).get(reverse("portal:chargers"), params)


def listed_names(response) -> list[str]:
    return [card.location.name for card in response.context["cards"]]


# -- the list ---------------------------------------------------------------------------------------------------


def test_visitor_sees_availability_per_connector_type_and_power(park):
    response = get_list()

    assert response.status_code == 200
    html = response.content.decode()
    assert "Hauptbahnhof Süd" in html
    assert "Type 2, 22 kW: <span data-group-count>1 of 2 available</span>" in html
    assert "CCS (Combo 2), 150 kW: <span data-group-count>1 of 1 available</span>" in html
    assert "2 of 3 available" in html


def test_visitor_sees_the_price_in_plain_words_before_charging(park):
    html = get_list().content.decode()

    assert "0.39 EUR/kWh" not in html  # shown incl. VAT: 0.39 excl. 19 % VAT is 0.4641
    assert "0.4641 EUR/kWh" in html
    assert "incl. 19 % VAT" in html


def test_offline_station_counts_as_unavailable_whatever_its_connectors_reported(db):
    location = LocationFactory(name="Parkhaus Nord")
    add_station(location, (TYPE2, 11000, ConnectorStatus.AVAILABLE), (TYPE2, 11000, ConnectorStatus.AVAILABLE),
                connected=False)

    html = get_list().content.decode()

    assert "0 of 2 available" in html
    assert 'class="badge bad"' in html


def test_station_reporting_itself_unavailable_makes_its_connectors_unavailable(db):
    location = LocationFactory()
    add_station(location, (TYPE2, 22000, ConnectorStatus.AVAILABLE), station_status=ConnectorStatus.FAULTED)

    assert "0 of 1 available" in get_list().content.decode()


def test_second_connector_of_an_evse_in_use_is_not_available(db):
    location = LocationFactory()
    station = ChargePointFactory(location=location, is_connected=True)
    evse = EvseFactory(charge_point=station)
    ConnectorFactory(evse=evse, ocpp_connector_id=1, standard=CCS, max_power_w=50000, status=ConnectorStatus.CHARGING)
    ConnectorFactory(evse=evse, ocpp_connector_id=2, standard=Connector.Standard.CHADEMO, max_power_w=50000,
                     status=ConnectorStatus.AVAILABLE)

    assert "0 of 2 available" in get_list().content.decode()


def test_unpublished_locations_and_undescribed_connectors_are_not_shown(park):
    hidden = LocationFactory(name="Depot (staff only)", is_published=False)
    add_station(hidden, (TYPE2, 22000, ConnectorStatus.AVAILABLE))
    onboarding = LocationFactory(name="Not yet described")
    add_station(onboarding, ("", None, ConnectorStatus.AVAILABLE))

    response = get_list()

    assert listed_names(response) == ["Hauptbahnhof Süd"]
    assert Client().get(reverse("portal:charger", args=[hidden.pk])).status_code == 404
    assert Client().get(reverse("portal:charger", args=[onboarding.pk])).status_code == 404


@pytest.mark.parametrize("query", ["hauptbahnhof", "europaplatz", "10557", "berlin süd", "BERLIN"])
def test_search_finds_a_location_by_name_address_postcode_or_city(park, query):
    LocationFactory(name="Marktplatz", address="Am Markt 3", postal_code="80331", city="München")

    assert listed_names(get_list(q=query)) == ["Hauptbahnhof Süd"]


def test_search_with_no_match_says_so(park):
    response = get_list(q="Hamburg")

    assert listed_names(response) == []
    assert "No charger matches your search" in response.content.decode()


def test_filter_by_connector_type_and_minimum_power(park):
    ac_only = LocationFactory(name="Supermarkt")
    add_station(ac_only, (TYPE2, 11000, ConnectorStatus.AVAILABLE))

    assert listed_names(get_list(type=CCS)) == ["Hauptbahnhof Süd"]
    assert listed_names(get_list(power=50)) == ["Hauptbahnhof Süd"]
    assert listed_names(get_list(type=TYPE2, power=22)) == ["Hauptbahnhof Süd"]
    assert sorted(listed_names(get_list(type=TYPE2))) == ["Hauptbahnhof Süd", "Supermarkt"]


def test_filter_only_locations_with_a_free_connector(park):
    full = LocationFactory(name="Full")
    add_station(full, (TYPE2, 22000, ConnectorStatus.CHARGING))

    assert listed_names(get_list(available="on")) == ["Hauptbahnhof Süd"]


@pytest.mark.parametrize("params", [{"type": "FLUX_CAPACITOR"}, {"power": "lots"}, {"lat": "999", "lon": "1"},
                                    {"q": "x" * 500}, {"page": "-3"}])
def test_bad_search_input_shows_the_page_with_a_message_never_an_error(park, params):
    response = get_list(**params)

    assert response.status_code == 200
    assert listed_names(response) == ["Hauptbahnhof Süd"]


def test_invalid_connector_type_is_explained_beside_the_field(park):
    response = get_list(type="FLUX_CAPACITOR")

    assert response.context["form"].errors["type"]
    assert 'class="errorlist' in response.content.decode()


def test_near_me_sorts_locations_by_distance(db):
    far = LocationFactory(name="Potsdam", latitude=Decimal("52.390000"), longitude=Decimal("13.064000"))
    near = LocationFactory(name="Mitte", latitude=Decimal("52.520000"), longitude=Decimal("13.405000"))
    for location in (far, near):
        add_station(location, (TYPE2, 22000, ConnectorStatus.AVAILABLE))

    response = get_list(lat="52.5200", lon="13.4000")

    assert listed_names(response) == ["Mitte", "Potsdam"]
    assert "km away" in response.content.decode()


def test_list_is_paginated_and_keeps_the_search(db):
    for number in range(25):
        add_station(LocationFactory(name=f"Ladepark {number:02d}"), (TYPE2, 22000, ConnectorStatus.AVAILABLE))

    first, second = get_list(q="Ladepark"), get_list(q="Ladepark", page=2)

    assert len(first.context["cards"]) == 20 and len(second.context["cards"]) == 5
    assert "?q=Ladepark&amp;page=2" in first.content.decode()
    assert len(first.context["map_data"]["locations"]) == 25  # the map shows every match


def test_list_needs_a_constant_number_of_queries(db, django_assert_max_num_queries, person):
    for number in range(12):
        location = LocationFactory(name=f"Ladepark {number:02d}")
        add_station(location, (TYPE2, 22000, ConnectorStatus.AVAILABLE), (CCS, 150000, ConnectorStatus.CHARGING))
        TariffAssignmentFactory(location=location, tariff=TariffFactory(
            elements=[{"energy_price": Decimal("0.29"), "start_time": "22:00", "end_time": "06:00"},
                      {"energy_price": Decimal("0.39"), "parking_price": Decimal("6")}]))
    client = signed_in(person)
    client.get(reverse("portal:chargers"))  # session and user loaded once, as on every page

    with django_assert_max_num_queries(9):
        response = client.get(reverse("portal:chargers"))
    with django_assert_max_num_queries(7):
        Client().get(reverse("portal:chargers"))
    assert len(response.context["cards"]) == 12


def test_home_sends_visitors_to_the_charger_finder(db):
    response = Client().get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:chargers")


# -- prices for a signed-in customer -----------------------------------------------------------------------------


def test_signed_in_customer_sees_their_group_tariff_visitors_the_public_one(park, person):
    TariffAssignmentFactory(customer_group=CustomerGroupFactory(customers=[person.customer]),
                            tariff=TariffFactory(elements=[{"energy_price": Decimal("0.25"), "energy_vat": None}]))

    assert "0.25 EUR/kWh" in get_list(signed_in(person)).content.decode()
    assert "0.25 EUR/kWh" not in get_list().content.decode()
    assert "0.4641 EUR/kWh" in get_list().content.decode()


def test_member_sees_their_plan_tariff(park, person):
    plan = MembershipPlan.objects.create(
        name="Plus", monthly_fee=Decimal("4.99"), benefit=MembershipPlan.Benefit.TARIFF,
        tariff=TariffFactory(elements=[{"energy_price": Decimal("0.20"), "energy_vat": None}]))
    Membership.objects.create(customer=person.customer, plan=plan, starts_on=timezone.localdate() - timedelta(days=1))

    assert "0.20 EUR/kWh" in get_list(signed_in(person)).content.decode()


def test_location_with_different_tariffs_per_connector_type_names_which_price_is_which(park):
    dc = park.charge_points.get(evses__connectors__standard=CCS)
    TariffAssignmentFactory(charge_point=dc, tariff=TariffFactory(elements=[{"energy_price": Decimal("0.59"),
                                                                             "energy_vat": None}]))

    html = Client().get(reverse("portal:charger", args=[park.pk])).content.decode()

    assert '<p class="price-for">CCS (Combo 2), 150 kW</p>' in html
    assert '<p class="price-for">Type 2, 22 kW</p>' in html
    assert "0.59 EUR/kWh" in html


def test_charger_without_a_tariff_says_no_price_is_published(db):
    add_station(LocationFactory(), (TYPE2, 22000, ConnectorStatus.AVAILABLE))

    assert "No price is published for this charger yet." in get_list().content.decode()


# -- a location's page ------------------------------------------------------------------------------------------


def test_location_page_lists_each_evse_with_its_connectors_status_and_ad_hoc_link(park):
    evse_ids = sorted(park.charge_points.values_list("evses__evse_id", flat=True))

    response = Client().get(reverse("portal:charger", args=[park.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for evse_id in evse_ids:
        assert evse_id in html
        assert f'href="{reverse("adhoc:page", args=[evse_id])}"' in html
    assert html.count(">Available</span>") == 2 and html.count(">In use</span>") == 1
    assert "150 kW" in html and "DC" in html
    assert "Open 24/7" in html


def test_location_page_shows_regular_opening_hours(park):
    park.opening_hours = {"regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}]}
    park.save()

    html = Client().get(reverse("portal:charger", args=[park.pk])).content.decode()

    assert "<dt>Monday</dt><dd>08:00-20:00</dd>" in html
    assert "<dt>Sunday</dt><dd>Closed</dd>" in html


def test_location_page_for_unknown_id_is_404(db):
    assert Client().get(reverse("portal:charger", args=[987654])).status_code == 404


def test_location_page_needs_a_constant_number_of_queries(park, django_assert_max_num_queries):
    for _ in range(5):
        add_station(park, (TYPE2, 22000, ConnectorStatus.AVAILABLE), (CCS, 300000, ConnectorStatus.FAULTED))

    with django_assert_max_num_queries(6):
        Client().get(reverse("portal:charger", args=[park.pk]))


# -- the availability JSON ---------------------------------------------------------------------------------------


def test_status_json_gives_counts_per_location_and_connector_type(park):
    data = Client().get(reverse("portal:chargers-status")).json()

    (location,) = data["locations"]
    assert location["id"] == park.pk
    assert (location["available"], location["total"], location["badge"]) == (2, 3, "ok")
    groups = {group["name"]: (group["available"], group["total"]) for group in location["groups"]}
    assert groups == {"CCS (Combo 2), 150 kW": (1, 1), "Type 2, 22 kW": (1, 2)}
    assert "connectors" not in data


def test_status_json_for_a_location_gives_each_connectors_state(park):
    ChargePoint.objects.filter(location=park, evses__connectors__standard=CCS).update(is_connected=False)

    data = Client().get(reverse("portal:chargers-status"), {"location": park.pk}).json()

    states = sorted(connector["state"] for connector in data["connectors"])
    assert states == ["available", "occupied", "offline"]
    assert data["locations"][0]["available"] == 1


@pytest.mark.parametrize(("value", "status"), [("abc", 400), ("-1", 400), ("999999", 404)])
def test_status_json_refuses_a_bad_or_unknown_location(park, value, status):
    response = Client().get(reverse("portal:chargers-status"), {"location": value})

    assert response.status_code == status
    assert "error" in response.json()


def test_status_json_of_an_unpublished_location_is_404(park):
    park.is_published = False
    park.save()

    assert Client().get(reverse("portal:chargers-status"), {"location": park.pk}).status_code == 404


def test_status_json_may_be_cached_for_a_few_seconds(park):
    response = Client().get(reverse("portal:chargers-status"))

    assert "max-age=5" in response["Cache-Control"]


def test_map_markers_are_embedded_in_the_page(park):
    response = get_list()

    (marker,) = response.context["map_data"]["locations"]
    assert marker["lat"] == pytest.approx(52.531) and marker["url"] == reverse("portal:charger", args=[park.pk])
    assert 'id="charger-map-data"' in response.content.decode()
    assert "tile.openstreetmap.org" in response.content.decode()


# -- nothing private -------------------------------------------------------------------------------------------


def test_public_pages_and_json_expose_no_customer_token_or_session(park):
    customer = CustomerFactory(name="Erika Mustermann", email="erika@example.com", kind=Customer.Kind.PERSON)
    token = IdTokenFactory(customer=customer, uid="04DEADBEEF1234")
    connector = Connector.objects.filter(evse__charge_point__location=park, status=ConnectorStatus.CHARGING).get()
    ChargingSessionFactory(connector=connector, id_token=token, transaction_id="777123", meter_start_wh=4242424)

    pages = [get_list(), Client().get(reverse("portal:charger", args=[park.pk])),
             Client().get(reverse("portal:chargers-status")),
             Client().get(reverse("portal:chargers-status"), {"location": park.pk})]

    for response in pages:
        body = response.content.decode()
        for secret in ("Mustermann", "erika@example.com", "04DEADBEEF1234", "777123", "4242424",
                       ChargePoint.objects.filter(location=park).first().identity):
            assert secret not in body, (response.request["PATH_INFO"], secret)
