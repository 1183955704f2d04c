"""Gapless document numbers: `INV-2026-000123`, `CN-2026-000007`, one series per prefix and year.

The counter row is locked (SELECT ... FOR UPDATE) by the transaction that issues the document and incremented
there, so concurrent issuers queue on it, and a transaction that rolls back takes its increment with it: the
next issuer gets the same number, and no gap appears. Take the number as the last step of issuing, to hold the
lock as briefly as possible."""

from __future__ import annotations

from django.db import transaction

from billing.models import Invoice, NumberSeries

PREFIXES = {Invoice.Kind.INVOICE: "INV", Invoice.Kind.CREDIT_NOTE: "CN"}
DIGITS = 6


def number_take(*, kind: str, year: int) -> str:
    """The next number of the kind's series for `year`; must run inside the issuing transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_take runs inside the transaction that issues the document")
    prefix = PREFIXES[kind]
    # INSERT ... ON CONFLICT DO NOTHING: the first issuer of a year creates the row without racing the others.
    NumberSeries.objects.bulk_create([NumberSeries(prefix=prefix, year=year)], ignore_conflicts=True)
    series = NumberSeries.objects.select_for_update(of=("self",)).get(prefix=prefix, year=year)
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return f"{prefix}-{year}-{series.last_number:0{DIGITS}d}"
