"""Writing tariffs: from OCPI documents (the API, imports), duplicates, deletion. Each is one transaction and
validates through the pricing engine first, so a stored tariff is always one the engine can price."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing import pricing
from billing.models import Tariff, TariffElement
from billing.pricing import TariffError

from .convert import (
    DIMENSION_COLUMNS,
    DYNAMIC_COLUMNS,
    HEADER_COLUMNS,
    RESTRICTION_COLUMNS,
    element_rows,
    header_fields,
    tariff_to_pricing,
)

_DEFAULT_NAME_LENGTH = 100


def tariff_create_from_ocpi(*, document: Mapping, name: str | None = None) -> Tariff:
    """Store an OCPI 2.2.1 Tariff document. Without `name`, the tariff is named after its English alt text or
    its id. Raises `TariffError(path, rule)` for an invalid document, or an `id` already taken."""
    parsed = pricing.tariff_from_ocpi(document)
    rows = element_rows(parsed, currency=parsed.currency)
    tariff = Tariff(name=(name or _default_name(parsed))[:_DEFAULT_NAME_LENGTH], **header_fields(parsed))
    _check_ocpi_id_free(tariff)
    with transaction.atomic():
        _save_with_elements(tariff, rows)
    return tariff


def tariff_update_from_ocpi(*, tariff: Tariff, document: Mapping) -> Tariff:
    """Replace a tariff's header and elements with a document's (a PUT). Fields the document leaves out are
    cleared, as OCPI's PUT replaces the object; country_code, party_id and id stay unless it gives them."""
    parsed = pricing.tariff_from_ocpi(document)
    rows = element_rows(parsed, currency=parsed.currency)
    with transaction.atomic():
        tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
        for column, value in header_fields(parsed).items():
            setattr(tariff, column, value)
        _check_ocpi_id_free(tariff)
        tariff.elements.all().delete()
        _save_with_elements(tariff, rows)
    return tariff


def tariff_duplicate(*, tariff: Tariff, name: str | None = None) -> Tariff:
    """A copy with a new OCPI id and its elements, named "<name> (copy)": the start of next year's tariff."""
    with transaction.atomic():
        elements = list(tariff.elements.order_by("position", "id"))
        copy = Tariff.objects.get(pk=tariff.pk)
        copy.pk = None
        copy.ocpi_id = Tariff._meta.get_field("ocpi_id").get_default()
        copy.name = (name or f"{tariff.name} (copy)")[:_DEFAULT_NAME_LENGTH]
        copy.save()
        for element in elements:
            element.pk = None
            element.tariff = copy
        TariffElement.objects.bulk_create(elements)
    return copy


def tariff_delete(*, tariff: Tariff) -> None:
    """Delete a tariff nobody refers to. An assigned tariff, or one charge records or membership plans name,
    is kept: records must show what was charged; end its assignments instead."""
    with transaction.atomic():
        tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
        for relation, what in (("assignments", "assigned"), ("cdrs", "used by charge records"),
                               ("membership_plans", "used by membership plans")):
            if getattr(tariff, relation).exists():
                raise TariffError("tariff", f"cannot be deleted: it is {what}")
        tariff.delete()


def _save_with_elements(tariff: Tariff, rows: list[TariffElement]) -> None:
    _clean(tariff, rows)
    try:
        with transaction.atomic():
            tariff.save()
    except IntegrityError:  # a constraint the engine does not know; it checked order of limits and validity
        raise TariffError("tariff", "conflicts with a stored tariff or breaks a rule of the database") from None
    for row in rows:
        row.tariff = tariff
    TariffElement.objects.bulk_create(rows)
    tariff_to_pricing(tariff)  # the stored rows read back into the same tariff; fails loudly if not


def _clean(tariff: Tariff, rows: list[TariffElement]) -> None:
    """The columns' own limits (lengths, digits, id patterns) that OCPI allows wider, as TariffErrors."""
    try:
        tariff.full_clean(exclude=["name"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        column, messages = next(iter(exc.message_dict.items()))
        path = {c: p for p, c in HEADER_COLUMNS.items()}.get(column, column)
        raise TariffError(path, " ".join(messages)) from None
    for index, row in enumerate(rows):
        try:
            row.full_clean(exclude=["tariff"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            column, messages = next(iter(exc.message_dict.items()))
            raise TariffError(f"elements[{index}].{_element_path(row, column)}", " ".join(messages)) from None


def _element_path(row: TariffElement, column: str) -> str:
    for name, restriction_column in RESTRICTION_COLUMNS.items():
        if column == restriction_column:
            return f"restrictions.{name}"
    present = [d for d, columns in DIMENSION_COLUMNS.items() if getattr(row, columns[0]) is not None]
    for number, dimension in enumerate(present):
        price_column, vat_column, step_column = DIMENSION_COLUMNS[dimension]
        leaves = {price_column: "price", vat_column: "vat", step_column: "step_size"}
        leaves.update({c: f"dynamic_price.{n}" for n, c in DYNAMIC_COLUMNS.items()} if dimension == "ENERGY" else {})
        if column in leaves:
            return f"price_components[{number}].{leaves[column]}"
    return column


def _check_ocpi_id_free(tariff: Tariff) -> None:
    taken = Tariff.objects.filter(
        country_code=tariff.country_code, party_id=tariff.party_id, ocpi_id=tariff.ocpi_id
    ).exclude(pk=tariff.pk)
    if taken.exists():
        raise TariffError("id", f"is already the id of another tariff of {tariff.country_code} {tariff.party_id}")


def _default_name(parsed: pricing.Tariff) -> str:
    for text in parsed.tariff_alt_text:
        if text.language == "en":
            return text.text
    return f"Tariff {parsed.id}" if parsed.id else "Imported tariff"
