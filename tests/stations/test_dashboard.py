"""The operator dashboard: who may see it, what its counters and charts say, and that it costs the same
number of queries on a small network and a bigger one."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.urls import reverse

from stations.dashboard.charts import dashboard_charts, load_per_hour_of_day, utilisation_per_location
from stations.dashboard.selectors import Periods, network_counters
from stations.models import ChargingSession
from tests.factories import (
    ChargePointFactory,
    ChargingSessionFactory,
    ConnectorFactory,
    EvseFactory,
    LocationFactory,
    StaffUserFactory,
    UserFactory,
)
from tests.stations.dashboard_helpers import charge_record, finished_session

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("stations:dashboard")
COUNTERS = reverse("stations:dashboard-counters")
CHARTS = reverse("stations:dashboard-charts")
# 2026-03-10 12:00 in Berlin (CET, UTC+1).
NOON = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def staff_with(*codenames: str):
    user = StaffUserFactory(is_superuser=False)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def connector_on(station, number: int = 1, **fields):
    return ConnectorFactory(evse=EvseFactory(charge_point=station, ocpp_evse_id=number), **fields)


# --- access ---------------------------------------------------------------------------------------------
def test_the_dashboard_is_for_signed_in_staff_only(client):
    assert client.get(DASHBOARD).status_code == 302  # to the admin login
    client.force_login(UserFactory())
    assert client.get(DASHBOARD).status_code == 302
    assert client.get(COUNTERS).status_code == 302
    assert client.get(CHARTS).status_code == 302


def test_staff_without_the_station_view_permission_are_refused(client):
    client.force_login(staff_with("view_invoice"))

    assert client.get(DASHBOARD).status_code == 403
    assert client.get(COUNTERS).status_code == 403
    assert client.get(CHARTS).status_code == 403


def test_staff_who_may_not_see_money_get_the_network_without_revenue(client, settings):
    settings.BILLING_TIME_ZONE = "Europe/Berlin"
    session = finished_session(ConnectorFactory(), started_at=datetime.now(UTC) - timedelta(minutes=90),
                               minutes=30, energy_wh=10_000)
    charge_record(session, incl_vat="4.76", excl_vat="4.00")
    client.force_login(staff_with("view_chargepoint"))

    page = client.get(DASHBOARD)
    counters = client.get(COUNTERS).json()

    assert page.status_code == 200 and "Revenue" not in page.content.decode()
    assert "revenue" not in counters and "revenue" not in client.get(CHARTS).json()
    assert counters["sessions"]["started_today"] + counters["sessions"]["started_month"] >= 1


def test_staff_who_may_see_charge_records_see_revenue(client):
    session = finished_session(ConnectorFactory(), started_at=datetime.now(UTC) - timedelta(minutes=90),
                               minutes=30, energy_wh=10_000)
    charge_record(session, incl_vat="4.76", excl_vat="4.00")
    client.force_login(staff_with("view_chargepoint", "view_chargedetailrecord"))

    page = client.get(DASHBOARD).content.decode()

    assert "Revenue" in page and "4.76" in page and "chart.umd.js" in page and "dashboard.js" in page


def test_the_admin_index_links_to_the_dashboard_for_staff_who_may_see_the_network(client):
    client.force_login(staff_with("view_chargepoint"))
    assert DASHBOARD in client.get(reverse("admin:index")).content.decode()

    client.force_login(staff_with("view_invoice"))
    assert DASHBOARD not in client.get(reverse("admin:index")).content.decode()


# --- counters --------------------------------------------------------------------------------------------
def test_counters_show_stations_and_connectors_as_drivers_find_them():
    online = ChargePointFactory(is_connected=True)
    connector_on(online, 1, status="Available")
    connector_on(online, 2, status="Charging")
    faulty = ChargePointFactory(is_connected=True)
    connector_on(faulty, 1, status="Faulted", error_code="GroundFailure")
    connector_on(faulty, 2, status="Preparing")
    offline = ChargePointFactory(is_connected=False)
    connector_on(offline, 1, status="Available")  # its last word, but nobody can charge there now

    counters = network_counters(periods=Periods.at(NOON))

    assert counters["stations"] == {"total": 3, "online": 2, "offline": 1, "faulted": 1}
    assert counters["connectors"] == {"total": 5, "available": 1, "charging": 1, "occupied": 1,
                                      "unavailable": 2, "faulted": 1}


def test_today_and_this_month_are_the_operators_days_not_utc_days(settings):
    settings.BILLING_TIME_ZONE = "Europe/Berlin"
    connector = ConnectorFactory()
    # 23:30 UTC on 9 March is 00:30 on 10 March in Berlin: today there.
    finished_session(connector, started_at=datetime(2026, 3, 9, 23, 30, tzinfo=UTC), minutes=60, energy_wh=7_000)
    # 22:30 UTC on 9 March is still 9 March in Berlin: this month, not today.
    finished_session(connector, started_at=datetime(2026, 3, 9, 22, 30, tzinfo=UTC), minutes=30, energy_wh=5_000)
    # 23:30 UTC on 28 February is 1 March in Berlin: this month.
    finished_session(connector, started_at=datetime(2026, 2, 28, 23, 30, tzinfo=UTC), minutes=30, energy_wh=3_000)
    finished_session(connector, started_at=datetime(2026, 2, 28, 22, 30, tzinfo=UTC), minutes=30, energy_wh=1_000)
    ChargingSessionFactory(connector=ConnectorFactory(), started_at=NOON - timedelta(minutes=5))

    sessions = network_counters(periods=Periods.at(NOON))["sessions"]

    assert sessions == {"active": 1, "started_today": 2, "started_month": 4,
                        "energy_today_wh": 7_000, "energy_month_wh": 15_000}


def test_revenue_is_per_currency_incl_and_excl_vat_and_net_of_credit_records():
    connector = ConnectorFactory()
    today = finished_session(connector, started_at=NOON - timedelta(hours=2), minutes=30, energy_wh=10_000)
    earlier = finished_session(connector, started_at=NOON - timedelta(days=3), minutes=30, energy_wh=10_000)
    credited = finished_session(connector, started_at=NOON - timedelta(days=2), minutes=30, energy_wh=10_000)
    abroad = finished_session(connector, started_at=NOON - timedelta(hours=1), minutes=30, energy_wh=10_000)
    charge_record(today, incl_vat="5.95", excl_vat="5.00")
    charge_record(earlier, incl_vat="11.90", excl_vat="10.00")
    charge_record(credited, incl_vat="2.38", excl_vat="2.00", credit_of=charge_record(
        credited, incl_vat="2.38", excl_vat="2.00"))
    charge_record(abroad, incl_vat="8.10", excl_vat="7.50", currency="CHF")

    revenue = network_counters(periods=Periods.at(NOON))["revenue"]

    assert revenue == [
        {"currency": "CHF", "today_incl_vat": "8.10", "today_excl_vat": "7.50",
         "month_incl_vat": "8.10", "month_excl_vat": "7.50"},
        {"currency": "EUR", "today_incl_vat": "5.95", "today_excl_vat": "5.00",
         "month_incl_vat": "17.85", "month_excl_vat": "15.00"},
    ]


def test_counters_json_brings_the_status_board_when_asked(admin_client):
    station = ChargePointFactory(identity="CP-BOARD", is_connected=True)
    connector = connector_on(station, 1, status="Charging")

    plain = admin_client.get(COUNTERS).json()
    with_board = admin_client.get(COUNTERS, {"board": "1"}).json()

    assert "board" not in plain
    assert with_board["board"] == [{"id": station.pk, "identity": "CP-BOARD", "connected": True,
                                    "status": "Unknown", "location": station.location.name,
                                    "connectors": [[connector.pk, 1, "Charging", ""]]}]


# --- charts --------------------------------------------------------------------------------------------
def test_charts_count_sessions_energy_and_revenue_per_local_day_over_thirty_days(settings):
    settings.BILLING_TIME_ZONE = "Europe/Berlin"
    connector = ConnectorFactory()
    late = finished_session(connector, started_at=datetime(2026, 3, 9, 23, 30, tzinfo=UTC), minutes=60,
                            energy_wh=7_500)
    finished_session(connector, started_at=datetime(2026, 3, 9, 10, 0, tzinfo=UTC), minutes=60, energy_wh=2_000)
    finished_session(connector, started_at=datetime(2026, 2, 1, 10, 0, tzinfo=UTC), minutes=60, energy_wh=9_000)
    charge_record(late, incl_vat="3.57", excl_vat="3.00")

    charts = dashboard_charts(periods=Periods.at(NOON))

    assert len(charts["days"]) == 30 and charts["days"][-1] == "2026-03-10" and charts["days"][0] == "2026-02-09"
    assert charts["sessions"][-2:] == [1, 1] and sum(charts["sessions"]) == 2
    assert charts["energy_kwh"][-2:] == [2.0, 7.5]
    assert charts["revenue"]["EUR"]["incl_vat"][-1] == "3.57" and charts["revenue"]["EUR"]["excl_vat"][-1] == "3.00"


def test_utilisation_is_the_share_of_connector_hours_occupied_in_the_last_seven_days():
    busy, quiet = LocationFactory(name="Busy park"), LocationFactory(name="Quiet park")
    busy_station = ChargePointFactory(location=busy)
    first, _second = connector_on(busy_station, 1), connector_on(busy_station, 2)
    connector_on(ChargePointFactory(location=quiet), 1)
    # 42 h occupied in the window (one session straddles its start by two hours), 2 connectors x 168 h.
    finished_session(first, started_at=NOON - timedelta(days=7, hours=2), minutes=4 * 60, energy_wh=20_000)
    finished_session(first, started_at=NOON - timedelta(days=3), minutes=30 * 60, energy_wh=50_000)
    ChargingSessionFactory(connector=first, started_at=NOON - timedelta(hours=10))
    finished_session(first, started_at=NOON - timedelta(days=20), minutes=600, energy_wh=1_000)  # outside

    utilisation = utilisation_per_location(Periods.at(NOON))

    assert [(row["name"], row["connectors"], row["percent"]) for row in utilisation] == [
        ("Busy park", 2, round(100 * 42 / 336, 1)), ("Quiet park", 1, 0.0)]


def test_load_per_hour_spreads_each_sessions_energy_over_the_local_hours_it_touched(settings):
    settings.BILLING_TIME_ZONE = "Europe/Berlin"
    connector = ConnectorFactory()
    # 17:00-19:00 UTC is 18:00-20:00 in Berlin: hours 18 and 19, 7 kWh each.
    finished_session(connector, started_at=NOON - timedelta(days=1, hours=-6), minutes=120, energy_wh=14_000)
    # Over midnight, 22:30-01:30 UTC = 23:30-02:30 Berlin: hours 23, 0, 1, 2 at 1 kWh each.
    finished_session(connector, started_at=datetime(2026, 3, 7, 22, 30, tzinfo=UTC), minutes=180, energy_wh=4_000)

    load = load_per_hour_of_day(Periods.at(NOON))

    kwh_per_hour = {hour: kw * 7 for hour, kw in enumerate(load["average_kw"]) if kw}
    assert kwh_per_hour == pytest.approx({18: 7.0, 19: 7.0, 23: 1.0, 0: 1.0, 1: 1.0, 2: 1.0}, abs=0.05)
    assert load["sessions_started"][18] == round(1 / 7, 1) and load["sessions_started"][23] == round(1 / 7, 1)


# --- cost --------------------------------------------------------------------------------------------------
def grow_network(stations: int, sessions_per_connector: int) -> None:
    now = datetime.now(UTC)
    for n in range(stations):
        station = ChargePointFactory(is_connected=n % 2 == 0, location=LocationFactory())
        for number in (1, 2):
            connector = connector_on(station, number, status="Available")
            for k in range(sessions_per_connector):
                session = finished_session(connector, started_at=now - timedelta(days=k, hours=3), minutes=45,
                                           energy_wh=8_000)
                charge_record(session, incl_vat="3.57", excl_vat="3.00")


def test_the_dashboard_costs_the_same_queries_for_a_small_and_a_bigger_network(admin_client,
                                                                                django_assert_max_num_queries):
    cache.clear()
    grow_network(stations=2, sessions_per_connector=1)
    with django_assert_max_num_queries(14) as small:
        assert admin_client.get(DASHBOARD).status_code == 200
    with django_assert_max_num_queries(14) as small_charts:
        assert sum(admin_client.get(CHARTS).json()["sessions"]) == 4
    grow_network(stations=8, sessions_per_connector=4)
    cache.clear()
    with django_assert_max_num_queries(len(small.captured_queries)) as bigger:
        page = admin_client.get(DASHBOARD)
    with django_assert_max_num_queries(len(small_charts.captured_queries)):
        assert sum(admin_client.get(CHARTS).json()["sessions"]) == 4 + 64

    board = json.loads(page.content.decode().split('id="dashboard-board" type="application/json">')[1]
                       .split("</script>")[0])
    assert len(board) == 10 and len(bigger.captured_queries) == len(small.captured_queries)
    assert ChargingSession.objects.count() == 4 + 64
