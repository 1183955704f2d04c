"""Price feeds for dynamic tariffs: importing values (CSV upload, API) and reading them for the engine.

An import is all or nothing: one bad line refuses the file, naming the line and the reason, so a feed never
holds half a day of new prices next to half a day of old ones. Values of intervals already stored are
replaced (a corrected day-ahead publication), others added.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing import pricing
from billing.models import PriceFeed, PriceFeedValue
from billing.pricing import PriceFeedError

#: PriceFeedValue.price_per_kwh has 6 decimals: a per-MWh price with 3 decimals divides into it exactly.
PRICE_QUANTUM = Decimal("0.000001")
MAX_ABS_PRICE_PER_KWH = Decimal(1000000)  # the column holds 12 digits; beyond that it is a unit mistake
MAX_LINES = 200_000  # a year of quarter hours is 35,040


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    first_start: datetime | None
    last_start: datetime | None

    @property
    def total(self) -> int:
        return self.created + self.updated

    def __str__(self) -> str:
        if not self.total:
            return "no values"
        return (f"{self.total} values ({self.created} new, {self.updated} replaced) from "
                f"{self.first_start:%Y-%m-%d %H:%M} to {self.last_start:%Y-%m-%d %H:%M} UTC")


def price_feed_import_csv(*, feed: PriceFeed, file: IO | bytes | str, unit: Literal["kwh", "mwh"]) -> ImportResult:
    """Import "start,price" lines (ISO 8601 with an offset or Z; a header line is optional; `;` works too).
    Prices per MWh (`unit="mwh"`, as exchanges publish them) are converted to per kWh. Raises ValidationError
    "line N: reason" for the first bad line and imports nothing then."""
    if unit not in ("kwh", "mwh"):
        raise ValidationError({"unit": ['Must be "kwh" or "mwh".']})
    values = []
    for number, row in _rows(file):
        if number == 1 and _is_header(row):
            continue
        values.append(_parse_row(row, number, divisor=Decimal(1000) if unit == "mwh" else Decimal(1)))
    return _store(feed, values, label=lambda index: f"line {values[index][2]}")


def price_feed_import_values(*, feed: PriceFeed, values: list[tuple[datetime, Decimal]]) -> ImportResult:
    """Import (interval start, price per kWh) pairs; errors name the entry ("entry 3: ...")."""
    numbered = [(start, price, index) for index, (start, price) in enumerate(values)]
    for start, price, index in numbered:
        if not isinstance(start, datetime) or start.utcoffset() is None:
            raise ValidationError(f"entry {index}: the start must be an aware date-time (with an offset or Z)")
        if not isinstance(price, Decimal) or not price.is_finite():
            raise ValidationError(f"entry {index}: the price must be a number")
    return _store(feed, numbered, label=lambda index: f"entry {index}")


def price_feed_for(*, code: str, start: datetime, stop: datetime) -> pricing.PriceFeed:
    """The engine's feed with the values covering [start, stop] (from the interval that contains `start`).
    Raises PriceFeedError when no such feed exists; missing values surface when the engine needs them."""
    feed = PriceFeed.objects.filter(code=code).first()
    if feed is None:
        raise PriceFeedError("price_feed", f"there is no price feed {code!r}")
    rows = feed.values.filter(
        starts_at__gt=start - timedelta(seconds=feed.interval_s), starts_at__lte=stop
    ).values_list("starts_at", "price_per_kwh")
    return pricing.PriceFeed(dict(rows), interval_s=feed.interval_s)


# -- reading the file ---------------------------------------------------------------------------------------


def _rows(file) -> Iterable[tuple[int, list[str]]]:
    text = file if isinstance(file, str) else None
    if text is None:
        raw = file if isinstance(file, bytes) else file.read()
        try:
            text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text.") from None
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ValidationError(f"The file has more than {MAX_LINES} lines; split it.")
    delimiter = ";" if lines and ";" in lines[0] and "," not in lines[0] else ","
    for number, row in enumerate(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter), start=1):
        if row and any(cell.strip() for cell in row):
            yield number, row


def _is_header(row: list[str]) -> bool:
    return bool(row) and not row[0].strip()[:1].isdigit()


def _parse_row(row: list[str], number: int, *, divisor: Decimal) -> tuple[datetime, Decimal, int]:
    if len(row) != 2:
        raise ValidationError(f"line {number}: expected 2 columns (start, price), found {len(row)}")
    start_text, price_text = row[0].strip(), row[1].strip()
    try:
        start = datetime.fromisoformat(start_text.replace("Z", "+00:00") if start_text.endswith("Z") else start_text)
    except ValueError:
        raise ValidationError(f"line {number}: {start_text!r} is not an ISO 8601 date-time") from None
    if start.utcoffset() is None:
        raise ValidationError(f"line {number}: {start_text!r} has no UTC offset (add Z or +01:00)")
    try:
        price = Decimal(price_text)
    except InvalidOperation:
        raise ValidationError(f"line {number}: {price_text!r} is not a number (use a decimal point)") from None
    if not price.is_finite():
        raise ValidationError(f"line {number}: {price_text!r} is not a number (use a decimal point)")
    return start, price / divisor, number


# -- storing ------------------------------------------------------------------------------------------------


def _store(feed: PriceFeed, values: list[tuple[datetime, Decimal, int]], *, label) -> ImportResult:
    by_start: dict[datetime, Decimal] = {}
    for index, (start, price, _) in enumerate(values):
        _check_value(feed, start, price, label(index), by_start)
        by_start[start] = price.quantize(PRICE_QUANTUM)
    with transaction.atomic():
        existing = set(feed.values.filter(starts_at__in=list(by_start)).values_list("starts_at", flat=True))
        now = timezone.now()
        PriceFeedValue.objects.bulk_create(
            [PriceFeedValue(feed=feed, starts_at=start, price_per_kwh=price, imported_at=now)
             for start, price in by_start.items()],
            update_conflicts=True, unique_fields=["feed", "starts_at"], update_fields=["price_per_kwh", "imported_at"],
            batch_size=2000,
        )
    starts = sorted(by_start)
    return ImportResult(
        created=len(by_start) - len(existing), updated=len(existing),
        first_start=starts[0] if starts else None, last_start=starts[-1] if starts else None,
    )


def _check_value(feed: PriceFeed, start: datetime, price: Decimal, where: str, seen: dict) -> None:
    if int(start.timestamp()) % feed.interval_s or start.microsecond:
        raise ValidationError(
            f"{where}: {start.isoformat()} is not the start of one of the feed's {feed.interval_s} s intervals"
        )
    if start in seen:
        raise ValidationError(f"{where}: the interval {start.isoformat()} appears twice")
    if abs(price) >= MAX_ABS_PRICE_PER_KWH:
        raise ValidationError(f"{where}: {price} per kWh is implausible (per MWh given as per kWh?)")
