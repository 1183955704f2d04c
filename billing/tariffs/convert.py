"""Stored tariffs to and from the pricing engine's `billing.pricing.Tariff`: one column group per dimension
becomes one price component, restriction columns become TariffRestrictions, and back.

Components are written in the order FLAT, ENERGY, TIME, PARKING_TIME, the order the OCPI examples use, so an
imported example exports as it came. Paths in errors are OCPI paths (`elements[1].price_components[0].price`);
`element_field_for_path` tells forms which column such a path is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from billing import pricing
from billing.models import PriceFeed, Tariff, TariffElement
from billing.pricing import DayOfWeek, Dimension, ReservationRestriction, TariffError, TariffType

#: Each dimension's columns on TariffElement: price, VAT, step size.
DIMENSION_COLUMNS = {
    Dimension.FLAT: ("flat_price", "flat_vat", "flat_step"),
    Dimension.ENERGY: ("energy_price", "energy_vat", "energy_step_wh"),
    Dimension.TIME: ("time_price", "time_vat", "time_step_s"),
    Dimension.PARKING_TIME: ("parking_price", "parking_vat", "parking_step_s"),
}
DYNAMIC_COLUMNS = {"feed": "energy_feed", "margin": "energy_feed_margin", "min_price": "energy_feed_min_price",
                   "max_price": "energy_feed_max_price"}
#: OCPI restriction name -> column. Times, dates and kWh have the same name.
RESTRICTION_COLUMNS = {
    "start_time": "start_time", "end_time": "end_time", "start_date": "start_date", "end_date": "end_date",
    "min_kwh": "min_kwh", "max_kwh": "max_kwh", "min_current": "min_current_a", "max_current": "max_current_a",
    "min_power": "min_power_kw", "max_power": "max_power_kw", "min_duration": "min_duration_s",
    "max_duration": "max_duration_s", "day_of_week": "days_of_week", "reservation": "reservation",
}  # fmt: skip
#: OCPI tariff field -> Tariff column, for errors about the header.
HEADER_COLUMNS = {
    "currency": "currency", "type": "type", "tariff_alt_text": "alt_text", "tariff_alt_url": "alt_url",
    "min_price.excl_vat": "min_price_excl_vat", "min_price.incl_vat": "min_price_incl_vat",
    "max_price.excl_vat": "max_price_excl_vat", "max_price.incl_vat": "max_price_incl_vat",
    "start_date_time": "start_date_time", "end_date_time": "end_date_time", "energy_mix": "energy_mix",
    "country_code": "country_code", "party_id": "party_id", "id": "ocpi_id",
}  # fmt: skip


def tariff_to_pricing(tariff: Tariff) -> pricing.Tariff:
    """The engine's tariff for a stored one (elements in position order). Raises `TariffError` with the OCPI
    path for anything the engine refuses."""
    if "elements" in getattr(tariff, "_prefetched_objects_cache", {}):  # list pages prefetch elements and feeds
        elements = sorted(tariff.elements.all(), key=lambda element: (element.position, element.pk))
    else:
        elements = tariff.elements.select_related("energy_feed").order_by("position", "id")
    return pricing_tariff_from_rows(tariff, elements)


def pricing_tariff_from_rows(tariff: Tariff, elements: Iterable[TariffElement]) -> pricing.Tariff:
    """As `tariff_to_pricing`, for unsaved rows too (the admin validates the form's values before saving)."""
    return pricing.Tariff(
        currency=str(tariff.currency),
        elements=tuple(_element_to_pricing(element, index) for index, element in enumerate(elements)),
        min_price=_price(tariff.min_price_excl_vat, tariff.min_price_incl_vat, "min_price"),
        max_price=_price(tariff.max_price_excl_vat, tariff.max_price_incl_vat, "max_price"),
        start_date_time=tariff.start_date_time,
        end_date_time=tariff.end_date_time,
        type=TariffType(tariff.type) if tariff.type else None,
        country_code=tariff.country_code or None,
        party_id=tariff.party_id or None,
        id=tariff.ocpi_id or None,
        tariff_alt_text=_alt_texts(tariff.alt_text),
        tariff_alt_url=tariff.alt_url or None,
        energy_mix=tariff.energy_mix,
        last_updated=tariff.last_updated,
    )


def tariff_to_ocpi_document(tariff: Tariff, *, extensions: bool = True) -> dict:
    """The OCPI 2.2.1 Tariff object (country_code, party_id, id = ocpi_id, last_updated). With
    `extensions=False`, for roaming partners, dynamic prices show as their announced price only."""
    return pricing.tariff_to_ocpi(tariff_to_pricing(tariff), extensions=extensions)


def _price(excl_vat: Decimal | None, incl_vat: Decimal | None, path: str) -> pricing.Price | None:
    if excl_vat is None and incl_vat is None:
        return None
    if excl_vat is None:
        raise TariffError(f"{path}.excl_vat", "is required when incl_vat is given")
    return pricing.Price(excl_vat=excl_vat, incl_vat=incl_vat)


def _alt_texts(value) -> tuple[pricing.DisplayText, ...]:
    if not value:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise TariffError("tariff_alt_text", 'must be a list of {"language": ..., "text": ...}')
    texts = []
    for index, item in enumerate(value):
        language, text = item.get("language"), item.get("text")
        if not isinstance(language, str) or len(language) != 2:
            raise TariffError(f"tariff_alt_text[{index}].language", "must be an ISO 639-1 code of 2 letters")
        if not isinstance(text, str) or not text:
            raise TariffError(f"tariff_alt_text[{index}].text", "must be a non-empty text")
        texts.append(pricing.DisplayText(language=language, text=text))
    return tuple(texts)


def _element_to_pricing(element: TariffElement, index: int) -> pricing.TariffElement:
    components = []
    for dimension, (price_column, vat_column, step_column) in DIMENSION_COLUMNS.items():
        price = getattr(element, price_column)
        if price is None:
            continue
        components.append(pricing.PriceComponent(
            type=dimension,
            price=price,
            step_size=getattr(element, step_column),
            vat=getattr(element, vat_column),
            dynamic=_dynamic(element) if dimension is Dimension.ENERGY else None,
        ))
    if not components:
        raise TariffError(f"elements[{index}].price_components", "must contain at least one price component")
    return pricing.TariffElement(price_components=tuple(components), restrictions=_restrictions(element, index))


def _dynamic(element: TariffElement) -> pricing.DynamicPrice | None:
    if element.energy_feed_id is None:
        return None
    return pricing.DynamicPrice(
        feed=element.energy_feed.code,
        margin=element.energy_feed_margin if element.energy_feed_margin is not None else Decimal(0),
        min_price=element.energy_feed_min_price,
        max_price=element.energy_feed_max_price,
    )


def _restrictions(element: TariffElement, index: int) -> pricing.TariffRestrictions | None:
    values = {name: getattr(element, column) for name, column in RESTRICTION_COLUMNS.items()}
    days = values.pop("day_of_week") or []
    reservation = values.pop("reservation") or None
    if not days and reservation is None and all(value is None for value in values.values()):
        return None
    path = f"elements[{index}].restrictions"
    try:
        day_of_week = frozenset(DayOfWeek(day) for day in days)
    except (TypeError, ValueError):
        raise TariffError(f"{path}.day_of_week", f"must list days among {', '.join(DayOfWeek)}") from None
    return pricing.TariffRestrictions(
        **values, day_of_week=day_of_week,
        reservation=ReservationRestriction(reservation) if reservation else None,
    )


# -- the other way: an engine tariff into rows ---------------------------------------------------------------


def header_fields(parsed: pricing.Tariff) -> dict:
    """Tariff columns from a parsed OCPI document; country_code, party_id and id only when it gives them."""
    fields = {
        "currency": parsed.currency,
        "type": parsed.type.value if parsed.type else "",
        "alt_text": [{"language": t.language, "text": t.text} for t in parsed.tariff_alt_text],
        "alt_url": parsed.tariff_alt_url or "",
        "min_price_excl_vat": parsed.min_price.excl_vat if parsed.min_price else None,
        "min_price_incl_vat": parsed.min_price.incl_vat if parsed.min_price else None,
        "max_price_excl_vat": parsed.max_price.excl_vat if parsed.max_price else None,
        "max_price_incl_vat": parsed.max_price.incl_vat if parsed.max_price else None,
        "start_date_time": parsed.start_date_time,
        "end_date_time": parsed.end_date_time,
        "energy_mix": dict(parsed.energy_mix) if parsed.energy_mix is not None else None,
    }
    for name, column in (("country_code", "country_code"), ("party_id", "party_id"), ("id", "ocpi_id")):
        if getattr(parsed, name) is not None:
            fields[column] = getattr(parsed, name).upper() if name != "id" else parsed.id
    return fields


def element_rows(parsed: pricing.Tariff, *, currency: str) -> list[TariffElement]:
    """Unsaved TariffElement rows, positions 0..n. A dynamic price must name a feed we have, in the tariff's
    currency; otherwise `TariffError` on its path."""
    feeds = {feed.code: feed for feed in PriceFeed.objects.filter(code__in=_feed_codes(parsed))}
    rows = []
    for index, element in enumerate(parsed.elements):
        row = TariffElement(position=index)
        for number, component in enumerate(element.price_components):
            price_column, vat_column, step_column = DIMENSION_COLUMNS[component.type]
            setattr(row, price_column, component.price)
            setattr(row, vat_column, component.vat)
            setattr(row, step_column, component.step_size)
            if component.dynamic is not None:
                path = f"elements[{index}].price_components[{number}].dynamic_price.feed"
                _set_dynamic(row, component.dynamic, feeds, path, currency)
        if element.restrictions is not None:
            _set_restrictions(row, element.restrictions)
        rows.append(row)
    return rows


def _feed_codes(parsed: pricing.Tariff) -> set[str]:
    return {c.dynamic.feed for e in parsed.elements for c in e.price_components if c.dynamic is not None}


def _set_dynamic(row: TariffElement, dynamic: pricing.DynamicPrice, feeds: dict, path: str, currency: str) -> None:
    feed = feeds.get(dynamic.feed)
    if feed is None:
        raise TariffError(path, f"unknown price feed {dynamic.feed!r}")
    if str(feed.currency) != currency:
        raise TariffError(path, f"the feed's prices are in {feed.currency}, the tariff's in {currency}")
    row.energy_feed = feed
    row.energy_feed_margin = dynamic.margin
    row.energy_feed_min_price = dynamic.min_price
    row.energy_feed_max_price = dynamic.max_price


def _set_restrictions(row: TariffElement, restrictions: pricing.TariffRestrictions) -> None:
    for name, column in RESTRICTION_COLUMNS.items():
        value = getattr(restrictions, name)
        if name == "day_of_week":
            value = [day.value for day in sorted(value, key=lambda day: day.weekday)]
        elif name == "reservation":
            value = value.value if value else ""
        setattr(row, column, value)


def element_field_for_path(path: str, element: TariffElement) -> tuple[int, str | None] | None:
    """For an OCPI path inside `elements[i]`: (i, the column it is about, or None for the element as a whole).
    `element` is the i-th row, needed to know which dimension `price_components[j]` is."""
    if not path.startswith("elements["):
        return None
    index_text, _, rest = path[len("elements["):].partition("]")
    if not index_text.isdigit():
        return None
    rest = rest.lstrip(".")
    if rest.startswith("restrictions."):
        name = rest[len("restrictions."):].split("[")[0]
        return int(index_text), RESTRICTION_COLUMNS.get(name)
    if rest.startswith("price_components["):
        return int(index_text), _component_column(rest, element)
    return int(index_text), None


def _component_column(rest: str, element: TariffElement) -> str | None:
    number_text, _, leaf = rest[len("price_components["):].partition("]")
    present = [d for d, (price_column, _, _) in DIMENSION_COLUMNS.items() if getattr(element, price_column) is not None]
    if not number_text.isdigit() or int(number_text) >= len(present):
        return None
    price_column, vat_column, step_column = DIMENSION_COLUMNS[present[int(number_text)]]
    leaf = leaf.lstrip(".")
    if leaf.startswith("dynamic_price"):
        return DYNAMIC_COLUMNS.get(leaf.partition(".")[2], "energy_feed")
    return {"price": price_column, "vat": vat_column, "step_size": step_column}.get(leaf, price_column)
