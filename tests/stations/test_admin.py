"""Operator staff find, filter and look after locations, stations, EVSEs and connectors in the admin, and
see sessions and meter values exactly as stations reported them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stations.models import ChargePoint, ChargingSession, Connector, MeterValue
from tests.admin_helpers import filter_link, rows
from tests.factories import (
    ChargePointFactory,
    ChargingSessionFactory,
    ConnectorFactory,
    EvseFactory,
    LocationFactory,
)

pytestmark = pytest.mark.django_db

STATION_PASSWORD = "s3cret-station-pass"  # 19 characters: within OCPP's 16-40


def changelist_url(model: str) -> str:
    return reverse(f"admin:stations_{model}_changelist")


def meter_value(session: ChargingSession, **fields) -> MeterValue:
    values = {
        "session": session, "charge_point": session.charge_point, "connector": session.connector,
        "timestamp": session.started_at, "value": Decimal("1000000"), "unit": "Wh",
    }
    return MeterValue.objects.create(**values | fields)


def completed_session(**fields) -> ChargingSession:
    started_at = timezone.now() - timedelta(hours=2)
    values = {
        "state": ChargingSession.State.COMPLETED, "started_at": started_at,
        "stopped_at": started_at + timedelta(minutes=95), "meter_start_wh": 1_000_000, "meter_stop_wh": 1_012_345,
        "stop_reason": ChargingSession.StopReason.EV_DISCONNECTED,
    }
    return ChargingSessionFactory(**values | fields)


def session_with_meter_value() -> ChargingSession:
    session = ChargingSessionFactory()
    meter_value(session)
    return session


# --- Pages answer and show rows ------------------------------------------------------------------------

MAKERS = {
    "location": lambda: LocationFactory(name="Charging park Mitte"),
    "chargepoint": lambda: ChargePointFactory(identity="CP-MITTE-01"),
    "evse": lambda: EvseFactory(evse_id="DE*EVB*E777*1"),
    "connector": lambda: ConnectorFactory(evse__evse_id="DE*EVB*E888*1"),
    "chargingsession": lambda: ChargingSessionFactory(transaction_id="4711"),
    "metervalue": lambda: meter_value(ChargingSessionFactory(transaction_id="4712")),
}
SHOWN_AS = {
    "location": "Charging park Mitte", "chargepoint": "CP-MITTE-01", "evse": "DE*EVB*E777*1",
    "connector": "DE*EVB*E888*1", "chargingsession": "4711", "metervalue": "4712",
}


@pytest.mark.parametrize("model", MAKERS)
def test_changelist_lists_its_rows(admin_client, model):
    obj = MAKERS[model]()

    response = admin_client.get(changelist_url(model))

    assert rows(response) == {obj}
    assert SHOWN_AS[model] in response.text


@pytest.mark.parametrize("model", MAKERS)
def test_change_page_opens(admin_client, model):
    obj = MAKERS[model]()

    response = admin_client.get(reverse(f"admin:stations_{model}_change", args=[obj.pk]))

    assert response.status_code == 200
    assert SHOWN_AS[model] in response.text


@pytest.mark.parametrize("model", ["location", "chargepoint", "evse", "connector"])
def test_add_page_opens_for_equipment(admin_client, model):
    response = admin_client.get(reverse(f"admin:stations_{model}_add"))

    assert response.status_code == 200


# --- Search ----------------------------------------------------------------------------------------------

SEARCHES = [
    ("location", "10437", lambda: LocationFactory(postal_code="10437"), lambda: LocationFactory(postal_code="80331")),
    ("location", "Hamburg", lambda: LocationFactory(city="Hamburg"), lambda: LocationFactory(city="Berlin")),
    ("location", "hh-port", lambda: LocationFactory(code="hh-port"), lambda: LocationFactory(code="b-mitte")),
    ("chargepoint", "SN-99", lambda: ChargePointFactory(serial_number="SN-99"),
     lambda: ChargePointFactory(serial_number="SN-11")),
    ("chargepoint", "Hafen", lambda: ChargePointFactory(location__name="Parkhaus Hafen"),
     lambda: ChargePointFactory(location__name="Parkhaus Mitte")),
    ("chargepoint", "Kempower", lambda: ChargePointFactory(vendor="Kempower"), lambda: ChargePointFactory()),
    ("evse", "E4242", lambda: EvseFactory(evse_id="DE*EVB*E4242*1"), lambda: EvseFactory(evse_id="DE*EVB*E1*1")),
    ("connector", "CP-SOUTH", lambda: ConnectorFactory(evse__charge_point__identity="CP-SOUTH"),
     lambda: ConnectorFactory(evse__charge_point__identity="CP-NORTH")),
    ("chargingsession", "90210", lambda: ChargingSessionFactory(transaction_id="90210"),
     lambda: ChargingSessionFactory(transaction_id="12")),
    ("chargingsession", "DEADBEEF", lambda: ChargingSessionFactory(id_token__uid="DEADBEEF"),
     lambda: ChargingSessionFactory()),
    ("chargingsession", "CP-EAST", lambda: ChargingSessionFactory(connector__evse__charge_point__identity="CP-EAST"),
     lambda: ChargingSessionFactory()),
    ("chargingsession", "Ada Lovelace", lambda: ChargingSessionFactory(id_token__customer__name="Ada Lovelace"),
     lambda: ChargingSessionFactory(id_token__customer__name="Grace Hopper")),
    ("metervalue", "CP-WEST",
     lambda: meter_value(ChargingSessionFactory(connector__evse__charge_point__identity="CP-WEST")),
     lambda: meter_value(ChargingSessionFactory())),
    ("metervalue", "555", lambda: meter_value(ChargingSessionFactory(transaction_id="555")),
     lambda: meter_value(ChargingSessionFactory(transaction_id="5555"))),
]


@pytest.mark.parametrize(("model", "query", "make_hit", "make_miss"), SEARCHES)
def test_search_finds_the_matching_row_only(admin_client, model, query, make_hit, make_miss):
    hit, _miss = make_hit(), make_miss()

    assert rows(admin_client.get(changelist_url(model), {"q": query})) == {hit}


# --- Filters ---------------------------------------------------------------------------------------------

FILTERS = [
    ("location", "country", "Austria", lambda: LocationFactory(country="AT"), lambda: LocationFactory(country="DE")),
    ("location", "is published", "No", lambda: LocationFactory(is_published=False), LocationFactory),
    ("chargepoint", "registration status", "Pending",
     lambda: ChargePointFactory(registration_status="Pending"), ChargePointFactory),
    ("chargepoint", "connected", "Yes", lambda: ChargePointFactory(is_connected=True), ChargePointFactory),
    ("chargepoint", "ocpp version", "OCPP 2.0.1", lambda: ChargePointFactory(ocpp_version="ocpp2.0.1"),
     ChargePointFactory),
    ("chargepoint", "security profile", "2: Basic auth over TLS", lambda: ChargePointFactory(security_profile=2),
     ChargePointFactory),
    ("chargepoint", "country", "Austria", lambda: ChargePointFactory(location__country="AT"), ChargePointFactory),
    ("chargepoint", "vendor", "Kempower", lambda: ChargePointFactory(vendor="Kempower"), ChargePointFactory),
    ("evse", "country", "Austria", lambda: EvseFactory(charge_point__location__country="AT"), EvseFactory),
    ("connector", "status", "Faulted", lambda: ConnectorFactory(status="Faulted"), ConnectorFactory),
    ("connector", "standard", "CHAdeMO", lambda: ConnectorFactory(standard=Connector.Standard.CHADEMO),
     ConnectorFactory),
    ("connector", "power type", "DC", lambda: ConnectorFactory(power_type=Connector.PowerType.DC), ConnectorFactory),
    ("chargingsession", "state", "Completed", completed_session, ChargingSessionFactory),
    ("chargingsession", "stop reason", "Power loss", lambda: completed_session(stop_reason="PowerLoss"),
     completed_session),
    ("chargingsession", "location", "Depot Nord, Berlin",
     lambda: ChargingSessionFactory(connector__evse__charge_point__location__name="Depot Nord"),
     ChargingSessionFactory),
    ("metervalue", "measurand", "SoC", lambda: meter_value(ChargingSessionFactory(), measurand="SoC", unit="Percent"),
     lambda: meter_value(ChargingSessionFactory())),
    ("metervalue", "phase", "L2", lambda: meter_value(ChargingSessionFactory(), phase="L2"),
     lambda: meter_value(ChargingSessionFactory(), phase="L1")),
    ("metervalue", "phase", "not reported", lambda: meter_value(ChargingSessionFactory()),
     lambda: meter_value(ChargingSessionFactory(), phase="L1")),
]


@pytest.mark.parametrize(("model", "title", "choice", "make_hit", "make_miss"), FILTERS)
def test_sidebar_filter_narrows_the_list(admin_client, model, title, choice, make_hit, make_miss):
    hit, _miss = make_hit(), make_miss()
    url = changelist_url(model)

    query_string = filter_link(admin_client.get(url), title, choice)

    assert rows(admin_client.get(url + query_string)) == {hit}


@pytest.mark.parametrize(
    ("model", "make_old", "field"),
    [
        # Sessions have a "started" filter instead (tests/stations/test_dashboard_admin_lists.py): the year
        # links cost a DISTINCT over every session.
        ("metervalue", lambda t: meter_value(ChargingSessionFactory(), timestamp=t), "timestamp"),
    ],
)
def test_date_hierarchy_narrows_the_list_to_a_year(admin_client, model, make_old, field):
    last_year = timezone.now() - timedelta(days=400)
    old = make_old(last_year)
    make_old(timezone.now())
    url = changelist_url(model)
    year_link = f"?{field}__year={last_year.year}"

    assert f'href="{year_link}"' in admin_client.get(url).text
    assert rows(admin_client.get(url + year_link)) == {old}


# --- Bounded queries -------------------------------------------------------------------------------------

BULK_MAKERS = {
    "location": lambda: ChargePointFactory.create_batch(2, location=LocationFactory()),
    "chargepoint": ChargePointFactory,
    "evse": lambda: ConnectorFactory().evse,
    "connector": ConnectorFactory,
    "chargingsession": ChargingSessionFactory,
    "metervalue": session_with_meter_value,
}


def query_count(client, url: str, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.context["cl"].result_count == expected_rows
    return len(queries)


@pytest.mark.parametrize("model", BULK_MAKERS)
def test_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries, model):
    url = changelist_url(model)
    for _ in range(5):
        BULK_MAKERS[model]()
    admin_client.get(url)  # warm the session and content-type caches
    with_five = query_count(admin_client, url, 5)
    for _ in range(20):
        BULK_MAKERS[model]()

    with django_assert_max_num_queries(with_five):
        response = admin_client.get(url)

    assert response.context["cl"].result_count == 25


# --- Locations -------------------------------------------------------------------------------------------


def test_location_list_counts_its_charge_points(admin_client):
    location = LocationFactory()
    ChargePointFactory.create_batch(3, location=location)

    response = admin_client.get(changelist_url("location"))

    assert '<td class="field-charge_point_count">3</td>' in response.text


def test_location_page_links_to_its_charge_points(admin_client):
    charge_point = ChargePointFactory(identity="CP-LINKED")

    response = admin_client.get(reverse("admin:stations_location_change", args=[charge_point.location_id]))

    assert reverse("admin:stations_chargepoint_change", args=[charge_point.pk]) in response.text


# --- Charge points: password, reported fields, registration ---------------------------------------------


def charge_point_form(charge_point: ChargePoint, **changes) -> dict:
    data = {
        "identity": charge_point.identity, "location": charge_point.location_id,
        "registration_status": charge_point.registration_status, "ocpp_version": charge_point.ocpp_version,
        "security_profile": charge_point.security_profile, "new_password": "",
        "evses-TOTAL_FORMS": 0, "evses-INITIAL_FORMS": 0, "evses-MIN_NUM_FORMS": 0, "evses-MAX_NUM_FORMS": 1000,
    }
    return data | changes


def change_url(charge_point: ChargePoint) -> str:
    return reverse("admin:stations_chargepoint_change", args=[charge_point.pk])


def test_new_station_password_set_in_the_admin_is_stored_as_a_hash_the_station_can_log_in_with(admin_client):
    charge_point = ChargePointFactory()
    data = charge_point_form(charge_point, new_password=STATION_PASSWORD)

    response = admin_client.post(change_url(charge_point), data)

    assert response.status_code == 302
    charge_point.refresh_from_db()
    assert charge_point.check_password(STATION_PASSWORD)
    assert STATION_PASSWORD not in charge_point.password_hash


def test_station_password_of_ten_characters_is_refused_with_a_form_error(admin_client):
    charge_point = ChargePointFactory(password=STATION_PASSWORD)

    response = admin_client.post(change_url(charge_point), charge_point_form(charge_point, new_password="0123456789"))

    assert response.status_code == 200
    assert "new_password" in response.context["adminform"].form.errors
    charge_point.refresh_from_db()
    assert charge_point.check_password(STATION_PASSWORD)


def test_blank_password_field_keeps_the_current_password(admin_client):
    charge_point = ChargePointFactory(password=STATION_PASSWORD)
    data = charge_point_form(charge_point, registration_status="Rejected")

    response = admin_client.post(change_url(charge_point), data)

    assert response.status_code == 302
    charge_point.refresh_from_db()
    assert charge_point.registration_status == "Rejected"
    assert charge_point.check_password(STATION_PASSWORD)


def test_station_page_says_whether_a_password_is_set_but_never_shows_its_hash(admin_client):
    with_password = ChargePointFactory(password=STATION_PASSWORD)
    without_password = ChargePointFactory()

    shown = admin_client.get(change_url(with_password)).text
    not_set = admin_client.get(change_url(without_password)).text

    assert '<div class="readonly">yes</div>' in shown
    assert '<div class="readonly">no</div>' in not_set
    assert with_password.password_hash not in shown
    assert with_password.password_hash.split("$")[-1] not in shown


def test_station_can_be_added_with_its_hardware_details_and_password(admin_client):
    location = LocationFactory()
    data = charge_point_form(
        ChargePoint(identity="CP-NEW-1", location=location), new_password=STATION_PASSWORD, vendor="ABB",
        model="Terra AC", serial_number="ABB-123",
    )

    response = admin_client.post(reverse("admin:stations_chargepoint_add"), data)

    assert response.status_code == 302
    added = ChargePoint.objects.get(identity="CP-NEW-1")
    assert (added.vendor, added.serial_number) == ("ABB", "ABB-123")
    assert added.check_password(STATION_PASSWORD)


def test_what_the_station_reported_cannot_be_overwritten_in_the_change_form(admin_client):
    charge_point = ChargePointFactory(vendor="Alfen", firmware_version="4.1.0", is_connected=True)

    admin_client.post(
        change_url(charge_point),
        charge_point_form(charge_point, vendor="Other", firmware_version="9.9", is_connected=""),
    )

    charge_point.refresh_from_db()
    assert (charge_point.vendor, charge_point.firmware_version, charge_point.is_connected) == ("Alfen", "4.1.0", True)


@pytest.mark.parametrize(
    ("action", "expected"), [("accept_registration", "Accepted"), ("reject_registration", "Rejected")]
)
def test_registration_action_decides_the_selected_pending_stations(admin_client, action, expected):
    pending = ChargePointFactory.create_batch(2, registration_status="Pending")
    untouched = ChargePointFactory(registration_status="Pending")

    response = admin_client.post(
        changelist_url("chargepoint"), {"action": action, "_selected_action": [cp.pk for cp in pending]}, follow=True
    )

    assert {cp.registration_status for cp in ChargePoint.objects.filter(pk__in=[cp.pk for cp in pending])} == {expected}
    untouched.refresh_from_db()
    assert untouched.registration_status == "Pending"
    assert "2 stations set to" in response.text


def test_station_page_shows_its_evses_with_their_connectors_and_a_link(admin_client):
    connector = ConnectorFactory(standard=Connector.Standard.CCS2, max_power_w=150_000, status="Available")

    response = admin_client.get(change_url(connector.evse.charge_point))

    assert "CCS (Combo 2) 150 kW (Available)" in response.text
    assert reverse("admin:stations_evse_change", args=[connector.evse_id]) in response.text


# --- EVSEs and connectors --------------------------------------------------------------------------------


def test_connectors_are_added_from_the_evse_page(admin_client):
    evse = EvseFactory()
    data = {
        "charge_point": evse.charge_point_id, "ocpp_evse_id": 1, "evse_id": evse.evse_id, "physical_reference": "A",
        "connectors-TOTAL_FORMS": 1, "connectors-INITIAL_FORMS": 0, "connectors-MIN_NUM_FORMS": 0,
        "connectors-MAX_NUM_FORMS": 1000,
        "connectors-0-ocpp_connector_id": 1, "connectors-0-standard": "CHADEMO", "connectors-0-format": "CABLE",
        "connectors-0-power_type": "DC", "connectors-0-max_voltage_v": 500, "connectors-0-max_amperage_a": 125,
        "connectors-0-max_power_w": 50_000,
    }

    response = admin_client.post(reverse("admin:stations_evse_change", args=[evse.pk]), data)

    assert response.status_code == 302
    assert list(evse.connectors.values_list("standard", "max_power_w")) == [("CHADEMO", 50_000)]


def test_connector_list_shows_power_in_kilowatts(admin_client):
    ConnectorFactory(max_power_w=7_400)

    response = admin_client.get(changelist_url("connector"))

    assert '<td class="field-max_power_kw">7.4</td>' in response.text


# --- Sessions and meter values: read-only ----------------------------------------------------------------


def test_session_admin_refuses_to_add_sessions(admin_client):
    response = admin_client.get(reverse("admin:stations_chargingsession_add"))

    assert response.status_code == 403
    assert reverse("admin:stations_chargingsession_add") not in admin_client.get(changelist_url("chargingsession")).text


def test_session_cannot_be_edited_in_the_admin(admin_client):
    session = completed_session(stop_reason="Local")

    response = admin_client.post(
        reverse("admin:stations_chargingsession_change", args=[session.pk]), {"stop_reason": "Remote"}
    )

    assert response.status_code == 403
    session.refresh_from_db()
    assert session.stop_reason == "Local"


def test_meter_values_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:stations_metervalue_add")).status_code == 403


def test_session_list_shows_energy_in_kwh_and_duration(admin_client):
    completed_session(meter_start_wh=1_000_000, meter_stop_wh=1_012_345)

    response = admin_client.get(changelist_url("chargingsession"))

    assert '<td class="field-energy_kwh">12.345</td>' in response.text
    assert '<td class="field-duration">1:35:00</td>' in response.text


def test_session_page_links_to_its_meter_values_with_their_count(admin_client):
    session, other = ChargingSessionFactory(), ChargingSessionFactory()
    mine = [meter_value(session, timestamp=session.started_at + timedelta(minutes=m)) for m in range(3)]
    meter_value(other)

    page = admin_client.get(reverse("admin:stations_chargingsession_change", args=[session.pk]))
    link = f"{changelist_url('metervalue')}?session__id__exact={session.pk}"

    assert f'<a href="{link}">3 meter values</a>' in page.text
    assert rows(admin_client.get(link)) == set(mine)


def test_session_still_charging_shows_no_energy_or_duration_yet(admin_client):
    session = ChargingSessionFactory()

    page = admin_client.get(reverse("admin:stations_chargingsession_change", args=[session.pk])).text

    assert "None" not in page
    assert page.count('<div class="readonly">-</div>') >= 2
