"""RFID accounts and fleets: a token's sessions are billed to its customer; a company gets one invoice for all its
drivers' tokens, its charging lines labelled and grouped by driver, with a subtotal each and a driver summary
(PDF, API, Factur-X line notes). A private person's invoice has no driver section."""

import io
import re
from datetime import date
from decimal import Decimal

import pypdf
import pytest
from facturx import xml_check_xsd
from lxml import etree
from rest_framework.test import APIClient

from billing.cdrs.corrections import cdr_credit
from billing.invoicing import invoice_draft_for_period, invoice_issue
from billing.invoicing.facturx import NS, invoice_cii_xml
from billing.invoicing.pdf import render_invoice_pdf_bytes
from billing.models import Invoice
from customers.models import Customer
from tests.billing.invoice_factories import OperatorProfileFactory
from tests.billing.invoicing_helpers import charge_record
from tests.billing.test_accounting_helpers import accountant
from tests.factories import ChargingSessionFactory, CustomerFactory, IdTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

JUNE = {"period_start": date(2026, 6, 1), "period_end": date(2026, 7, 1)}
NINETEEN, SEVEN = "19.000000", "7.000000"
MEHMET, ANNA, POOL = "Mehmet Yilmaz (EVB-300102)", "Anna Schmidt (04AABBCCDD)", "EVB-300199"


def session_of(token, *, start: str, parts, energy_wh: int):
    """A record of `token`'s session, billed to the token's customer (as rating does)."""
    session = ChargingSessionFactory(id_token=token)
    return charge_record(token.customer, start=start, parts=parts, energy_wh=energy_wh, session=session,
                         id_token=token, token_uid=token.uid)  # fmt: skip


def driver(company, first_name: str, last_name: str):
    return UserFactory(first_name=first_name, last_name=last_name, customer=company)


@pytest.fixture
def fleet_invoice():
    """Nordlicht Logistik's June: Mehmet (printed card, two sessions, one at two VAT rates), Anna (card with no
    printed number) and a pool card nobody is named for, one session each."""
    OperatorProfileFactory()
    company = CustomerFactory(kind=Customer.Kind.COMPANY, name="Nordlicht Logistik GmbH", vat_id="DE811907980")
    mehmet = IdTokenFactory(customer=company, user=driver(company, "Mehmet", "Yilmaz"), visual_number="EVB-300102")
    anna = IdTokenFactory(customer=company, user=driver(company, "Anna", "Schmidt"), uid="04AABBCCDD")
    pool = IdTokenFactory(customer=company, visual_number="EVB-300199")
    session_of(mehmet, start="2026-06-02T07:00:00+00:00", parts=[(NINETEEN, "10.00")], energy_wh=20_000)
    session_of(anna, start="2026-06-03T07:00:00+00:00", parts=[(NINETEEN, "8.40")], energy_wh=12_000)
    session_of(pool, start="2026-06-04T07:00:00+00:00", parts=[(NINETEEN, "6.00")], energy_wh=10_000)
    session_of(mehmet, start="2026-06-05T07:00:00+00:00", parts=[(NINETEEN, "4.00"), (SEVEN, "1.00")],
               energy_wh=15_000)  # fmt: skip
    [invoice] = invoice_draft_for_period(customer=company, **JUNE)
    return invoice_issue(invoice=invoice)


def pdf_text(invoice: Invoice) -> str:
    pages = pypdf.PdfReader(io.BytesIO(render_invoice_pdf_bytes(invoice))).pages
    return "\n".join(page.extract_text() for page in pages)


def test_a_company_gets_one_invoice_for_all_its_drivers_tokens_each_line_naming_its_driver(fleet_invoice):
    company = fleet_invoice.customer

    assert Invoice.objects.filter(customer=company).count() == 1
    lines = list(fleet_invoice.lines.order_by("position").values_list("driver_label", "net_amount"))
    # Grouped by driver (alphabetically), each driver's sessions in time order.
    assert [label for label, _ in lines] == [ANNA, POOL, MEHMET, MEHMET, MEHMET]
    assert [net for label, net in lines if label == MEHMET] == [Decimal(10), Decimal(4), Decimal(1)]
    assert fleet_invoice.total_excl_vat == Decimal("29.40")


def subtotal_of(text: str, label: str) -> str:
    """The subtotal row under a driver's heading: the heading, that driver's line rows, then the subtotal."""
    found = re.search(r"^" + re.escape(label) + r"$\n(?:(?!Subtotal ).*\n)+?Subtotal (.*)", text, re.MULTILINE)
    return found.group(1) if found else ""


def test_the_fleet_pdf_shows_each_drivers_subtotal_and_the_driver_summary(fleet_invoice):
    text = pdf_text(fleet_invoice)

    # One subtotal per driver: sessions (a record at two VAT rates is one session), kWh, net excl. VAT.
    assert subtotal_of(text, MEHMET) == "(2 sessions) 35.000 15.00"
    assert subtotal_of(text, ANNA) == "(1 session) 12.000 8.40"
    assert subtotal_of(text, POOL) == "(1 session) 10.000 6.00"
    # The summary of drivers, above the lines.
    summary = text[text.index("Driver Sessions kWh Net"):text.index("Date Description")]
    assert summary.splitlines()[1:] == [
        f"{ANNA} 1 session 12.000 8.40", f"{POOL} 1 session 10.000 6.00", f"{MEHMET} 2 sessions 35.000 15.00"]
    assert "Total excl. VAT 29.40" in text and "Page 1 of 1" in text


def test_a_credit_record_counts_its_session_back_out_of_the_drivers_subtotal():
    OperatorProfileFactory()
    company = CustomerFactory(kind=Customer.Kind.COMPANY, name="Nordlicht Logistik GmbH")
    mehmet = IdTokenFactory(customer=company, user=driver(company, "Mehmet", "Yilmaz"), visual_number="EVB-300102")
    session_of(mehmet, start="2026-06-02T07:00:00+00:00", parts=[(NINETEEN, "10.00")], energy_wh=20_000)
    wrong = session_of(mehmet, start="2026-06-03T07:00:00+00:00", parts=[(NINETEEN, "7.00")], energy_wh=14_000)
    cdr_credit(cdr=wrong, reason="Station fault")
    [draft] = invoice_draft_for_period(customer=company, **JUNE)

    text = pdf_text(invoice_issue(invoice=draft))

    assert set(draft.lines.values_list("driver_label", flat=True)) == {MEHMET}
    assert subtotal_of(text, MEHMET) == "(1 session) 20.000 10.00"  # 2 sessions, one credited; 34 - 14 kWh


def test_a_private_customers_invoice_has_no_driver_section():
    OperatorProfileFactory()
    person = CustomerFactory(kind=Customer.Kind.PERSON, name="Ada Lovelace")
    token = IdTokenFactory(customer=person, user=UserFactory(first_name="Ada", last_name="Lovelace", customer=person),
                           visual_number="EVB-400001")  # fmt: skip
    session_of(token, start="2026-06-02T07:00:00+00:00", parts=[(NINETEEN, "10.00")], energy_wh=20_000)
    [draft] = invoice_draft_for_period(customer=person, **JUNE)

    invoice = invoice_issue(invoice=draft)
    text = pdf_text(invoice)

    assert list(invoice.lines.values_list("driver_label", flat=True)) == [""]
    assert "Subtotal" not in text and "Driver" not in text and "EVB-400001" not in text
    assert b"IncludedNote" not in invoice_cii_xml(invoice).split(b"IncludedSupplyChainTradeLineItem", 1)[1]


def test_the_invoice_api_shows_each_lines_driver(fleet_invoice):
    client = APIClient()
    client.force_login(accountant())

    detail = client.get(f"/api/v1/invoices/{fleet_invoice.pk}/").json()

    assert [line["driver"] for line in detail["lines"]] == [ANNA, POOL, MEHMET, MEHMET, MEHMET]


def test_the_e_invoice_names_the_driver_in_each_line_note_and_still_validates(fleet_invoice):
    xml = invoice_cii_xml(fleet_invoice)

    notes = etree.fromstring(xml).xpath(
        "//ram:IncludedSupplyChainTradeLineItem/ram:AssociatedDocumentLineDocument/ram:IncludedNote/ram:Content/text()",
        namespaces=NS,
    )
    assert notes == [f"Driver: {label}" for label in (ANNA, POOL, MEHMET, MEHMET, MEHMET)]
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
