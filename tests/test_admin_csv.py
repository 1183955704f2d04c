"""Staff export list pages as CSV: the list's columns as they read them, safe to open in a spreadsheet, for
everything that matches, and only where they may view the rows."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse

from evbackoffice.admin import csv_columns, export_as_csv
from stations.models import ChargePoint, ChargingSession
from tests.billing.factories import TariffFactory
from tests.billing.invoice_factories import InvoiceFactory
from tests.billing.loyalty_factories import ChargeDetailRecordFactory
from tests.factories import ChargingSessionFactory, CustomerFactory, IdTokenFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def export(client, app_model: str, *objects, across: bool = False) -> list[list[str]]:
    """Post the action as the list page does: the ticked rows, or with "select all" everything matching."""
    data = {"action": "export_as_csv", "index": 0, "_selected_action": [o.pk for o in objects]}
    if across:
        data["select_across"] = "1"
    response = client.post(reverse(f"admin:{app_model}_changelist"), data)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming and "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_sessions_export_display_values_and_utc_times(admin_client):
    started = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
    session = ChargingSessionFactory(
        started_at=started, stopped_at=started + timedelta(minutes=95), state=ChargingSession.State.COMPLETED,
        meter_start_wh=1_000_000, meter_stop_wh=1_012_345, stop_reason=ChargingSession.StopReason.EV_DISCONNECTED,
    )

    header, row = export(admin_client, "stations_chargingsession", session)

    assert header[:3] == ["Transaction id", "Charge point", "Evse"]
    values = dict(zip(header, row, strict=True))
    assert values["Started at"] == "2026-06-01T19:00:00+00:00"
    assert values["Energy (kWh)"] == "12.345" and values["Duration"] == "1:35:00"
    assert values["State"] == "Completed" and values["Stop reason"] == "Vehicle disconnected"
    assert values["Customer"] == str(session.customer)


def test_select_across_exports_every_matching_row(admin_client):
    customers = [CustomerFactory() for _ in range(3)]

    header, *rows = export(admin_client, "customers_customer", customers[0], across=True)

    assert sorted(row[header.index("Customer number")] for row in rows) == sorted(c.number for c in customers)


def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(admin_client):
    customer = CustomerFactory(name='=HYPERLINK("http://evil.example","click")', email="@sum@example.com")
    IdTokenFactory(customer=customer, uid="-04AA", visual_number="+49 123")

    header, row = export(admin_client, "customers_customer", customer)
    token_header, token_row = export(admin_client, "customers_idtoken", customer.tokens.get())

    assert row[header.index("Name")] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert row[header.index("Email")] == "'@sum@example.com"
    assert token_row[token_header.index("UID")] == "'-04AA"
    assert token_row[token_header.index("Printed number")] == "'+49 123"
    assert token_row[token_header.index("Status")] == "Valid"


def test_money_is_exported_as_plain_decimals(admin_client):
    cdr = ChargeDetailRecordFactory(total_cost_excl_vat=Decimal("9.15"), total_cost_incl_vat=Decimal("10.89"))
    invoice = InvoiceFactory(total_incl_vat=Decimal("-12.50"))  # a negative amount is a number, not a formula

    cdr_header, cdr_row = export(admin_client, "billing_chargedetailrecord", cdr)
    invoice_header, invoice_row = export(admin_client, "billing_invoice", invoice)

    cdr_values = dict(zip(cdr_header, cdr_row, strict=True))
    assert Decimal(cdr_values["Total cost incl vat"]) == Decimal("10.89") and cdr_values["Currency"] == "EUR"
    invoice_values = dict(zip(invoice_header, invoice_row, strict=True))
    assert invoice_values["Total incl vat"] == "-12.50" and invoice_values["Number"] == "(draft)"


def test_tariffs_export_what_drivers_see(admin_client):
    tariff = TariffFactory(name="AC public")

    header, row = export(admin_client, "billing_tariff", tariff)

    values = dict(zip(header, row, strict=True))
    assert values["Name"] == "AC public" and "EUR/kWh" in values["What drivers see"]


def test_staff_without_view_permission_cannot_export(client):
    CustomerFactory(name="Ada Lovelace")
    support = StaffUserFactory(is_superuser=False)
    client.force_login(support)

    response = client.post(reverse("admin:customers_customer_changelist"),
                           {"action": "export_as_csv", "select_across": "1", "index": 0, "_selected_action": [1]})

    assert response.status_code == 403
    request = RequestFactory().post("/")
    request.user = support
    with pytest.raises(PermissionDenied):
        export_as_csv(admin.site._registry[ChargingSession], request, ChargingSession.objects.all())


def test_viewers_may_export(client):
    viewer = StaffUserFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(viewer)
    customer = CustomerFactory(name="Ada Lovelace")

    header, row = export(client, "customers_customer", customer)

    assert row[header.index("Name")] == "Ada Lovelace"


def test_secret_columns_are_never_exported():
    class StationAdmin(admin.ModelAdmin):
        list_display = ("identity", "password_hash", "key", "client_secret")

    request = RequestFactory().get("/")
    request.user = StaffUserFactory()

    assert csv_columns(StationAdmin(ChargePoint, admin.site), request) == ["identity"]
