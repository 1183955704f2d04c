"""`manage.py seed_demo`: the demo network it writes, that a second run changes nothing, and that it refuses
to run against what looks like a production database.

A full run writes some 25,000 rows, so the module seeds the test database once and every test looks at (or
re-runs the command over) that data inside its own rolled-back transaction.
"""

import io
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db.models import Count, Max
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.models import ChargeDetailRecord, Invoice
from customers.models import Customer, IdToken, User
from stations import demo
from stations.models import ChargePoint, ChargingSession, Connector, ConnectorStatus, Evse, Location, MeterValue
from tests.conftest import FAST_HASHERS

pytestmark = pytest.mark.django_db

MODELS = [Location, ChargePoint, Evse, Connector, Customer, User, IdToken, ChargingSession, MeterValue, Group]
# pytest-django runs tests with DEBUG off, which the command refuses; MD5 keeps password hashing fast.
DEMO_SETTINGS = {"DEBUG": True, "PASSWORD_HASHERS": FAST_HASHERS}


def seed_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def first_run(django_db_setup, django_db_blocker):
    """Seeds the test database once for this module (committed), and empties it again afterwards."""
    with django_db_blocker.unblock(), override_settings(**DEMO_SETTINGS):
        output = seed_demo()
    yield output
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def demo_settings(first_run, settings):
    for name, value in DEMO_SETTINGS.items():
        setattr(settings, name, value)


def snapshot() -> dict[str, tuple[int, object]]:
    """Row count and latest change of every table the command writes."""
    result = {}
    for model in MODELS:
        latest = model.objects.aggregate(latest=Max("updated_at"))["latest"] if hasattr(model, "updated_at") else None
        result[model.__name__] = (model.objects.count(), latest)
    return result


def test_creates_a_network_of_about_twenty_stations_in_two_countries():
    assert set(Location.objects.values_list("country", flat=True)) == {"DE", "AT"}
    assert set(Location.objects.values_list("time_zone", flat=True)) == {"Europe/Berlin", "Europe/Vienna"}
    assert Location.objects.values("city").distinct().count() >= 5
    assert 18 <= ChargePoint.objects.count() <= 25
    assert not ChargePoint.objects.annotate(n=Count("evses")).filter(n=0).exists()
    assert not Evse.objects.annotate(n=Count("connectors")).filter(n=0).exists()
    # OCPP 1.6 maps connector N to EVSE N, so its stations have one connector per EVSE.
    assert not Evse.objects.filter(charge_point__ocpp_version=ChargePoint.OcppVersion.V16).annotate(
        n=Count("connectors")).filter(n__gt=1).exists()
    assert set(Connector.objects.values_list("standard", flat=True)) >= {
        Connector.Standard.TYPE2, Connector.Standard.CCS2, Connector.Standard.CHADEMO}
    registrations = list(ChargePoint.objects.values_list("registration_status", flat=True))
    assert 1 <= registrations.count(ChargePoint.RegistrationStatus.PENDING) <= 2
    # Connection state is never invented: a station is connected only while its websocket is open.
    assert not ChargePoint.objects.filter(is_connected=True).exists()
    assert ChargePoint.objects.filter(last_seen_at__isnull=False).count() > ChargePoint.objects.count() // 2


def test_demo_objects_pass_the_model_validators():
    for model in (Location, ChargePoint, Evse, Connector, Customer, IdToken):
        for obj in model.objects.all():
            obj.full_clean()
    simulator = ChargePoint.objects.get(identity=demo.SIMULATOR_STATION)
    assert simulator.security_profile == ChargePoint.SecurityProfile.BASIC
    assert simulator.check_password(demo.DEMO_STATION_PASSWORD)


def test_creates_private_and_company_customers_with_cards_in_every_state():
    companies = Customer.objects.filter(kind=Customer.Kind.COMPANY)
    assert 2 <= companies.count() <= 3
    for company in companies:
        assert company.vat_id[:2] == company.country.code
        assert company.users.count() >= 3
        assert company.users.filter(fleet_role=User.FleetRole.MANAGER).count() == 1
    assert Customer.objects.filter(kind=Customer.Kind.PERSON).count() >= 5
    assert Customer.objects.filter(status=Customer.Status.SUSPENDED).count() == 1
    assert IdToken.objects.filter(status=IdToken.Status.BLOCKED).count() == 1
    expired = IdToken.objects.get(status=IdToken.Status.EXPIRED)
    assert expired.expires_at < timezone.now()
    assert IdToken.objects.exclude(contract_id="").count() >= 3
    assert not Customer.objects.annotate(n=Count("tokens")).filter(n=0).exists()


def test_creates_a_month_of_sessions_with_meter_values():
    now = timezone.now()

    completed = ChargingSession.objects.filter(state=ChargingSession.State.COMPLETED)
    assert completed.count() >= 300
    assert not completed.filter(started_at__lt=now - timedelta(days=31)).exists()
    assert completed.filter(started_at__lt=now - timedelta(days=25)).exists()
    assert completed.filter(stopped_at__gt=now - timedelta(days=1)).exists()
    for session in completed.select_related("connector"):
        kwh, minutes = session.energy_wh / 1000, session.duration_s / 60
        if session.connector.power_type == Connector.PowerType.DC:
            assert 15 <= kwh <= 70 and 15 <= minutes <= 60, session
        else:
            assert 5 <= kwh <= 40 and 60 <= minutes <= 480, session
    assert set(completed.values_list("stop_reason", flat=True)) >= {"EVDisconnected", "Local", "Remote"}
    assert not completed.annotate(n=Count("meter_values")).filter(n__lt=4).exists()

    session = completed.filter(connector__power_type=Connector.PowerType.DC).first()
    energy = list(session.meter_values.filter(measurand=MeterValue.Measurand.ENERGY_IMPORT_REGISTER)
                  .order_by("timestamp").values_list("value", flat=True))
    assert energy[0] == session.meter_start_wh and energy[-1] == session.meter_stop_wh
    assert energy == sorted(energy)
    assert session.meter_values.filter(measurand=MeterValue.Measurand.SOC, unit="%").exists()
    assert session.meter_values.filter(measurand=MeterValue.Measurand.POWER_IMPORT, unit="W").exists()


def test_active_sessions_are_the_charging_connectors():
    active = ChargingSession.objects.filter(state=ChargingSession.State.ACTIVE)
    charging = Connector.objects.filter(status=ConnectorStatus.CHARGING)
    assert 3 <= active.count() <= 6
    assert set(active.values_list("connector", flat=True)) == set(charging.values_list("id", flat=True))
    assert not active.values("connector").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not active.exclude(charge_point__registration_status=ChargePoint.RegistrationStatus.ACCEPTED).exists()
    assert not ChargingSession.objects.values("charge_point", "transaction_id").annotate(
        n=Count("id")).filter(n__gt=1).exists()


def test_the_ocpp_server_continues_the_transaction_ids_of_ocpp16_stations():
    stations = ChargePoint.objects.filter(ocpp_version=ChargePoint.OcppVersion.V16, sessions__isnull=False)
    for station in stations.distinct():
        ids = [int(tid) for tid in station.sessions.values_list("transaction_id", flat=True)]
        assert sorted(ids) == list(range(1, station.last_transaction_id + 1)), station


def test_only_sessions_started_with_unknown_cards_wait_for_review():
    sessions = ChargingSession.objects.all()

    assert set(sessions.filter(id_token__isnull=False).values_list("id_tag_status", flat=True)) == {"Accepted"}
    assert set(sessions.filter(needs_review=True).values_list("id_tag_status", flat=True)) <= {"Invalid"}
    assert not sessions.filter(id_token__isnull=True, needs_review=False).exists()


def test_prints_the_demo_logins_and_where_to_use_them(first_run):
    output = first_run

    assert output.startswith("Demo data created in")
    assert "Demo logins" in output
    for username in ("admin", "operator", "support", "accountant", "driver", "fleetmanager"):
        user = User.objects.get(username=username)
        assert user.check_password(demo.DEMO_LOGIN_PASSWORD)
        # Drivers sign in to the portal with their e-mail address, which is verified; staff with the username.
        assert f"  {user.email if username in demo.DRIVER_LOGINS else username} " in output
    assert demo.DEMO_LOGIN_PASSWORD in output
    assert User.objects.get(username="admin").is_superuser
    operator = User.objects.get(username="operator")
    assert operator.is_staff and not operator.is_superuser and operator.has_perm("stations.view_chargepoint")
    assert [g.name for g in User.objects.get(username="support").groups.all()] == ["Support"]
    assert User.objects.get(username="driver").customer.kind == Customer.Kind.PERSON
    assert EmailAddress.objects.get(user__username="driver").verified
    assert demo.DEMO_TOTP_KEY_BASE32 in output and TOTPDevice.objects.filter(user=operator, confirmed=True).exists()
    for _, number, code in demo.STOCK_CARDS:
        assert number in output and code in output
    assert User.objects.get(username="fleetmanager").fleet_role == User.FleetRole.MANAGER
    assert "http://127.0.0.1:8000/admin/" in output and "/api/v1/" in output and "/api/docs/" in output
    assert f"{demo.SIMULATOR_STATION} / {demo.DEMO_STATION_PASSWORD}" in output


def test_second_run_changes_nothing():
    before = snapshot()

    output = seed_demo()

    assert snapshot() == before
    assert "nothing changed" in output
    assert "Demo logins" in output


def test_a_rerun_keeps_the_password_of_an_account_changed_since():
    admin = User.objects.get(username="admin")
    admin.set_password("someone-elses-password")
    admin.save()

    output = seed_demo()

    assert User.objects.get(username="admin").check_password("someone-elses-password")
    assert "(its own password)" in output


def test_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    before = snapshot()

    with pytest.raises(CommandError, match="DEBUG is off"):
        seed_demo()

    assert snapshot() == before


def test_runs_with_force_when_debug_is_off(settings):
    settings.DEBUG = False

    output = seed_demo("--force")

    assert "nothing changed" in output


def test_every_finished_demo_session_is_priced_or_waits_for_review():
    finished = ChargingSession.objects.filter(state=ChargingSession.State.COMPLETED)
    unpriced = finished.filter(cdrs__isnull=True)

    assert ChargeDetailRecord.objects.count() > 800
    assert not unpriced.filter(needs_review=False).exists()
    assert all(reason.startswith("Started with an id tag we answered")
               for reason in unpriced.values_list("review_reason", flat=True))


def test_demo_prices_follow_the_assignments_members_get_their_discount_and_fleets_their_deal():
    records = ChargeDetailRecord.objects.select_related("tariff", "customer")
    member = records.filter(customer__users__username="driver").first()
    fleet = records.filter(customer__name="Spreewerk Logistik GmbH").first()

    assert member.discounts and member.discounts[0]["kind"] == "membership"
    assert member.total_cost_incl_vat < member.tariff_cost_incl_vat
    assert fleet.tariff.name == "Fleet Germany"
    assert {r.tariff.name for r in records.filter(location__country="AT")} <= {"AC Austria", "DC Austria"}


def test_the_last_closed_month_is_invoiced_numbered_and_rendered():
    invoices = Invoice.objects.filter(kind=Invoice.Kind.INVOICE).order_by("number")

    assert invoices.exists() and all(invoice.is_issued and invoice.pdf_sha256 for invoice in invoices)
    assert [invoice.number[-6:] for invoice in invoices] == [f"{n:06d}" for n in range(1, invoices.count() + 1)]
    assert all(invoice.einvoice == (invoice.customer.kind == "company") for invoice in invoices)
