"""Exports for bookkeeping: the journal (one row per invoice or credit note) as CSV and XLSX, and a ZIP of the
rendered PDFs with a manifest.

The CSV is for import into bookkeeping software, so it is one fixed, documented form: `;` between fields,
`.` as decimal point (`?decimal=comma` gives `,` for importers that want it), exactly two decimals, no
thousands separators, ISO 8601 dates, UTF-8 with a byte-order mark (so Excel reads accents right), CRLF.
Credit notes carry negative amounts, so that a column's sum is what was invoiced net of credits. Amounts per
VAT rate get a pair of columns per (category, rate) present in the export, e.g. `net_S_19` / `vat_S_19`,
`net_AE_0` for reverse charge: each goes to a different account. The XLSX has the same columns, typed.
"""

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billing.invoicing import invoice_status
from billing.models import Invoice

FIXED_COLUMNS = [
    "number", "kind", "issue_date", "due_date", "period_start", "period_end", "customer_number", "customer_name",
    "vat_id", "currency", "net",
]  # fmt: skip
CLOSING_COLUMNS = ["gross", "payment_state", "credited_invoice"]
CENT = Decimal("0.01")
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Journal:
    columns: list[str]
    rows: list[list]  # values typed: str, date, Decimal or None


def _rate_key(row: dict) -> tuple[str, Decimal]:
    return (str(row.get("category") or "S"), Decimal(str(row.get("rate") or "0")).normalize())


def _rate_label(key: tuple[str, Decimal]) -> str:
    category, rate = key
    return f"{category}_{rate:f}".replace(".", "_")


def _signed(invoice: Invoice, amount) -> Decimal:
    value = abs(Decimal(str(amount or 0))).quantize(CENT)
    return -value if invoice.kind == Invoice.Kind.CREDIT_NOTE else value


def journal_build(invoices: Iterable[Invoice]) -> Journal:
    """The journal of these documents (issued ones only: drafts are not bookkeeping documents), in number
    order. Expects the documents of billing.accounting.selectors (annotated for their state)."""
    documents = sorted((i for i in invoices if i.status == Invoice.Status.ISSUED), key=lambda i: i.number)
    rates = sorted({_rate_key(row) for invoice in documents for row in invoice.vat_breakdown},
                   key=lambda key: (key[0] != "S", -key[1], key[0]))
    columns = FIXED_COLUMNS + [f"{part}_{_rate_label(key)}" for key in rates for part in ("net", "vat")]
    columns += ["vat"] + CLOSING_COLUMNS
    return Journal(columns, [_journal_row(invoice, rates) for invoice in documents])


def _journal_row(invoice: Invoice, rates: list[tuple[str, Decimal]]) -> list:
    per_rate = {key: (Decimal(0), Decimal(0)) for key in rates}
    for row in invoice.vat_breakdown:
        net, vat = per_rate[_rate_key(row)]
        taxable = row.get("excl_vat", row.get("taxable"))
        per_rate[_rate_key(row)] = (net + Decimal(str(taxable or 0)), vat + Decimal(str(row.get("vat") or 0)))
    buyer = invoice.buyer or {}
    customer = invoice.customer
    row = [
        invoice.number, invoice.kind, invoice.issue_date, invoice.due_date, invoice.period_start,
        invoice.period_end - timedelta(days=1),  # printed inclusive, as on the invoice
        buyer.get("number") or customer.number, buyer.get("name") or customer.name,
        buyer.get("vat_id", customer.vat_id) or "",
        str(invoice.currency), _signed(invoice, invoice.total_excl_vat),
    ]
    for key in rates:
        row += [_signed(invoice, per_rate[key][0]), _signed(invoice, per_rate[key][1])]
    credited = invoice.credited_invoice.number if invoice.credited_invoice_id else ""
    row += [_signed(invoice, invoice.total_vat), _signed(invoice, invoice.total_incl_vat), invoice_status(invoice),
            credited]
    return row


def _csv_value(value, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = f"{value:.2f}"
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def journal_csv(journal: Journal, *, decimal_comma: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(journal.columns)
    for row in journal.rows:
        writer.writerow([_csv_value(value, decimal_comma) for value in row])
    return out.getvalue().encode("utf-8-sig")


def journal_xlsx(journal: Journal, *, title: str = "Journal") -> bytes:
    from openpyxl import Workbook  # imported here: only exports need it

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    sheet.append(journal.columns)
    for row in journal.rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


# --- ZIP of PDFs ----------------------------------------------------------------------------------------
class _Sink(io.RawIOBase):
    """A write-only, unseekable stream that hands out what was written: zipfile then writes data
    descriptors instead of seeking back, so the archive can be streamed while it is made."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def pdf_zip_stream(invoices: Iterable[Invoice]) -> Iterator[bytes]:
    """A ZIP of the rendered PDFs of these documents (each as `<number>.pdf`) and `manifest.csv`: one line per
    document, with its SHA-256 when included or why it is missing (not rendered yet, rendering failed)."""
    sink = _Sink()
    manifest = [["number", "kind", "customer_number", "file", "sha256", "missing"]]
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for invoice in invoices:
            missing = pdf_missing(invoice)
            name = "" if missing else f"{invoice.number}.pdf"
            if not missing:
                digest = yield from _zip_member(archive, sink, invoice, name)
            manifest.append([invoice.number, invoice.kind, invoice.customer.number, name,
                             "" if missing else digest, missing])
        archive.writestr("manifest.csv", _manifest_csv(manifest))
    yield sink.drain()


def pdf_missing(invoice: Invoice) -> str:
    """Why this document's PDF cannot go into the archive; empty if it can."""
    if invoice.pdf:
        return "" if invoice.pdf.storage.exists(invoice.pdf.name) else "file missing from storage"
    return f"rendering failed: {invoice.pdf_error}" if invoice.pdf_error else "not rendered yet"


def _zip_member(archive: zipfile.ZipFile, sink: _Sink, invoice: Invoice, name: str):
    """Copies one PDF into the archive in chunks, yielding the bytes made so far; returns its SHA-256."""
    info = zipfile.ZipInfo(name, date_time=invoice.issue_date.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    digest = hashlib.sha256()
    with invoice.pdf.open("rb") as source, archive.open(info, mode="w") as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
            yield sink.drain()
    return digest.hexdigest()


def _manifest_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")
