"""The accountants' pages under /accounting/: who gets in, search, filters, totals, and the one PDF download
view that accountants and (through the portal) drivers share."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Invoice
from stations.models import StationCommand
from tests.billing.test_accounting_helpers import (
    accountant,
    credit,
    document,
    pdf_attach,
    private_storage_in,
)
from tests.factories import ChargePointFactory, CustomerFactory, UserFactory

LIST = "/accounting/"
PAID_AT = datetime(2026, 7, 5, 9, 0, tzinfo=UTC)


def _pdf_url(invoice) -> str:
    return reverse("accounting:invoice-pdf", args=[invoice.pk])


def _numbers(response) -> list[str]:
    return [invoice.number for invoice in response.context["page"]]



@pytest.fixture
def private_storage(db, settings, tmp_path):
    return private_storage_in(settings, tmp_path)

@pytest.fixture
def accountant_client(client, db):
    client.force_login(accountant())
    return client


# --- who gets in ------------------------------------------------------------------------------------------
def test_accountant_sees_the_invoice_list_with_a_download_link(accountant_client, private_storage):
    invoice = document()
    pdf_attach(invoice)

    response = accountant_client.get(LIST)

    assert response.status_code == 200
    assert invoice.number in response.content.decode()
    assert _pdf_url(invoice) in response.content.decode()


def test_accountant_is_refused_the_station_admin_and_its_command_page(accountant_client):
    charge_point = ChargePointFactory()

    assert accountant_client.get(reverse("admin:stations_chargepoint_changelist")).status_code == 403
    command_page = reverse("admin:stations_chargepoint_command", args=[charge_point.pk])
    refused = accountant_client.post(command_page, {"action": "Reset", "payload": '{"type": "Soft"}'})
    assert refused.status_code == 403
    assert not StationCommand.objects.exists()
    change_page = reverse("admin:stations_chargepoint_change", args=[charge_point.pk])
    assert accountant_client.get(change_page).status_code == 403


def test_accountant_can_read_customers_in_the_admin_but_not_change_them(accountant_client):
    customer = CustomerFactory()

    page = accountant_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_anonymous_visitor_is_sent_to_sign_in_for_the_list_and_for_a_pdf(client, db):
    invoice = document()

    for url in (LIST, _pdf_url(invoice), reverse("accounting:journal-csv"), reverse("accounting:invoice-zip")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "login" in response["Location"] and "next=" in response["Location"]


def test_driver_and_staff_without_the_permission_are_refused_the_list(client, db):
    for user in (UserFactory(customer=CustomerFactory()), UserFactory(is_staff=True)):
        client.force_login(user)
        assert client.get(LIST).status_code == 403
        assert client.get(reverse("accounting:journal-csv")).status_code == 403


# --- one PDF ----------------------------------------------------------------------------------------------
def test_driver_downloads_the_pdf_of_their_own_invoice_named_by_its_number(client, private_storage):
    invoice = document()
    content = pdf_attach(invoice)
    client.force_login(UserFactory(customer=invoice.customer))

    response = client.get(_pdf_url(invoice))

    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert "no-store" in response["Cache-Control"]


def test_driver_guessing_ids_gets_the_same_404_for_another_customers_invoice_as_for_none(client, private_storage):
    own, other = document(), document()
    pdf_attach(own), pdf_attach(other)
    client.force_login(UserFactory(customer=own.customer))

    someone_elses = client.get(_pdf_url(other))
    nobodys = client.get(reverse("accounting:invoice-pdf", args=[other.pk + 1000]))

    assert someone_elses.status_code == nobodys.status_code == 404
    assert someone_elses.content == nobodys.content
    assert other.number.encode() not in someone_elses.content


def test_driver_gets_404_for_a_draft_of_their_own_account(client, db):
    from tests.billing.invoice_factories import InvoiceFactory

    draft = InvoiceFactory()
    client.force_login(UserFactory(customer=draft.customer))

    assert client.get(_pdf_url(draft)).status_code == 404


def test_a_pdf_not_rendered_yet_is_404_with_a_message_saying_so(accountant_client, db):
    invoice = document()

    response = accountant_client.get(_pdf_url(invoice))

    assert response.status_code == 404
    assert "not available yet" in response.content.decode()
    assert "Not rendered yet" in response.content.decode()


def test_driver_is_told_when_their_invoice_pdf_is_not_ready_without_staff_details(client, db):
    invoice = document()
    client.force_login(UserFactory(customer=invoice.customer))

    response = client.get(_pdf_url(invoice))

    assert response.status_code == 404
    assert "not available yet" in response.content.decode()
    assert "Not rendered yet" not in response.content.decode() and "admin" not in response.content.decode()


def test_accountant_downloads_any_customers_pdf(accountant_client, private_storage):
    invoice = document()
    pdf_attach(invoice)

    assert accountant_client.get(_pdf_url(invoice)).status_code == 200


# --- search, filters, totals ------------------------------------------------------------------------------
def test_search_finds_by_number_customer_name_and_customer_number(accountant_client):
    wanted = document(CustomerFactory(name="Ada Lovelace"))
    other = document(CustomerFactory(name="Charles Babbage"))

    for term in (wanted.number, "lovelace", wanted.customer.number):
        numbers = _numbers(accountant_client.get(LIST, {"q": term}))
        assert wanted.number in numbers and other.number not in numbers, term


@pytest.mark.parametrize("state", ["issued", "overdue", "paid", "credited"])
def test_status_filter_selects_exactly_the_invoices_in_that_state(accountant_client, state, settings):
    # Issued 2026-07-01 and due 14 days later: "today" decides between open and overdue.
    due_later, overdue = document(issue_date=date(2099, 1, 1)), document()
    paid = document()
    Invoice.objects.filter(pk=paid.pk).update(paid_at=PAID_AT)
    credited = document()
    credit(credited)
    partly_credited = document(nets=[("19", "30.00")])
    credit(partly_credited, amount="5.00")
    expected = {"issued": {due_later}, "overdue": {overdue, partly_credited}, "paid": {paid},
                "credited": {credited}}[state]

    response = accountant_client.get(LIST, {"state": state})

    assert set(_numbers(response)) == {invoice.number for invoice in expected}
    assert {row.state for row in response.context["page"]} == {state}


def test_kind_period_and_customer_filters(accountant_client):
    june = document(period_start=date(2026, 6, 1), period_end=date(2026, 7, 1))
    may = document(june.customer, period_start=date(2026, 5, 1), period_end=date(2026, 6, 1))
    stranger = document(period_start=date(2026, 6, 1), period_end=date(2026, 7, 1))
    note = credit(june)

    assert set(_numbers(accountant_client.get(LIST, {"period": "2026-06", "kind": "invoice"}))) == {
        june.number, stranger.number}
    assert _numbers(accountant_client.get(LIST, {"kind": "credit_note"})) == [note.number]
    assert set(_numbers(accountant_client.get(LIST, {"customer": june.customer.number}))) == {
        june.number, may.number, note.number}
    assert accountant_client.get(LIST, {"period": "June"}).status_code == 400


def test_totals_add_up_the_filtered_set_per_currency_with_credit_notes_negative(accountant_client):
    first = document(nets=[("19", "100.00")])
    document(nets=[("7", "50.00")])
    credit(first, amount="10.00")

    totals = accountant_client.get(LIST).context["totals"]

    assert [(t.currency, t.count, str(t.net), str(t.vat), str(t.gross)) for t in totals] == [
        ("EUR", 3, "140.00", "20.60", "160.60")]  # 100 + 50 - 10; 19 + 3.50 - 1.90


def test_list_is_paginated_and_pages_keep_the_filters(accountant_client, monkeypatch):
    from billing.accounting import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(3):
        document()

    first = accountant_client.get(LIST, {"kind": "invoice"})
    second = accountant_client.get(LIST, {"kind": "invoice", "page": 2})

    assert len(_numbers(first)) == 2 and len(_numbers(second)) == 1
    assert "kind=invoice&amp;page=2" in first.content.decode()


def test_list_page_reads_in_a_fixed_number_of_queries(accountant_client):
    document()
    with CaptureQueriesContext(connection) as with_one:
        accountant_client.get(LIST)
    for _ in range(5):
        credit(document(), amount="1.00")

    with CaptureQueriesContext(connection) as with_eleven:
        response = accountant_client.get(LIST)

    assert len(response.context["page"]) == 11
    assert len(with_eleven) == len(with_one)
