"""Exports for bookkeeping: the journal as CSV and XLSX (a column pair per VAT rate, credit notes negative)
and the ZIP of a period's rendered PDFs with a manifest of the missing ones."""

import csv
import hashlib
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.billing.test_accounting_helpers import (
    accountant,
    credit,
    document,
    pdf_attach,
    private_storage_in,
)
from tests.factories import CustomerFactory

JULY = {"issued": "2026-07"}



@pytest.fixture
def private_storage(db, settings, tmp_path):
    return private_storage_in(settings, tmp_path)

@pytest.fixture
def accountant_client(client, db):
    client.force_login(accountant())
    return client


@pytest.fixture
def july(db):
    """Two invoices issued in July 2026 (one with two VAT rates, one reverse-charged), a credit note, and an
    invoice issued in August that no July export may contain."""
    company = CustomerFactory(name="Müller & Söhne GmbH", kind="company", vat_id="ATU12345678", country="AT")
    mixed = document(nets=[("19", "100.00"), ("7", "20.00")], issue_date=date(2026, 7, 1))
    reverse_charged = document(company, nets=[("0", "50.00")], category="AE", issue_date=date(2026, 7, 2))
    note = credit(mixed, amount="10.00", issue_date=date(2026, 7, 20))
    august = document(issue_date=date(2026, 8, 1))
    return {"mixed": mixed, "reverse_charged": reverse_charged, "note": note, "august": august}


def _csv_rows(response) -> list[dict]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # the byte-order mark Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_journal_has_one_row_per_document_of_the_month_with_a_column_pair_per_vat_rate(accountant_client, july):
    response = accountant_client.get(reverse("accounting:journal-csv"), JULY)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="journal-2026-07.csv"'
    rows = _csv_rows(response)
    assert list(rows[0]) == [
        "number", "kind", "issue_date", "due_date", "period_start", "period_end", "customer_number",
        "customer_name", "vat_id", "currency", "net", "net_S_19", "vat_S_19", "net_S_7", "vat_S_7", "net_AE_0",
        "vat_AE_0", "vat", "gross", "payment_state", "credited_invoice",
    ]  # fmt: skip
    by_number = {row["number"]: row for row in rows}
    assert set(by_number) == {july["mixed"].number, july["reverse_charged"].number, july["note"].number}
    mixed = by_number[july["mixed"].number]
    assert (mixed["net"], mixed["net_S_19"], mixed["vat_S_19"], mixed["net_S_7"], mixed["vat_S_7"]) == (
        "120.00", "100.00", "19.00", "20.00", "1.40")
    assert (mixed["vat"], mixed["gross"], mixed["net_AE_0"], mixed["issue_date"]) == (
        "20.40", "140.40", "0.00", "2026-07-01")
    assert mixed["period_end"] == "2026-06-30"  # inclusive, as printed


def test_csv_journal_shows_credit_notes_negative_and_the_buyer_as_invoiced(accountant_client, july):
    rows = {row["number"]: row for row in _csv_rows(accountant_client.get(reverse("accounting:journal-csv"), JULY))}

    note = rows[july["note"].number]
    assert (note["kind"], note["net"], note["net_S_19"], note["vat_S_19"], note["gross"]) == (
        "credit_note", "-10.00", "-10.00", "-1.90", "-11.90")
    assert note["credited_invoice"] == july["mixed"].number
    company = rows[july["reverse_charged"].number]
    assert (company["customer_name"], company["vat_id"], company["net_AE_0"], company["vat_AE_0"]) == (
        "Müller & Söhne GmbH", "ATU12345678", "50.00", "0.00")


def test_csv_journal_with_decimal_comma_for_importers_that_want_it(accountant_client, july):
    response = accountant_client.get(reverse("accounting:journal-csv"), {**JULY, "decimal": "comma"})

    row = {r["number"]: r for r in _csv_rows(response)}[july["mixed"].number]
    assert (row["net"], row["vat_S_7"]) == ("120,00", "1,40")


def test_xlsx_journal_has_the_same_columns_with_typed_numbers_and_dates(accountant_client, july):
    from openpyxl import load_workbook

    response = accountant_client.get(reverse("accounting:journal-xlsx"), JULY)

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:3] == ["number", "kind", "issue_date"] and "vat_S_19" in header
    mixed = dict(zip(header, next(row for row in rows if row[0] == july["mixed"].number), strict=True))
    assert mixed["vat_S_19"] == Decimal("19.00") or mixed["vat_S_19"] == 19
    assert mixed["issue_date"].date() == date(2026, 7, 1)
    assert len(rows) == 3


def test_payment_state_column_says_paid_overdue_or_credited(accountant_client, july):
    from billing.models import Invoice

    Invoice.objects.filter(pk=july["reverse_charged"].pk).update(paid_at="2026-07-10T10:00:00Z")

    rows = {r["number"]: r for r in _csv_rows(accountant_client.get(reverse("accounting:journal-csv"), JULY))}

    assert rows[july["reverse_charged"].number]["payment_state"] == "paid"
    assert rows[july["mixed"].number]["payment_state"] == "overdue"  # due 2026-07-15, long past
    assert rows[july["note"].number]["payment_state"] == "issued"


def test_zip_holds_the_rendered_pdfs_of_the_month_and_a_manifest_of_the_missing(accountant_client, private_storage,
                                                                                 july):
    contents = {key: pdf_attach(july[key]) for key in ("mixed", "note", "august")}  # reverse_charged: not yet

    response = accountant_client.get(reverse("accounting:invoice-zip"), JULY)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="invoices-2026-07.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == sorted(
        [f"{july['mixed'].number}.pdf", f"{july['note'].number}.pdf", "manifest.csv"])
    assert archive.read(f"{july['mixed'].number}.pdf") == contents["mixed"]
    manifest = {row["number"]: row for row in csv.DictReader(
        io.StringIO(archive.read("manifest.csv").decode("utf-8-sig")), delimiter=";")}
    assert manifest[july["reverse_charged"].number]["missing"] == "not rendered yet"
    assert manifest[july["mixed"].number]["sha256"] == hashlib.sha256(contents["mixed"]).hexdigest()
    assert july["august"].number not in manifest


def test_zip_is_streamed_chunk_by_chunk_under_asgi(async_client, private_storage, july):
    # Run from this (sync) test through async_to_sync, so that the view's database reads come back to this
    # thread and see the test's data.
    from asgiref.sync import async_to_sync

    pdf_attach(july["mixed"])
    user = accountant()

    async def download():
        await async_client.aforce_login(user)
        response = await async_client.get(reverse("accounting:invoice-zip"), JULY)
        streamed_async = hasattr(response.streaming_content, "__aiter__")
        return response, streamed_async, b"".join([chunk async for chunk in response.streaming_content])

    response, streamed_async, body = async_to_sync(download)()

    assert response.status_code == 200
    assert streamed_async  # not a list Django read to its end before sending
    assert f"{july['mixed'].number}.pdf" in zipfile.ZipFile(io.BytesIO(body)).namelist()
