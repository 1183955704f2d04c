"""Admin helpers shared by every app: read-only admins, and the "Export selected as CSV" action."""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, label_for_field, lookup_field
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ReadOnlyMixin:
    """For rows that only services write (OCPP journal, charge records, ledgers): staff may look, not add,
    edit or delete. Works for ModelAdmin and inlines alike."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def selector_filter(title, parameter_name: str, choices: dict, select) -> type[admin.SimpleListFilter]:
    """A list filter whose choices are applied by a selector, `select(queryset, choice)`, so that the rule lives
    with its app (e.g. billing's payment states) and several admins filter by it the same way."""

    class SelectorFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            return list(choices.items())

        def queryset(self, request, queryset):
            return select(queryset, self.value()) if self.value() in choices else queryset

    SelectorFilter.title, SelectorFilter.parameter_name = title, parameter_name
    return SelectorFilter


# --- CSV export ------------------------------------------------------------------------------------------------

#: Columns never exported, whatever an admin lists: credentials and keys (a station's password hash, API token
#: keys, payment providers' references).
CSV_SECRET_NAMES = frozenset({"key", "secret", "token_key", "idempotency_key", "client_secret"})
#: What a spreadsheet would run as a formula (OWASP "CSV injection"); such cells get a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
CHUNK_ROWS = 2000


def csv_is_secret(name: str) -> bool:
    last = name.rsplit("__", 1)[-1]
    return last in CSV_SECRET_NAMES or "password" in last or "secret" in last or last.endswith("_hash")


def csv_safe(text: str) -> str:
    """The cell as text no spreadsheet evaluates: a leading = + - @ (or tab, CR) gets a quote in front, except
    a plain number such as -12.50 (a credit note's total), which is data, not a formula."""
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(value, field: models.Field | None = None) -> str:
    """A list column's value as staff read it, in a form spreadsheets keep exact: choices by their label,
    amounts as plain decimals (Money without its currency, which has a column of its own), times ISO 8601 in
    UTC, HTML (a link column) as its text."""
    if field is not None and getattr(field, "flatchoices", None) and value not in (None, ""):
        value = dict(field.flatchoices).get(value, value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if hasattr(value, "amount") and hasattr(value, "currency"):  # djmoney's Money
        value = value.amount
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if timezone.is_aware(value) else value).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    text = str(value)
    return html.unescape(strip_tags(text)) if "<" in text or "&" in text else text


class _Echo:
    """csv.writer writes into this and gets the line back, so each row can be yielded as it is made."""

    def write(self, value: str) -> str:
        return value


def _final_field(model, name: str) -> models.Field | None:
    try:
        return get_fields_from_path(model, name)[-1] if "__" in name else None
    except (FieldDoesNotExist, AttributeError):
        return None


def csv_columns(model_admin, request) -> list[str]:
    """The admin's list columns (or its `csv_export_columns`), without the checkbox and never a secret."""
    names = getattr(model_admin, "csv_export_columns", None) or model_admin.get_list_display(request)
    return [name for name in names if isinstance(name, str) and name != "action_checkbox"
            and not csv_is_secret(name)]


def csv_rows(model_admin, request, queryset) -> Iterator[list[str]]:
    """The header, then one row per object, read in chunks (a selection across all rows can be large)."""
    names = csv_columns(model_admin, request)
    model = model_admin.model
    yield [csv_safe(capfirst(str(label_for_field(name, model, model_admin)))) for name in names]
    fields = {name: _final_field(model, name) for name in names}
    for obj in queryset.iterator(chunk_size=CHUNK_ROWS):
        row = []
        for name in names:
            field, _attr, value = lookup_field(name, obj, model_admin)
            row.append(csv_safe(csv_text(value, field or fields[name])))
        yield row


@admin.action(description=_("Export selected as CSV"), permissions=["view"])
def export_as_csv(model_admin, request, queryset):
    """The selected rows (or all that match, with "select all") as CSV, streamed while it is read. Only for
    staff who may view the model: the admin hides the action from others, and refuses it here too."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    writer = csv.writer(_Echo())
    lines = (writer.writerow(row) for row in csv_rows(model_admin, request, queryset))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    opts = model_admin.model._meta
    filename = f"{opts.model_name}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


#: Read-only: the staff audit records one entry for the export instead of comparing every row (staff/hooks.py).
export_as_csv.audit_read_only = True

