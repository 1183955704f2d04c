"""Payments wired into the rest of the product: issuing collects or refunds by itself, and OCPP Authorize
refuses a prepaid customer whose balance is below the minimum."""
# ruff: noqa: F811  (pytest fixtures imported from payments_helpers are parameters of the tests)

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from billing.invoicing import credit_note_issue
from billing.models import Payment
from billing.payments import payment_account_set_collection, prepaid_top_up
from stations.commands import local_list_payload
from stations.services.station_reports import id_tag_authorize
from tests.billing.payments_helpers import (
    card_customer,
    issued_invoice,
    localstripe_server,  # noqa: F401  (session fixture)
    stripe_settings,  # noqa: F401
)
from tests.factories import ChargePointFactory, IdTokenFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]


def test_issuing_an_invoice_of_a_card_customer_collects_it_once(
        localstripe_server, django_capture_on_commit_callbacks):
    customer = card_customer(localstripe_server)

    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued_invoice(customer)

    invoice.refresh_from_db()
    payments = Payment.objects.filter(invoice=invoice)
    assert invoice.paid_at is not None
    assert [(p.purpose, p.state, p.amount) for p in payments] == [("invoice", "succeeded", Money("11.90", "EUR"))]


def test_issuing_a_credit_note_of_a_paid_invoice_refunds_the_card(
        localstripe_server, django_capture_on_commit_callbacks):
    customer = card_customer(localstripe_server)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued_invoice(customer)

    with django_capture_on_commit_callbacks(execute=True):
        note = credit_note_issue(invoice=invoice, reason="Station fault")

    refund = Payment.objects.get(purpose=Payment.Purpose.REFUND, invoice=note)
    assert (refund.state, refund.amount) == ("succeeded", Money("11.90", "EUR"))


def test_an_invoice_customer_without_a_card_is_issued_and_left_for_bank_transfer(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued_invoice(IdTokenFactory().customer)

    invoice.refresh_from_db()
    assert invoice.paid_at is None and not Payment.objects.filter(invoice=invoice).exists()


def test_authorize_blocks_a_prepaid_customer_below_the_minimum_until_topped_up(localstripe_server, settings):
    settings.PREPAID_MINIMUM_BALANCE = "5.00"
    customer = card_customer(localstripe_server)
    payment_account_set_collection(customer=customer, collection="prepaid")
    token = IdTokenFactory(customer=customer)
    station = ChargePointFactory()

    refused = id_tag_authorize(charge_point_id=station.pk, id_tag=token.uid)
    prepaid_top_up(customer=customer, amount=Money("5.00", "EUR"))
    accepted = id_tag_authorize(charge_point_id=station.pk, id_tag=token.uid)

    assert (refused.status, accepted.status) == ("Blocked", "Accepted")
    other = IdTokenFactory()  # invoiced afterwards: no balance needed
    assert id_tag_authorize(charge_point_id=station.pk, id_tag=other.uid).status == "Accepted"


def test_a_local_list_blocks_prepaid_customers_below_the_minimum_with_one_balance_query_for_all(
        localstripe_server, settings):
    settings.PREPAID_MINIMUM_BALANCE = "5.00"
    topped_up, empty = card_customer(localstripe_server), card_customer(localstripe_server)
    for customer in (topped_up, empty):
        payment_account_set_collection(customer=customer, collection="prepaid")
    prepaid_top_up(customer=topped_up, amount=Money("5.00", "EUR"))
    station = ChargePointFactory()
    tags = {IdTokenFactory(customer=topped_up).uid: "Accepted", IdTokenFactory(customer=empty).uid: "Blocked"}

    with CaptureQueriesContext(connection) as few:
        local_list_payload(charge_point=station, full=True)
    tags |= {IdTokenFactory().uid: "Accepted" for _ in range(5)}
    with CaptureQueriesContext(connection) as many:
        payload = local_list_payload(charge_point=station, full=True)

    statuses = {entry["idTag"]: entry["idTagInfo"]["status"] for entry in payload["localAuthorizationList"]}
    assert statuses == tags
    assert len(many) == len(few)
