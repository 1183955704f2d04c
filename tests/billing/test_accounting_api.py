"""GET /api/v1/invoices/: read-only, for staff who may view invoices; filters; detail with lines and the
permission-checked PDF link."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from billing.models import Invoice
from tests.billing.test_accounting_helpers import (
    accountant,
    credit,
    document,
    pdf_attach,
    private_storage_in,
)
from tests.factories import CustomerFactory, UserFactory

URL = "/api/v1/invoices/"



@pytest.fixture
def private_storage(db, settings, tmp_path):
    return private_storage_in(settings, tmp_path)

@pytest.fixture
def accountant_api(db):
    client = APIClient()
    client.force_login(accountant())  # a session, so the PDF link (a plain Django view) accepts it too
    return client


def _numbers(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["number"] for row in response.json()["results"]}


def test_accountant_lists_invoices_with_status_customer_and_totals(accountant_api):
    invoice = document(nets=[("19", "10.00")])

    row = accountant_api.get(URL).json()["results"][0]

    assert row["number"] == invoice.number and row["kind"] == "invoice" and row["status"] == "overdue"
    assert row["customer"] == {"id": invoice.customer_id, "number": invoice.customer.number,
                               "name": invoice.customer.name}
    assert (row["total_excl_vat"], row["total_vat"], row["total_incl_vat"], row["currency"]) == (10, 1.9, 11.9, "EUR")
    assert row["pdf_url"] is None


def test_filters_by_number_customer_kind_period_and_issue_dates(accountant_api):
    june = document(period_start=date(2026, 6, 1), period_end=date(2026, 7, 1), issue_date=date(2026, 7, 1))
    may = document(june.customer, period_start=date(2026, 5, 1), period_end=date(2026, 6, 1),
                   issue_date=date(2026, 6, 1))
    other = document(issue_date=date(2026, 7, 3))
    note = credit(other)

    assert _numbers(accountant_api.get(URL, {"number": june.number})) == {june.number}
    assert _numbers(accountant_api.get(URL, {"customer": june.customer_id})) == {june.number, may.number}
    assert _numbers(accountant_api.get(URL, {"customer": june.customer.number})) == {june.number, may.number}
    assert _numbers(accountant_api.get(URL, {"kind": "credit_note"})) == {note.number}
    assert _numbers(accountant_api.get(URL, {"period": "2026-05"})) == {may.number}
    assert _numbers(accountant_api.get(URL, {"issued_from": "2026-06-15", "issued_to": "2026-07-01"})) == {
        june.number}


def test_status_filter_paid_overdue_credited(accountant_api):
    paid, overdue, credited = document(), document(), document()
    Invoice.objects.filter(pk=paid.pk).update(paid_at=datetime(2026, 7, 2, tzinfo=UTC))
    credit(credited)

    assert _numbers(accountant_api.get(URL, {"status": "paid"})) == {paid.number}
    assert _numbers(accountant_api.get(URL, {"status": "overdue"})) == {overdue.number}
    assert _numbers(accountant_api.get(URL, {"status": "credited"})) == {credited.number}


def test_invalid_filters_are_answered_400_naming_the_parameter(accountant_api):
    for params, key in [({"status": "late"}, "status"), ({"period": "2026-13"}, "period"),
                        ({"issued_from": "yesterday"}, "issued_from")]:
        response = accountant_api.get(URL, params)
        assert response.status_code == 400 and key in response.json(), params


def test_detail_has_lines_vat_breakdown_and_the_permission_checked_pdf_link(accountant_api, private_storage):
    invoice = document(nets=[("19", "10.00"), ("7", "5.00")])
    content = pdf_attach(invoice)

    detail = accountant_api.get(f"{URL}{invoice.pk}/").json()

    assert [line["net_amount"] for line in detail["lines"]] == [10, 5]
    assert {(row["rate"], row["excl_vat"], row["vat"]) for row in detail["vat_breakdown"]} == {
        (19, 10, 1.9), (7, 5, 0.35)}
    assert detail["pdf_url"] == f"http://testserver/accounting/invoices/{invoice.pk}/pdf/"
    assert detail["buyer"]["name"] == invoice.customer.name
    download = accountant_api.get(detail["pdf_url"])
    assert download.content == content


def test_nothing_is_created_changed_or_deleted_through_the_api(accountant_api, staff_api_client):
    invoice = document()

    for client in (accountant_api, staff_api_client):
        assert client.post(URL, {}, format="json").status_code == 405
        assert client.patch(f"{URL}{invoice.pk}/", {"paid_at": None}, format="json").status_code == 405
        assert client.delete(f"{URL}{invoice.pk}/").status_code == 405


def test_staff_without_the_view_permission_and_drivers_are_refused(api_client, db):
    invoice = document()
    for user in (UserFactory(is_staff=True), UserFactory(customer=invoice.customer)):
        api_client.force_authenticate(user)
        assert api_client.get(URL).status_code == 403
        assert api_client.get(f"{URL}{invoice.pk}/").status_code == 403


def test_anonymous_is_asked_to_authenticate(api_client, db):
    assert api_client.get(URL).status_code == 401


def test_list_takes_the_same_number_of_queries_for_one_invoice_as_for_many(accountant_api):
    document()
    with CaptureQueriesContext(connection) as with_one:
        accountant_api.get(URL)
    for _ in range(4):
        credit(document(CustomerFactory()), amount="1.00")

    with CaptureQueriesContext(connection) as with_nine:
        response = accountant_api.get(URL)

    assert response.json()["count"] == 9
    assert len(with_nine) == len(with_one)


def test_accountant_cannot_send_station_commands_or_read_stations_through_the_api(accountant_api):
    from stations.models import StationCommand
    from tests.factories import ChargePointFactory

    station = ChargePointFactory(is_connected=False)

    sent = accountant_api.post(f"/api/v1/charge-points/{station.identity}/commands/", {"action": "ClearCache"},
                               format="json")

    assert sent.status_code == 403 and not StationCommand.objects.exists()
    assert accountant_api.get("/api/v1/charge-points/").status_code == 403
