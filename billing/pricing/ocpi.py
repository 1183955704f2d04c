"""OCPI 2.2.1 Tariff JSON in and out: `tariff_from_ocpi` reads a Tariff object (as `json.loads` gives it)
into a `Tariff` or raises `TariffError(field, rule)`; `tariff_to_ocpi` writes it back.

Numbers come out as `Decimal`; a JSON encoder must write them as JSON numbers (DRF's encoder does)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from .errors import TariffError
from .tariffs import (
    DayOfWeek,
    Dimension,
    DisplayText,
    DynamicPrice,
    Price,
    PriceComponent,
    ReservationRestriction,
    Tariff,
    TariffElement,
    TariffRestrictions,
    TariffType,
)

#: Not OCPI: the key under which a price component says its energy price follows a price feed.
DYNAMIC_PRICE_KEY = "dynamic_price"

_TARIFF_FIELDS = {
    "country_code", "party_id", "id", "currency", "type", "tariff_alt_text", "tariff_alt_url", "min_price",
    "max_price", "elements", "start_date_time", "end_date_time", "energy_mix", "last_updated",
}  # fmt: skip
_ELEMENT_FIELDS = {"price_components", "restrictions"}
_COMPONENT_FIELDS = {"type", "price", "vat", "step_size", DYNAMIC_PRICE_KEY}
_DYNAMIC_FIELDS = {"feed", "margin", "min_price", "max_price"}
_PRICE_FIELDS = {"excl_vat", "incl_vat"}
_DISPLAY_TEXT_FIELDS = {"language", "text"}
_RESTRICTION_NUMBERS = ("min_kwh", "max_kwh", "min_current", "max_current", "min_power", "max_power")
_RESTRICTION_FIELDS = {
    "start_time", "end_time", "start_date", "end_date", *_RESTRICTION_NUMBERS, "min_duration", "max_duration",
    "day_of_week", "reservation",
}  # fmt: skip

_TIME_RE = re.compile(r"([0-1][0-9]|2[0-3]):[0-5][0-9]")
_DATE_RE = re.compile(r"([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
# OCPI DateTime: RFC 3339 in UTC, "Z" or no designator, optional fractional seconds; no offsets.
_DATETIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?Z?")
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
_PARTY_RE = re.compile(r"[A-Za-z0-9]{3}")


def tariff_from_ocpi(document: Mapping) -> Tariff:
    """Parse an OCPI 2.2.1 Tariff object. Unknown fields are refused: a misspelt `restriction` must not turn a
    night price into an all-day price. country_code, party_id, id and last_updated are checked when present but
    not required, because our own platform assigns them."""
    _check_object(document, "", _TARIFF_FIELDS)
    elements = _list(document, "elements", "", required=True)
    return Tariff(
        currency=_string(document, "currency", "", required=True),
        elements=tuple(_element(item, f"elements[{i}]") for i, item in enumerate(elements)),
        min_price=_price(document.get("min_price"), "min_price"),
        max_price=_price(document.get("max_price"), "max_price"),
        start_date_time=_datetime(document.get("start_date_time"), "start_date_time"),
        end_date_time=_datetime(document.get("end_date_time"), "end_date_time"),
        type=_choice(document.get("type"), "type", TariffType),
        country_code=_matching(document, "country_code", _COUNTRY_RE, "must be 2 letters (ISO 3166 alpha-2)"),
        party_id=_matching(document, "party_id", _PARTY_RE, "must be 3 letters or digits"),
        id=_bounded_string(document, "id", 36),
        tariff_alt_text=tuple(
            _display_text(item, f"tariff_alt_text[{i}]")
            for i, item in enumerate(_list(document, "tariff_alt_text", ""))
        ),
        tariff_alt_url=_bounded_string(document, "tariff_alt_url", 255),
        energy_mix=_energy_mix(document.get("energy_mix")),
        last_updated=_datetime(document.get("last_updated"), "last_updated"),
    )


def tariff_to_ocpi(tariff: Tariff, *, extensions: bool = True) -> dict:
    """The OCPI 2.2.1 Tariff object. With `extensions=False` (for roaming partners) dynamic energy prices are
    written as their announced `price` only, which is what plain OCPI can say."""
    document = {}
    for name in ("country_code", "party_id", "id"):
        if getattr(tariff, name) is not None:
            document[name] = getattr(tariff, name)
    document["currency"] = tariff.currency
    if tariff.type is not None:
        document["type"] = tariff.type.value
    if tariff.tariff_alt_text:
        document["tariff_alt_text"] = [{"language": t.language, "text": t.text} for t in tariff.tariff_alt_text]
    if tariff.tariff_alt_url is not None:
        document["tariff_alt_url"] = tariff.tariff_alt_url
    for name in ("min_price", "max_price"):
        price = getattr(tariff, name)
        if price is not None:
            document[name] = {"excl_vat": price.excl_vat}
            if price.incl_vat is not None:
                document[name]["incl_vat"] = price.incl_vat
    document["elements"] = [_element_to_ocpi(element, extensions) for element in tariff.elements]
    for name in ("start_date_time", "end_date_time"):
        if getattr(tariff, name) is not None:
            document[name] = format_datetime(getattr(tariff, name))
    if tariff.energy_mix is not None:
        document["energy_mix"] = copy.deepcopy(dict(tariff.energy_mix))
    if tariff.last_updated is not None:
        document["last_updated"] = format_datetime(tariff.last_updated)
    return document


def format_datetime(moment: datetime) -> str:
    """OCPI DateTime: UTC with a Z, fractional seconds only when there are some."""
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    if "." in text:
        text = text.rstrip("0")
    return text + "Z"


# -- reading ------------------------------------------------------------------------------------------------


def _element(item, path: str) -> TariffElement:
    _check_object(item, path, _ELEMENT_FIELDS)
    components = _list(item, "price_components", path, required=True)
    restrictions = item.get("restrictions")
    return TariffElement(
        price_components=tuple(
            _component(component, f"{path}.price_components[{i}]") for i, component in enumerate(components)
        ),
        restrictions=None if restrictions is None else _restrictions(restrictions, f"{path}.restrictions"),
    )


def _component(item, path: str) -> PriceComponent:
    _check_object(item, path, _COMPONENT_FIELDS)
    dynamic = item.get(DYNAMIC_PRICE_KEY)
    if dynamic is not None:
        dynamic_path = f"{path}.{DYNAMIC_PRICE_KEY}"
        _check_object(dynamic, dynamic_path, _DYNAMIC_FIELDS)
        dynamic = DynamicPrice(
            feed=_string(dynamic, "feed", dynamic_path, required=True),
            margin=_number(dynamic.get("margin", 0), f"{dynamic_path}.margin"),
            min_price=_number(dynamic.get("min_price"), f"{dynamic_path}.min_price"),
            max_price=_number(dynamic.get("max_price"), f"{dynamic_path}.max_price"),
        )
    return PriceComponent(
        type=_choice(_required(item, "type", path), f"{path}.type", Dimension),
        price=_number(_required(item, "price", path), f"{path}.price"),
        vat=_number(item.get("vat"), f"{path}.vat"),
        step_size=_integer(_required(item, "step_size", path), f"{path}.step_size"),
        dynamic=dynamic,
    )


def _restrictions(item, path: str) -> TariffRestrictions:
    _check_object(item, path, _RESTRICTION_FIELDS)
    days = _list(item, "day_of_week", path)
    parsed_days = [_choice(day, f"{path}.day_of_week[{i}]", DayOfWeek) for i, day in enumerate(days)]
    if len(set(parsed_days)) != len(parsed_days):
        raise TariffError(f"{path}.day_of_week", "must not repeat a day")
    return TariffRestrictions(
        start_time=_time(item.get("start_time"), f"{path}.start_time"),
        end_time=_time(item.get("end_time"), f"{path}.end_time"),
        start_date=_date(item.get("start_date"), f"{path}.start_date"),
        end_date=_date(item.get("end_date"), f"{path}.end_date"),
        **{name: _number(item.get(name), f"{path}.{name}") for name in _RESTRICTION_NUMBERS},
        min_duration=_integer(item.get("min_duration"), f"{path}.min_duration"),
        max_duration=_integer(item.get("max_duration"), f"{path}.max_duration"),
        day_of_week=frozenset(parsed_days),
        reservation=_choice(item.get("reservation"), f"{path}.reservation", ReservationRestriction),
    )


def _price(item, path: str) -> Price | None:
    if item is None:
        return None
    _check_object(item, path, _PRICE_FIELDS)
    return Price(
        excl_vat=_number(_required(item, "excl_vat", path), f"{path}.excl_vat"),
        incl_vat=_number(item.get("incl_vat"), f"{path}.incl_vat"),
    )


def _display_text(item, path: str) -> DisplayText:
    _check_object(item, path, _DISPLAY_TEXT_FIELDS)
    language = _string(item, "language", path, required=True)
    if len(language) != 2:
        raise TariffError(f"{path}.language", "must be an ISO 639-1 code of 2 letters")
    text = _string(item, "text", path, required=True)
    if len(text) > 512:
        raise TariffError(f"{path}.text", "must be at most 512 characters")
    return DisplayText(language=language, text=text)


def _energy_mix(item) -> Mapping | None:
    if item is None:
        return None
    if not isinstance(item, Mapping):
        raise TariffError("energy_mix", "must be a JSON object")
    return MappingProxyType(copy.deepcopy(dict(item)))


# -- field readers: each names the field when the value breaks its rule -------------------------------------


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check_object(item, path: str, known: set[str]) -> None:
    if not isinstance(item, Mapping):
        raise TariffError(path or "tariff", "must be a JSON object")
    for name in item:
        if name not in known:
            raise TariffError(_join(path, str(name)), "unknown field")


def _required(item: Mapping, name: str, path: str):
    if item.get(name) is None:
        raise TariffError(_join(path, name), "is required")
    return item[name]


def _list(item: Mapping, name: str, path: str, *, required: bool = False) -> list:
    value = _required(item, name, path) if required else item.get(name)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise TariffError(_join(path, name), "must be a list")
    if required and not value:
        raise TariffError(_join(path, name), "must not be empty")
    return list(value)


def _string(item: Mapping, name: str, path: str, *, required: bool = False) -> str | None:
    value = _required(item, name, path) if required else item.get(name)
    if value is not None and not isinstance(value, str):
        raise TariffError(_join(path, name), "must be a string")
    return value


def _bounded_string(item: Mapping, name: str, length: int) -> str | None:
    value = _string(item, name, "")
    if value is not None and not 0 < len(value) <= length:
        raise TariffError(name, f"must be 1 to {length} characters")
    return value


def _matching(item: Mapping, name: str, pattern: re.Pattern, rule: str) -> str | None:
    value = _string(item, name, "")
    if value is not None and not pattern.fullmatch(value):
        raise TariffError(name, rule)
    return value


def _choice(value, path: str, enum):
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        raise TariffError(path, f"must be one of {', '.join(member.value for member in enum)}") from None


def _number(value, path: str) -> Decimal | None:
    """A JSON number as an exact Decimal; floats go through their shortest repr (0.1 stays 0.1)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TariffError(path, "must be a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:  # pragma: no cover - repr of a float is always a valid Decimal
        raise TariffError(path, "must be a number") from None
    if not number.is_finite():
        raise TariffError(path, "must be a number")
    return number


def _integer(value, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float | Decimal) and not isinstance(value, bool):
        if not (value.is_finite() if isinstance(value, Decimal) else abs(value) < float("inf")) or value != int(value):
            raise TariffError(path, "must be an integer")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TariffError(path, "must be an integer")
    return value


def _time(value, path: str) -> time | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _TIME_RE.fullmatch(value):
        raise TariffError(path, "must be a time of day HH:MM (00:00 to 23:59, 24-hour clock)")
    return time(int(value[:2]), int(value[3:]))


def _date(value, path: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise TariffError(path, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TariffError(path, "must be a date that exists in the calendar") from None


def _datetime(value, path: str) -> datetime | None:
    if value is None:
        return None
    match = _DATETIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise TariffError(path, "must be an OCPI date-time in UTC, e.g. 2019-06-30T23:59:59Z")
    try:
        moment = datetime.fromisoformat(match.group(1) + (match.group(2) or ""))
    except ValueError:
        raise TariffError(path, "must be a date-time that exists in the calendar") from None
    return moment.replace(tzinfo=UTC)


# -- writing ------------------------------------------------------------------------------------------------


def _element_to_ocpi(element: TariffElement, extensions: bool) -> dict:
    document = {"price_components": [_component_to_ocpi(c, extensions) for c in element.price_components]}
    if element.restrictions is not None:
        document["restrictions"] = _restrictions_to_ocpi(element.restrictions)
    return document


def _component_to_ocpi(component: PriceComponent, extensions: bool) -> dict:
    document = {"type": component.type.value, "price": component.price}
    if component.vat is not None:
        document["vat"] = component.vat
    document["step_size"] = component.step_size
    if extensions and component.dynamic is not None:
        dynamic = component.dynamic
        document[DYNAMIC_PRICE_KEY] = {"feed": dynamic.feed, "margin": dynamic.margin}
        for name in ("min_price", "max_price"):
            if getattr(dynamic, name) is not None:
                document[DYNAMIC_PRICE_KEY][name] = getattr(dynamic, name)
    return document


def _restrictions_to_ocpi(r: TariffRestrictions) -> dict:
    document = {}
    for name in ("start_time", "end_time"):
        if getattr(r, name) is not None:
            document[name] = getattr(r, name).strftime("%H:%M")
    for name in ("start_date", "end_date"):
        if getattr(r, name) is not None:
            document[name] = getattr(r, name).isoformat()
    for name in (*_RESTRICTION_NUMBERS, "min_duration", "max_duration"):
        if getattr(r, name) is not None:
            document[name] = getattr(r, name)
    if r.day_of_week:
        document["day_of_week"] = [day.value for day in sorted(r.day_of_week, key=lambda day: day.weekday)]
    if r.reservation is not None:
        document["reservation"] = r.reservation.value
    return document
