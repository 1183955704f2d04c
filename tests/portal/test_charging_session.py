"""The session page: live figures and cost so far while charging, the final price and its explanation after,
stopping through the command path, and nobody else's session by id."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.cdrs.estimate import session_cost_estimate
from billing.cdrs.rating import cdr_create_for_session
from billing.models import ChargeDetailRecord
from stations.models import ChargingSession, MeterValue, StationCommand
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.factories import ChargePointFactory, ChargingSessionFactory, ConnectorFactory, EvseFactory, IdTokenFactory
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

ENERGY = MeterValue.Measurand.ENERGY_IMPORT_REGISTER


@pytest.fixture
def tariff():
    """0.39 EUR/kWh + 19 % VAT, everywhere."""
    return TariffAssignmentFactory(tariff=TariffFactory()).tariff


def charging(user, *, minutes=30, energy_wh=10_000, power_w=None, soc=None, connected=True) -> ChargingSession:
    """An active session of `user`'s card that has charged `energy_wh` so far."""
    station = ChargePointFactory(is_connected=connected)
    connector = ConnectorFactory(evse=EvseFactory(charge_point=station))
    start = timezone.now() - timedelta(minutes=minutes)
    session = ChargingSessionFactory(connector=connector, started_at=start, meter_start_wh=1_000_000,
                                     id_token=IdTokenFactory(customer=user.customer, user=user))
    reading(session, start + timedelta(minutes=minutes - 1), 1_000_000 + energy_wh, power_w=power_w, soc=soc)
    return session


def reading(session, at, register_wh, *, power_w=None, soc=None) -> None:
    values = [(ENERGY, register_wh, "Wh")]
    values += [(MeterValue.Measurand.POWER_IMPORT, power_w, "W")] if power_w is not None else []
    values += [(MeterValue.Measurand.SOC, soc, "Percent")] if soc is not None else []
    for measurand, value, unit in values:
        MeterValue.objects.create(session=session, charge_point=session.charge_point, connector=session.connector,
                                  timestamp=at, measurand=measurand, value=value, unit=unit)


def stopped(session, *, energy_wh=None) -> ChargingSession:
    last = session.meter_values.filter(measurand=ENERGY).order_by("-timestamp").first()
    session.state, session.stopped_at = ChargingSession.State.COMPLETED, timezone.now()
    session.meter_stop_wh = session.meter_start_wh + energy_wh if energy_wh is not None else int(last.value)
    session.save()
    return session


def page(client, session):
    return client.get(reverse("portal:session", args=[session.pk]))


# --- cost so far ------------------------------------------------------------------------------------------
def test_cost_so_far_prices_the_energy_until_the_latest_reading_incl_vat(person, tariff):
    session = charging(person, energy_wh=10_000)

    estimate = session_cost_estimate(session)

    assert (estimate.incl_vat, estimate.currency, estimate.energy_wh) == (Decimal("4.64"), "EUR", 10_000)


def test_cost_so_far_is_zero_before_the_first_reading_and_absent_without_a_tariff(person, tariff):
    session = charging(person, energy_wh=0)
    MeterValue.objects.all().delete()
    assert session_cost_estimate(session).incl_vat == Decimal("0.00")

    tariff.assignments.all().delete()
    assert session_cost_estimate(session) is None


def test_cost_so_far_includes_time_and_session_fees_of_the_tariff(person):
    TariffAssignmentFactory(tariff=TariffFactory(elements=[
        {"energy_price": Decimal("0.30"), "energy_vat": Decimal("19"), "flat_price": Decimal("1.00"),
         "flat_vat": Decimal("19"), "time_price": Decimal("1.20"), "time_vat": Decimal("19")}]))
    session = charging(person, minutes=31, energy_wh=10_000, power_w=11_000)

    # 10 kWh x 0.30 + 1.00 + 0.5 h x 1.20 = 4.60 excl. VAT, 5.474 incl.
    assert session_cost_estimate(session).incl_vat == Decimal("5.47")


# --- the page ---------------------------------------------------------------------------------------------
def test_the_live_page_shows_energy_power_soc_and_cost_so_far(person_client, person, tariff):
    session = charging(person, energy_wh=12_345, power_w=11_000, soc=64)

    html = page(person_client, session).content.decode()

    assert "12.345" in html and "11.0" in html and ">64<" in html
    assert "about 5.73 EUR" in html  # 12.345 kWh x 0.4641
    assert f'data-socket-path="/ws/portal/sessions/{session.pk}/"' in html
    assert "session.js" in html and "Stop charging" in html


def test_a_finished_session_shows_the_records_price_and_explanation(person_client, person, tariff):
    session = stopped(charging(person, minutes=90, energy_wh=20_000))
    record = cdr_create_for_session(session_id=session.pk)

    html = page(person_client, session).content.decode()

    assert record is not None
    assert "9.28 EUR" in html  # 20 kWh x 0.4641
    assert record.driver_explanation[0] in html and record.explanation[0] not in html  # incl. VAT, not net
    assert "session.js" not in html and "Stop charging" not in html


def test_a_finished_session_not_rated_yet_says_it_is_being_priced(person_client, person, tariff, monkeypatch):
    monkeypatch.setattr("billing.signals.rate_session.delay_on_commit", lambda *args: None)
    session = stopped(charging(person, energy_wh=5_000))
    assert "being calculated" in page(person_client, session).content.decode()

    ChargingSession.objects.filter(pk=session.pk).update(needs_review=True)
    assert "checking this session" in page(person_client, session).content.decode()


def test_another_customers_session_is_not_found(person_client, other_person, tariff):
    theirs = charging(other_person)
    assert page(person_client, theirs).status_code == 404
    assert person_client.post(reverse("portal:session-stop", args=[theirs.pk])).status_code == 404
    assert not StationCommand.objects.exists()


def test_a_fleet_driver_cannot_open_a_colleagues_session_but_the_manager_can(fleet, tariff):
    managers_session = charging(fleet.manager)
    drivers_session = charging(fleet.driver)

    assert page(signed_in(fleet.driver), managers_session).status_code == 404
    assert page(signed_in(fleet.driver), drivers_session).status_code == 200
    assert page(signed_in(fleet.manager), drivers_session).status_code == 200


# --- stopping -------------------------------------------------------------------------------------------
def test_stop_sends_remote_stop_for_the_sessions_transaction(person_client, person, tariff):
    session = charging(person)

    response = person_client.post(reverse("portal:session-stop", args=[session.pk]), follow=True)

    command = StationCommand.objects.get(action="RemoteStopTransaction")
    assert command.payload == {"transactionId": int(session.transaction_id)}
    assert (command.state, command.requested_by) == ("pending", person)
    assert "Stop requested" in response.content.decode()


def test_stop_at_an_offline_station_says_how_to_stop_instead(person_client, person, tariff):
    session = charging(person, connected=False)
    response = person_client.post(reverse("portal:session-stop", args=[session.pk]), follow=True)
    assert "offline and could not be stopped" in response.content.decode()


def test_stopping_an_ended_session_sends_nothing(person_client, person, tariff):
    session = stopped(charging(person))
    response = person_client.post(reverse("portal:session-stop", args=[session.pk]), follow=True)
    assert "already ended" in response.content.decode()
    assert not StationCommand.objects.exists()


def test_stop_needs_a_post(person_client, person, tariff):
    session = charging(person)
    assert person_client.get(reverse("portal:session-stop", args=[session.pk])).status_code == 405


def test_the_overview_links_the_session_in_progress(person_client, person, tariff):
    session = charging(person)
    assert reverse("portal:session", args=[session.pk]) in person_client.get(reverse("portal:home")).content.decode()


# --- after the end: what the driver reads -------------------------------------------------------------------
@pytest.fixture
def quoted_tariff():
    """Quoted to drivers as 1.00 EUR per session and 0.50 EUR/kWh incl. 19 % VAT (0.8403 and 0.4202 net)."""
    return TariffAssignmentFactory(tariff=TariffFactory(elements=[
        {"energy_price": Decimal("0.4202"), "energy_vat": Decimal("19"), "flat_price": Decimal("0.8403"),
         "flat_vat": Decimal("19")}])).tariff


def test_the_driver_reads_the_price_explanation_incl_vat_with_the_rate_stated_once(
        person_client, person, quoted_tariff):
    session = stopped(charging(person, minutes=90, energy_wh=20_000))
    record = cdr_create_for_session(session_id=session.pk)

    html = page(person_client, session).content.decode()

    assert "11.00 EUR" in html  # 1.00 + 20 kWh x 0.50
    lines = record.driver_explanation
    assert any("flat fee = 1.00 EUR" in line for line in lines)
    assert any("20.000 kWh x 0.50 EUR/kWh = 10.00 EUR" in line for line in lines)
    assert lines[-1] == "Total: 11.00 EUR incl. 19% VAT (1.76 EUR)"
    assert sum("VAT" in line for line in lines) == 1
    assert all(line in html for line in lines) and "0.4202" not in html and "0.84 EUR" not in html
    assert "may differ by a cent" in html


def test_staff_and_the_cdr_api_keep_the_net_explanation(staff_api_client, person, quoted_tariff):
    session = stopped(charging(person, minutes=90, energy_wh=20_000))
    record = cdr_create_for_session(session_id=session.pk)

    lines = staff_api_client.get(f"/api/v1/cdrs/{record.pk}/explanation/").json()["lines"]

    assert lines == record.explanation and any("0.4202 EUR/kWh" in line for line in lines)
    assert any("VAT 19% on" in line for line in lines)


def test_a_record_rated_before_the_drivers_lines_were_stored_is_explained_incl_vat_from_its_totals(
        person_client, person, quoted_tariff):
    session = stopped(charging(person, minutes=90, energy_wh=20_000))
    record = cdr_create_for_session(session_id=session.pk)
    ChargeDetailRecord.objects.filter(pk=record.pk).update(driver_explanation=[])

    html = page(person_client, session).content.decode()

    assert "Session fee: 1.00 EUR" in html and "Energy 20.000 kWh: 10.00 EUR" in html
    assert "Total: 11.00 EUR incl. 19% VAT (1.76 EUR)" in html and "0.4202" not in html


def test_session_times_are_on_the_locations_clock_with_its_zone(person_client, person, tariff):
    session = stopped(charging(person, energy_wh=5_000))
    start = datetime(2026, 1, 15, 23, 37, tzinfo=UTC)  # 00:37 on the 16th in Berlin
    ChargingSession.objects.filter(pk=session.pk).update(started_at=start)

    detail = page(person_client, session).content.decode()
    overview = person_client.get(reverse("portal:home")).content.decode()
    history = person_client.get(reverse("portal:sessions")).content.decode()

    assert "Started Jan. 16, 2026, 12:37 a.m. CET" in detail
    assert "01/16/2026 12:37 a.m. CET" in overview and "01/16/2026 12:37 a.m. CET" in history
    assert "11:37 p.m." not in detail + overview + history
