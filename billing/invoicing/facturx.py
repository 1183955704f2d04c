"""E-invoices: the EN 16931 Cross Industry Invoice (CII) XML of an issued invoice or credit note (Factur-X /
ZUGFeRD profile EN 16931), and the Factur-X PDF/A-3b that carries it (the `factur-x` package).

Signs. A credit note (type 381) states positive amounts, as EN 16931 expects: its stored lines and totals are
negative (they negate the invoice's), so they are negated here. A line whose unit price is negative (a points
credit) is written as a negative quantity at a positive price (BR-27: no negative item price).

Line amounts (BT-131) have at most two decimals (BR-DEC-23) while our lines are exact; each VAT group's lines
are rounded so that they add up to the group's rounded basis (largest remainder), so BT-106 = sum(BT-131) and
BT-116 = the group's lines (BR-CO-10, BR-S-08) hold exactly as on the printed document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.utils.translation import get_language, gettext, gettext_noop
from lxml import etree

from billing.models import Invoice, InvoiceLine

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"
CENT = Decimal("0.01")
#: UN/ECE Recommendation 20 codes of our line units; anything else is "one" (C62).
UNIT_CODES = {"kWh": "KWH", "kwh": "KWH", "month": "MON", "hour": "HUR", "minute": "MIN", "day": "DAY"}
PAYMENT_MEANS_CREDIT_TRANSFER = "58"  # SEPA credit transfer (UNTDID 4461)
#: The legal mentions billing.invoicing.vat stores in English (the reverse charge one and the default exemption
#: mention), marked here so that the catalogue translates them: documents print them in their language (the
#: caller activates it, see pdf.invoice_language). An operator's own exemption text prints as configured.
LEGAL_MENTIONS = (
    gettext_noop("Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)."),
    gettext_noop("Exempt from VAT"),
)
#: The document language as Factur-X metadata (xml:lang of the XMP), per interface language.
PDF_LANGUAGES = {"en": "en-GB", "de": "de-DE"}


def document_note(text: str) -> str:
    """A note of the invoice as printed in the active language: a known legal mention (vat.all_mentions)
    translated, anything else (staff's own notes) as written."""
    from .vat import all_mentions

    return gettext(text) if text in all_mentions() or text in LEGAL_MENTIONS else text


def _el(parent, tag: str, text=None, **attributes):
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", attributes)
    if text is not None:
        element.text = str(text)
    return element


def _date(parent, tag: str, value: date, kind: str = "udt") -> None:
    _el(_el(parent, tag), f"{kind}:DateTimeString", f"{value:%Y%m%d}", format="102")


def amount(value) -> str:
    return str(Decimal(value).quantize(CENT))


def plain(value) -> str:
    """A decimal without exponent or trailing zeros (quantities, prices, rates)."""
    text = f"{Decimal(value).normalize():f}"
    return text if text != "-0" else "0"


# --- line amounts -----------------------------------------------------------------------------------------
def rounded_line_nets(lines: list[InvoiceLine], sign: int) -> dict[int, Decimal]:
    """Each line's net (times `sign`) at two decimals, adding up per VAT group to the group's rounded sum."""
    groups: dict[tuple, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        groups[(line.vat_category, Decimal(line.vat_rate).normalize())].append(line)
    nets = {}
    for group in groups.values():
        exact = {line.position: sign * Decimal(line.net_amount) for line in group}
        floor = {pos: value.quantize(CENT, rounding=ROUND_DOWN) if value >= 0 else -((-value).quantize(CENT))
                 for pos, value in exact.items()}  # fmt: skip
        # Cents still to hand out so the group's sum rounds like the breakdown (half up).
        target = sum(exact.values(), Decimal(0)).quantize(CENT)
        missing = int((target - sum(floor.values(), Decimal(0))) / CENT)
        order = sorted(exact, key=lambda pos: exact[pos] - floor[pos], reverse=missing > 0)
        for pos in order[: abs(missing)]:
            floor[pos] += CENT if missing > 0 else -CENT
        nets.update(floor)
    return nets


# --- the document --------------------------------------------------------------------------------------
def _party(parent, tag: str, snapshot: dict) -> None:
    party = _el(parent, tag)
    _el(party, "ram:Name", snapshot.get("name") or snapshot.get("legal_name") or "")
    address = _el(party, "ram:PostalTradeAddress")
    for key, child in (("postal_code", "ram:PostcodeCode"), ("address_line1", "ram:LineOne"),
                       ("address_line2", "ram:LineTwo"), ("city", "ram:CityName")):  # fmt: skip
        if snapshot.get(key):
            _el(address, child, snapshot[key])
    _el(address, "ram:CountryID", snapshot.get("country") or "")
    if snapshot.get("email"):
        _el(_el(party, "ram:URIUniversalCommunication"), "ram:URIID", snapshot["email"], schemeID="EM")
    if snapshot.get("vat_id"):
        _el(_el(party, "ram:SpecifiedTaxRegistration"), "ram:ID", snapshot["vat_id"], schemeID="VA")
    if snapshot.get("tax_number"):
        _el(_el(party, "ram:SpecifiedTaxRegistration"), "ram:ID", snapshot["tax_number"], schemeID="FC")


def _line(parent, line: InvoiceLine, net: Decimal, sign: int) -> None:
    quantity, price = sign * Decimal(line.quantity), Decimal(line.unit_price_excl_vat)
    discount = sign * Decimal(line.discount_excl_vat)
    if price < 0:  # BR-27: the price is never negative; the quantity carries the sign
        quantity, price = -quantity, -price
    item = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    document = _el(item, "ram:AssociatedDocumentLineDocument")
    _el(document, "ram:LineID", line.position)
    if line.driver_label:  # BT-127, a fleet's line: who charged
        note = gettext("Driver: %(driver)s") % {"driver": line.driver_label}
        _el(_el(document, "ram:IncludedNote"), "ram:Content", note)
    _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", plain(price))
    _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", plain(quantity),
        unitCode=UNIT_CODES.get(line.unit, "C62"))
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", line.vat_category)
    _el(tax, "ram:RateApplicablePercent", plain(line.vat_rate))
    if discount > 0:
        allowance = _el(settlement, "ram:SpecifiedTradeAllowanceCharge")
        _el(_el(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
        _el(allowance, "ram:ActualAmount", amount(discount))
        _el(allowance, "ram:Reason", gettext("Discount"))
    _el(_el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"), "ram:LineTotalAmount", amount(net))


def _vat_group(parent, group: dict, sign: int) -> None:
    tax = _el(parent, "ram:ApplicableTradeTax")
    _el(tax, "ram:CalculatedAmount", amount(sign * Decimal(group["vat"])))
    _el(tax, "ram:TypeCode", "VAT")
    if group.get("mention") and group["category"] != "S":
        _el(tax, "ram:ExemptionReason", document_note(group["mention"]))
    _el(tax, "ram:BasisAmount", amount(sign * Decimal(group.get("excl_vat", group.get("taxable", 0)))))
    _el(tax, "ram:CategoryCode", group["category"])
    if group.get("reason_code"):
        _el(tax, "ram:ExemptionReasonCode", group["reason_code"])
    _el(tax, "ram:RateApplicablePercent", plain(group["rate"]))


def _settlement(parent, invoice: Invoice, sign: int, line_total: Decimal) -> None:
    settlement = _el(parent, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", invoice.number)
    _el(settlement, "ram:InvoiceCurrencyCode", invoice.currency)
    supplier = invoice.supplier
    if supplier.get("iban") and invoice.kind == Invoice.Kind.INVOICE:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", PAYMENT_MEANS_CREDIT_TRANSFER)
        _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", supplier["iban"].replace(" ", ""))
        if supplier.get("bic"):
            _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", supplier["bic"])
    for group in invoice.vat_breakdown:
        _vat_group(settlement, group, sign)
    period = _el(settlement, "ram:BillingSpecifiedPeriod")
    _date(period, "ram:StartDateTime", invoice.period_start)
    _date(period, "ram:EndDateTime", invoice.period_end - timedelta(days=1))  # period_end is exclusive
    if invoice.due_date:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        _el(terms, "ram:Description", f"Payable by {invoice.due_date:%Y-%m-%d}, reference {invoice.number}")
        _date(terms, "ram:DueDateDateTime", invoice.due_date)
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", amount(line_total))
    _el(totals, "ram:TaxBasisTotalAmount", amount(sign * invoice.total_excl_vat))
    _el(totals, "ram:TaxTotalAmount", amount(sign * invoice.total_vat), currencyID=invoice.currency)
    _el(totals, "ram:GrandTotalAmount", amount(sign * invoice.total_incl_vat))
    _el(totals, "ram:DuePayableAmount", amount(sign * invoice.total_incl_vat))
    credited = invoice.credited_invoice if invoice.credited_invoice_id else None
    if credited is not None:
        reference = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(reference, "ram:IssuerAssignedID", credited.number)
        if credited.issue_date:
            _date(reference, "ram:FormattedIssueDateTime", credited.issue_date, kind="qdt")


def invoice_cii_xml(invoice: Invoice, lines: Iterable[InvoiceLine] | None = None) -> bytes:
    """The issued document as EN 16931 CII XML (Factur-X profile EN 16931), UTF-8."""
    lines = list(invoice.lines.all() if lines is None else lines)
    is_credit_note = invoice.kind == Invoice.Kind.CREDIT_NOTE
    sign = -1 if is_credit_note and invoice.total_excl_vat < 0 else 1
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    _el(_el(_el(root, "rsm:ExchangedDocumentContext"), "ram:GuidelineSpecifiedDocumentContextParameter"),
        "ram:ID", EN16931)
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice.number)
    _el(document, "ram:TypeCode", "381" if is_credit_note else "380")
    _date(document, "ram:IssueDateTime", invoice.issue_date)
    for text in [invoice.reason, *invoice.notes.splitlines()]:
        if text.strip():
            _el(_el(document, "ram:IncludedNote"), "ram:Content", document_note(text.strip()))
    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    nets = rounded_line_nets(lines, sign)
    for line in lines:
        _line(transaction, line, nets[line.position], sign)
    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    if invoice.buyer.get("purchase_order"):
        _el(agreement, "ram:BuyerReference", invoice.buyer["purchase_order"])
    _party(agreement, "ram:SellerTradeParty", invoice.supplier)
    _party(agreement, "ram:BuyerTradeParty", invoice.buyer)
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(transaction, invoice, sign, sum(nets.values(), Decimal(0)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def facturx_pdf(pdf: bytes, xml: bytes, invoice: Invoice) -> bytes:
    """The PDF/A-3b (from WeasyPrint) with the XML embedded as factur-x.xml and the Factur-X XMP metadata; the
    XML is checked against the EN 16931 XSD on the way (a document that does not validate is not written)."""
    from facturx import generate_from_binary

    supplier = invoice.supplier.get("legal_name") or invoice.supplier.get("name") or ""
    kind = gettext("Credit note") if invoice.kind == Invoice.Kind.CREDIT_NOTE else gettext("Invoice")
    title = f"{kind} {invoice.number}"
    subject = gettext("%(title)s dated %(date)s issued by %(supplier)s") % {
        "title": title, "date": f"{invoice.issue_date:%Y-%m-%d}", "supplier": supplier}
    metadata = {"author": supplier, "keywords": "Factur-X, EN 16931", "title": title, "subject": subject}
    language = (get_language() or settings.LANGUAGE_CODE)[:2]
    return generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931", check_xsd=True, check_schematron=False,
        pdf_metadata=metadata, lang=PDF_LANGUAGES.get(language, "en-GB"),
    )
