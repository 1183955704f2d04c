"""Invoices and credit notes as documents: the HTML (templates/billing/invoice.html) and its PDF (WeasyPrint),
a Factur-X PDF/A-3b for e-invoices. Pure rendering: reads the issued invoice, writes nothing.

Speed matters (a month close renders thousands; benchmarks/invoices.py measures it): stylesheets, fonts and
the URL fetcher are made once per process; the fonts are a lean cut of DejaVu Sans (cheap to subset per PDF);
the template is well-formed XML read by expat and styled without WeasyPrint's big user-agent stylesheet; the
line table has fixed column widths and one-line rows, so 30 lines fit on one page. Rendering many invoices as
one WeasyPrint document was measured and rejected: layout grows faster than linearly with document length, and
each invoice needs its own "Page X of Y".
"""

from __future__ import annotations

import atexit
import functools
import io
import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy
from django_countries import countries

from billing.models import ChargeDetailRecord, Invoice, InvoiceLine

from .facturx import document_note, facturx_pdf, invoice_cii_xml, rounded_line_nets

TEMPLATE = "billing/invoice.html"
STYLESHEET = Path(settings.BASE_DIR) / "static" / "billing" / "invoice.css"
LOGO = Path(settings.BASE_DIR) / "static" / "evbackoffice" / "logo.svg"
CATEGORY_LABELS = {"S": "", "Z": gettext_lazy("zero rated"), "E": gettext_lazy("exempt"),
                   "AE": gettext_lazy("reverse charge"), "O": gettext_lazy("not subject to VAT")}
#: The units drafting writes on lines, as the quantity column prints them (a unit not here prints as stored).
UNIT_LABELS = {"session": pgettext_lazy("invoice unit", "session"), "period": pgettext_lazy("invoice unit", "period"),
               "credit": pgettext_lazy("invoice unit", "credit")}
#: Dates per language (Django date format syntax); English keeps "01 Jun 2026" on the header and ISO dates in
#: the line table, German prints 01.06.2026 in both.
DAY_FORMATS = {"de": ("d.m.Y", "d.m.Y")}


# --- the document's language ----------------------------------------------------------------------------
def invoice_language(invoice: Invoice) -> str:
    """The language the document is written in: the buyer's as snapshotted at issue (so a later change of the
    customer's language never changes an issued document), else, for invoices issued before the snapshot had
    it, the customer's current language; one of LANGUAGES, else the default."""
    language = invoice.buyer.get("language") if isinstance(invoice.buyer, dict) else None
    if not language and invoice.customer_id:
        language = invoice.customer.language
    codes = {code for code, _ in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def localized(text: str) -> str:
    """A number formatted the English way (1,234.56) with the active language's separators (1.234,56); the
    rounding stays the one the English format string did."""
    decimal, thousands = formats.get_format("DECIMAL_SEPARATOR"), formats.get_format("THOUSAND_SEPARATOR")
    if (decimal, thousands) == (".", ","):
        return text
    return text.translate(str.maketrans({",": thousands, ".": decimal}))


# --- values as printed --------------------------------------------------------------------------------
def money(value) -> str:
    """An amount at the currency's precision (2 places), with thousands separators."""
    return localized(f"{Decimal(value):,.2f}")


def unit_price(value) -> str:
    """Tariff prices keep 4 places; print them without trailing zeros, but never fewer than 2 places."""
    text = f"{Decimal(value):,.4f}"
    return localized(text[:-2] + text[-2:].rstrip("0") if text.endswith("0") else text)


def quantity(value: Decimal, unit: str) -> str:
    number = localized(f"{Decimal(value).normalize():f}")
    return f"{number} {UNIT_LABELS.get(unit, unit)}" if unit else number


def percent(rate) -> str:
    return f"{localized(f'{Decimal(rate).normalize():f}')} %"


def day(value: date | None) -> str:
    if not value:
        return ""
    formats_ = DAY_FORMATS.get(translation.get_language() or "")
    return formats.date_format(value, formats_[0]) if formats_ else f"{value:%d %b %Y}"


def line_day(value: date | None) -> str:
    """A line's date: short and unambiguous (supply periods can span a new year)."""
    if not value:
        return ""
    formats_ = DAY_FORMATS.get(translation.get_language() or "")
    return formats.date_format(value, formats_[1]) if formats_ else f"{value:%Y-%m-%d}"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes = (seconds + 30) // 60
    return f"{minutes // 60}:{minutes % 60:02d} h"


def vat_label(category: str, rate) -> str:
    label = CATEGORY_LABELS.get(category, category)
    return f"{percent(rate)} {label}".rstrip() if category in ("S", "Z") or Decimal(rate) else label or percent(rate)


# --- the document's context ---------------------------------------------------------------------------
@functools.cache
def logo_svg() -> str:
    # Inline SVG: no file fetch per render, and WeasyPrint draws it as vectors.
    return mark_safe(LOGO.read_text(encoding="utf-8"))  # noqa: S308 - our own static file


def party(snapshot: dict) -> dict:
    """A supplier or buyer snapshot (billing.invoicing.services) with a display name and the country's name."""
    code = snapshot.get("country") or ""
    name = snapshot.get("name") or snapshot.get("legal_name") or ""
    return {**snapshot, "name": name, "country_name": countries.name(code) or code}


def line_row(line: InvoiceLine, net: Decimal) -> dict:
    return {
        "date": line_day(timezone.localtime(line.service_start).date()) if line.service_start else "",
        "description": line.description,
        "energy_kwh": localized(f"{Decimal(line.energy_wh) / 1000:,.3f}") if line.energy_wh is not None else "",
        "duration": duration(line.duration_s),
        "quantity": quantity(line.quantity, line.unit),
        "unit_price": unit_price(line.unit_price_excl_vat),
        "discount": money(line.discount_excl_vat) if line.discount_excl_vat else "",
        "net": money(net),
        "vat_rate": vat_label(line.vat_category, line.vat_rate),
    }


def sessions_count(number: int) -> str:
    return ngettext("%(count)s session", "%(count)s sessions", abs(number)) % {"count": number}


def driver_rows(lines: list[InvoiceLine], nets: dict[int, Decimal]) -> tuple[list[dict], list[dict]]:
    """A fleet's charging lines grouped by driver (drafting ordered them so): the table rows, a heading and a
    subtotal per driver, then the lines without a driver (fees, points credits); and the driver summary. A
    session is a charge record, whatever its VAT lines; a credit record counts it (and its kWh) back out."""
    credits = set(ChargeDetailRecord.objects.filter(
        pk__in={line.cdr_id for line in lines if line.driver_label}, kind=ChargeDetailRecord.Kind.CREDIT,
    ).values_list("pk", flat=True))
    groups: dict[str, dict] = {}
    for line in lines:
        if not line.driver_label:
            continue
        group = groups.setdefault(line.driver_label, {"lines": [], "records": {}, "net": Decimal(0)})
        group["lines"].append(line_row(line, nets[line.position]))
        group["net"] += nets[line.position]
        sign = -1 if line.cdr_id in credits else 1
        group["records"][line.cdr_id] = (sign, sign * (line.energy_wh or 0))
    rows, summary = [], []
    for label, group in groups.items():
        sessions = sum(sign for sign, _ in group["records"].values())
        energy = localized(f"{Decimal(sum(wh for _, wh in group['records'].values())) / 1000:,.3f}")
        total = {"driver": label, "sessions": sessions_count(sessions), "energy_kwh": energy,
                 "net": money(group["net"])}  # fmt: skip
        rows += [{"group": label}, *group["lines"], {"subtotal": label, **total}]
        summary.append(total)
    rows += [line_row(line, nets[line.position]) for line in lines if not line.driver_label]
    return rows, summary


def vat_rows(invoice: Invoice) -> list[dict]:
    return [
        {"label": vat_label(row.get("category", "S"), row.get("rate", "0")), "taxable": money(row.get("excl_vat", 0)),
         "vat": money(row.get("vat", 0))}
        for row in invoice.vat_breakdown
    ]


def notes_lines(invoice: Invoice) -> list[str]:
    """The invoice's mentions, plus any per-rate mention (reverse charge, exemption) they do not already say; the
    legal mentions (stored in English) in the document's language."""
    notes = invoice.notes.strip().splitlines()
    for row in invoice.vat_breakdown:
        mention = (row.get("mention") or "").strip()
        if mention and mention not in invoice.notes:
            notes.append(mention)
    return [document_note(note) for note in notes]


PAGE_OF = "Page %(page)s of %(pages)s"  # invoice.css prints it (@page margin box) when no translation does


def page_counter_css() -> str:
    """invoice.css numbers the pages in English; in another language, the rule that replaces its words."""
    text = gettext("Page %(page)s of %(pages)s")
    if text == PAGE_OF:
        return ""
    parts = []
    for piece in re.split(r"(%\((?:page|pages)\)s)", text):
        if piece in ("%(page)s", "%(pages)s"):
            parts.append(f"counter({piece[2:-2]})")
        elif piece:
            parts.append('"' + piece.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return mark_safe(f"@page {{ @bottom-right {{ content: {' '.join(parts)}; }} }}")  # noqa: S308 - our catalogue


def invoice_context(invoice: Invoice, lines: Iterable[InvoiceLine] | None = None) -> dict:
    is_credit_note = invoice.kind == Invoice.Kind.CREDIT_NOTE
    lines = list(invoice.lines.all() if lines is None else lines)
    # Line nets at the currency's precision, adding up to each VAT group's rounded basis (as in the e-invoice).
    nets = rounded_line_nets(lines, 1)
    if any(line.driver_label for line in lines):  # a fleet's invoice (drafting labels only companies' lines)
        rows, drivers = driver_rows(lines, nets)
    else:
        rows, drivers = [line_row(line, nets[line.position]) for line in lines], []
    kind_label = gettext("Credit note") if is_credit_note else gettext("Invoice")
    supplier = party(invoice.supplier)
    return {
        "title": f"{kind_label} {invoice.number}",
        "page_counter_css": page_counter_css(),
        "kind_label": kind_label,
        "is_credit_note": is_credit_note,
        "number": invoice.number,
        "credited_number": invoice.credited_invoice.number if is_credit_note and invoice.credited_invoice_id else "",
        "reason": invoice.reason,
        "issue_date": day(invoice.issue_date),
        "due_date": day(invoice.due_date),
        "paid": day(timezone.localtime(invoice.paid_at).date()) if invoice.paid_at else "",
        "period": f"{day(invoice.period_start)} – {day(invoice.period_end - timedelta(days=1))}",
        "currency": invoice.currency,
        "supplier": supplier,
        "buyer": party(invoice.buyer),
        "lines": rows,
        "drivers": drivers,
        "vat_rows": vat_rows(invoice),
        "total_excl_vat": money(invoice.total_excl_vat),
        "total_vat": money(invoice.total_vat),
        "total_incl_vat": money(invoice.total_incl_vat),
        "notes": notes_lines(invoice),
        "footer_text": (supplier.get("invoice_footer") or "").splitlines(),
        "logo": logo_svg(),
    }


def render_invoice_html(invoice: Invoice, lines: Iterable[InvoiceLine] | None = None) -> str:
    """The document as HTML in the customer's language (`invoice_language`): what the PDF shows (also handy to
    preview in a browser)."""
    with translation.override(invoice_language(invoice)):
        return render_to_string(TEMPLATE, invoice_context(invoice, lines))


# --- PDF ----------------------------------------------------------------------------------------------
#: Characters the lean invoice font keeps: Latin scripts, punctuation, currency signs. Anything else (a Greek
#: or Cyrillic customer name) falls back to the full system font, glyph by glyph, at the usual cost.
LEAN_FONT_UNICODES = [
    *range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x2010, 0x2060), *range(0x20A0, 0x20C1),
    0x2116, 0x2122, 0x2212,
]


def lean_font(path: Path) -> bytes | None:
    """The system font cut down to LEAN_FONT_UNICODES, without kerning, ligature or math tables. WeasyPrint
    subsets the fonts of every PDF it writes; on the full DejaVu Sans (big GPOS and MATH tables, fontTools when
    HarfBuzz-subset is missing) that was 40 % of a render."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    if not path.is_file():
        return None
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "kern", "MATH", "FFTM"]
    options.hinting, options.notdef_outline, options.name_IDs = False, True, ["*"]
    font = TTFont(path)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=LEAN_FONT_UNICODES)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class InvoiceResources:
    """The URL fetcher of invoice documents: serves the lean fonts from memory and refuses every other URL, so
    rendering never touches the network or the disk (a value in an invoice cannot make it fetch anything)."""

    FONT_SCHEME = "invoice-font:"

    def __init__(self, fonts: dict[str, bytes]):
        self.fonts = fonts

    def __call__(self, url: str, *args, **kwargs):
        from weasyprint.urls import URLFetcherResponse

        name = url.removeprefix(self.FONT_SCHEME)
        if url.startswith(self.FONT_SCHEME) and name in self.fonts:
            return URLFetcherResponse(url, self.fonts[name], {"Content-Type": "font/ttf"})
        raise ValueError(f"invoice documents load no external resources ({url[:60]})")

    fetch = __call__


@functools.cache
def print_resources():
    """The stylesheets, font configuration and URL fetcher, made once per process and shared by every render."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_dir = Path(settings.INVOICE_FONT_DIR)
    files = {"normal": font_dir / "DejaVuSans.ttf", "bold": font_dir / "DejaVuSans-Bold.ttf"}
    fonts = {weight: data for weight, path in files.items() if (data := lean_font(path))}
    fetcher = InvoiceResources(fonts)
    font_config = FontConfiguration()
    # Dropped before interpreter shutdown, when its __del__ could no longer reach fontconfig.
    atexit.register(print_resources.cache_clear)
    faces = "".join(
        f'@font-face {{ font-family: "Invoice Sans"; font-weight: {weight}; '
        f'src: url("{fetcher.FONT_SCHEME}{weight}"); }}'
        for weight in fonts
    )
    stylesheets = [CSS(string=faces, font_config=font_config, url_fetcher=fetcher)] if faces else []
    stylesheets.append(CSS(filename=str(STYLESHEET), font_config=font_config, url_fetcher=fetcher))
    return stylesheets, font_config, fetcher


@functools.cache
def invoice_html_class():
    """WeasyPrint's HTML without its user-agent stylesheet: invoice.css carries the few rules the template
    needs. (`_ua_stylesheets` is WeasyPrint's hook for this; weasyprint is pinned.)"""
    from weasyprint import HTML

    class InvoiceHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            return []

    return InvoiceHTML


def parse_html(html: str):
    """The document for WeasyPrint. The template is well-formed XML, so the C parser (expat) reads it in a
    fraction of the time of the pure-Python HTML5 parser; anything it refuses goes through the HTML5 parser."""
    import cssselect2

    cls = invoice_html_class()
    fetcher = print_resources()[2]
    try:
        root = ElementTree.fromstring(html)
    except ElementTree.ParseError:
        return cls(string=html, url_fetcher=fetcher)
    document = cls.__new__(cls)
    document.base_url, document.url_fetcher, document.media_type = None, fetcher, "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
    document.etree_element = document.wrapper_element.etree_element
    return document


def html_to_pdf(html: str, **options) -> bytes:
    """The HTML laid out and written as PDF with the shared resources; `options` e.g. pdf_variant="pdf/a-3b"."""
    stylesheets, font_config, _ = print_resources()
    return parse_html(html).write_pdf(stylesheets=stylesheets, font_config=font_config, **options)


def render_invoice_pdf_bytes(invoice: Invoice, lines: Iterable[InvoiceLine] | None = None) -> bytes:
    """The issued invoice's PDF: a Factur-X (EN 16931) PDF/A-3b with its CII XML embedded when it is an
    e-invoice, else a plain PDF."""
    lines = list(invoice.lines.all() if lines is None else lines)
    with translation.override(invoice_language(invoice)):  # the e-invoice's notes and metadata too
        html = render_invoice_html(invoice, lines)
        if not invoice.einvoice:
            return html_to_pdf(html)
        return facturx_pdf(html_to_pdf(html, pdf_variant="pdf/a-3b"), invoice_cii_xml(invoice, lines), invoice)
