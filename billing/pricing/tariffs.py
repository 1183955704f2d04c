"""The tariff as OCPI 2.2.1 defines it (Tariff, TariffElement, PriceComponent, TariffRestrictions), as frozen
dataclasses that validate themselves: a Tariff that exists is one the engine can price."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from .errors import TariffError
from .money import PRICE_QUANTUM, is_currency_in_use


class Dimension(StrEnum):
    """TariffDimensionType: what a price component prices."""

    ENERGY = "ENERGY"  # per kWh, step_size in Wh
    FLAT = "FLAT"  # per session
    PARKING_TIME = "PARKING_TIME"  # per hour not charging, step_size in seconds
    TIME = "TIME"  # per hour charging (or reserved), step_size in seconds


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @property
    def weekday(self) -> int:
        """Monday is 0, as `date.weekday()`."""
        return _DAYS.index(self)


_DAYS = list(DayOfWeek)


class ReservationRestriction(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffType(StrEnum):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


@dataclass(frozen=True)
class Price:
    """OCPI Price: an amount excl. VAT and, optionally, incl. VAT."""

    excl_vat: Decimal
    incl_vat: Decimal | None = None


@dataclass(frozen=True)
class DynamicPrice:
    """Not OCPI: the energy price follows a price feed. Unit price = feed price + margin, clamped to
    [min_price, max_price] and never below zero. The component's own `price` stays the announced price
    (what an OCPI partner sees). Feed prices are per kWh excl. VAT in the tariff's currency."""

    feed: str
    margin: Decimal = Decimal(0)
    min_price: Decimal | None = None
    max_price: Decimal | None = None


@dataclass(frozen=True)
class PriceComponent:
    type: Dimension
    price: Decimal  # excl. VAT, per kWh / per hour / per session
    step_size: int  # Wh for ENERGY, seconds for TIME and PARKING_TIME; 0 means no rounding
    vat: Decimal | None = None  # percent; None means no VAT applies (not the same as 0 %)
    dynamic: DynamicPrice | None = None


@dataclass(frozen=True)
class TariffRestrictions:
    start_time: time | None = None  # local wall-clock time of the location
    end_time: time | None = None  # exclusive; before start_time means it wraps past midnight
    start_date: date | None = None  # local, inclusive
    end_date: date | None = None  # local, exclusive
    min_kwh: Decimal | None = None  # session energy so far, inclusive
    max_kwh: Decimal | None = None  # exclusive
    min_current: Decimal | None = None  # A, sum over phases, inclusive
    max_current: Decimal | None = None  # exclusive
    min_power: Decimal | None = None  # kW, inclusive
    max_power: Decimal | None = None  # exclusive
    min_duration: int | None = None  # seconds since the session started, inclusive
    max_duration: int | None = None  # exclusive
    day_of_week: frozenset[DayOfWeek] = frozenset()
    reservation: ReservationRestriction | None = None

    def __post_init__(self):
        object.__setattr__(self, "day_of_week", frozenset(self.day_of_week))

    def describe(self) -> str:
        """Plain words for the explanation: '22:00-06:00, Mon-Fri, < 32 A'."""
        parts = []
        if self.start_time or self.end_time:
            start = _hhmm(self.start_time) if self.start_time else "00:00"
            parts.append(f"{start}-{_hhmm(self.end_time) if self.end_time else '24:00'}")
        if self.day_of_week:
            parts.append(_describe_days(self.day_of_week))
        if self.start_date:
            parts.append(f"from {self.start_date.isoformat()}")
        if self.end_date:
            parts.append(f"before {self.end_date.isoformat()}")
        parts += _describe_range(self.min_kwh, self.max_kwh, "kWh", from_word="from", below_word="below")
        parts += _describe_range(self.min_current, self.max_current, "A", from_word=">=", below_word="<")
        parts += _describe_range(self.min_power, self.max_power, "kW", from_word=">=", below_word="<")
        if self.min_duration is not None:
            parts.append(f"after {describe_seconds(self.min_duration)}")
        if self.max_duration is not None:
            parts.append(f"first {describe_seconds(self.max_duration)}")
        if self.reservation is ReservationRestriction.RESERVATION:
            parts.append("reservation")
        elif self.reservation is ReservationRestriction.RESERVATION_EXPIRES:
            parts.append("expired reservation")
        return ", ".join(parts)


@dataclass(frozen=True)
class TariffElement:
    price_components: tuple[PriceComponent, ...]
    restrictions: TariffRestrictions | None = None

    def __post_init__(self):
        object.__setattr__(self, "price_components", tuple(self.price_components))


@dataclass(frozen=True)
class DisplayText:
    language: str
    text: str


@dataclass(frozen=True)
class Tariff:
    """An OCPI 2.2.1 Tariff. Only currency, elements, min/max price and validity matter for pricing; the
    other fields are kept so that a tariff survives an OCPI round trip unchanged."""

    currency: str
    elements: tuple[TariffElement, ...]
    min_price: Price | None = None
    max_price: Price | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    type: TariffType | None = None
    country_code: str | None = None
    party_id: str | None = None
    id: str | None = None
    tariff_alt_text: tuple[DisplayText, ...] = ()
    tariff_alt_url: str | None = None
    energy_mix: Mapping | None = field(default=None, hash=False)
    last_updated: datetime | None = None

    def __post_init__(self):
        object.__setattr__(self, "elements", tuple(self.elements))
        object.__setattr__(self, "tariff_alt_text", tuple(self.tariff_alt_text))
        _validate_tariff(self)

    def is_valid_at(self, moment: datetime) -> bool:
        """Whether the tariff is in force at `moment` (start inclusive, end exclusive)."""
        if self.start_date_time is not None and moment < self.start_date_time:
            return False
        return self.end_date_time is None or moment < self.end_date_time


# -- validation: the rules a tariff must follow, with the OCPI path of the field that breaks one -------------


def _validate_tariff(tariff: Tariff) -> None:
    if not isinstance(tariff.currency, str) or not is_currency_in_use(tariff.currency):
        raise TariffError("currency", "must be an ISO 4217 code of a currency in use, e.g. EUR")
    if not tariff.elements:
        raise TariffError("elements", "must contain at least one tariff element")
    if tariff.type is not None and not isinstance(tariff.type, TariffType):
        raise TariffError("type", f"must be one of {', '.join(TariffType)}")
    for index, element in enumerate(tariff.elements):
        _validate_element(element, f"elements[{index}]")
    for name in ("min_price", "max_price"):
        price = getattr(tariff, name)
        if price is not None:
            _check_amount(price.excl_vat, f"{name}.excl_vat")
            if price.incl_vat is not None:
                _check_amount(price.incl_vat, f"{name}.incl_vat")
                if price.incl_vat < price.excl_vat:
                    raise TariffError(f"{name}.incl_vat", "must not be lower than excl_vat")
    _validate_limits_order(tariff.min_price, tariff.max_price)
    for name in ("start_date_time", "end_date_time", "last_updated"):
        moment = getattr(tariff, name)
        if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
            raise TariffError(name, "must be an aware date-time")
    if tariff.start_date_time and tariff.end_date_time and tariff.end_date_time <= tariff.start_date_time:
        raise TariffError("end_date_time", "must be after start_date_time")
    feeds = {c.dynamic.feed for e in tariff.elements for c in e.price_components if c.dynamic is not None}
    if len(feeds) > 1:
        raise TariffError("elements", "dynamic prices must all follow the same price feed")


def _validate_limits_order(min_price: Price | None, max_price: Price | None) -> None:
    if min_price is None or max_price is None:
        return
    if max_price.excl_vat < min_price.excl_vat:
        raise TariffError("max_price.excl_vat", "must not be lower than min_price.excl_vat")
    if None not in (min_price.incl_vat, max_price.incl_vat) and max_price.incl_vat < min_price.incl_vat:
        raise TariffError("max_price.incl_vat", "must not be lower than min_price.incl_vat")


def _validate_element(element: TariffElement, path: str) -> None:
    if not element.price_components:
        raise TariffError(f"{path}.price_components", "must contain at least one price component")
    restrictions = element.restrictions
    reservation = restrictions is not None and restrictions.reservation is not None
    seen = set()
    for index, component in enumerate(element.price_components):
        component_path = f"{path}.price_components[{index}]"
        _validate_component(component, component_path)
        if component.type in seen:
            raise TariffError(f"{component_path}.type", "may appear only once per tariff element")
        seen.add(component.type)
        if reservation and component.type not in (Dimension.FLAT, Dimension.TIME):
            raise TariffError(f"{component_path}.type", "a reservation element may only price FLAT and TIME")
    if restrictions is not None:
        _validate_restrictions(restrictions, f"{path}.restrictions")


def _validate_component(component: PriceComponent, path: str) -> None:
    if not isinstance(component.type, Dimension):
        raise TariffError(f"{path}.type", f"must be one of {', '.join(sorted(Dimension))}")
    _check_amount(component.price, f"{path}.price")
    if component.vat is not None:
        _check_amount(component.vat, f"{path}.vat")
        if component.vat > 100:
            raise TariffError(f"{path}.vat", "must be a percentage between 0 and 100")
    _check_count(component.step_size, f"{path}.step_size")
    dynamic = component.dynamic
    if dynamic is not None:
        dynamic_path = f"{path}.dynamic_price"
        if component.type is not Dimension.ENERGY:
            raise TariffError(dynamic_path, "only ENERGY prices can follow a price feed")
        if not isinstance(dynamic.feed, str) or not dynamic.feed:
            raise TariffError(f"{dynamic_path}.feed", "must name a price feed")
        _check_amount(dynamic.margin, f"{dynamic_path}.margin", allow_negative=True)
        for name in ("min_price", "max_price"):
            if getattr(dynamic, name) is not None:
                _check_amount(getattr(dynamic, name), f"{dynamic_path}.{name}")
        if None not in (dynamic.min_price, dynamic.max_price) and dynamic.max_price < dynamic.min_price:
            raise TariffError(f"{dynamic_path}.max_price", "must not be lower than min_price")


def _validate_restrictions(r: TariffRestrictions, path: str) -> None:
    for name in ("start_time", "end_time"):
        value = getattr(r, name)
        if value is not None and (not isinstance(value, time) or value.second or value.microsecond or value.tzinfo):
            raise TariffError(f"{path}.{name}", "must be a local time of day HH:MM")
    for name in ("start_date", "end_date"):
        value = getattr(r, name)
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise TariffError(f"{path}.{name}", "must be a date YYYY-MM-DD")
    if r.start_date and r.end_date and r.end_date <= r.start_date:
        raise TariffError(f"{path}.end_date", "must be after start_date (end_date is exclusive)")
    for low, high in (("min_kwh", "max_kwh"), ("min_current", "max_current"), ("min_power", "max_power")):
        for name in (low, high):
            if getattr(r, name) is not None:
                _check_amount(getattr(r, name), f"{path}.{name}")
        _check_order(r, low, high, path)
    for name in ("min_duration", "max_duration"):
        if getattr(r, name) is not None:
            _check_count(getattr(r, name), f"{path}.{name}")
    _check_order(r, "min_duration", "max_duration", path)
    for day in r.day_of_week:
        if not isinstance(day, DayOfWeek):
            raise TariffError(f"{path}.day_of_week", f"must list days among {', '.join(DayOfWeek)}")
    if r.reservation is not None and not isinstance(r.reservation, ReservationRestriction):
        raise TariffError(f"{path}.reservation", f"must be one of {', '.join(ReservationRestriction)}")


def _check_order(r: TariffRestrictions, low: str, high: str, path: str) -> None:
    low_value, high_value = getattr(r, low), getattr(r, high)
    if low_value is not None and high_value is not None and high_value <= low_value:
        raise TariffError(f"{path}.{high}", f"must be greater than {low} (the element would never apply)")


def _check_amount(value, path: str, *, allow_negative: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TariffError(path, "must be a number")
    if value < 0 and not allow_negative:
        raise TariffError(path, "must not be negative")
    if value != value.quantize(PRICE_QUANTUM):
        raise TariffError(path, "must have at most 4 decimals")


def _check_count(value, path: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TariffError(path, "must be an integer")
    if value < 0:
        raise TariffError(path, "must not be negative")


# -- plain words --------------------------------------------------------------------------------------------

_DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def describe_day_numbers(numbers: list[int], names) -> str:
    """Weekday numbers (0 = Monday, ascending) as words, with runs of three or more days as a range:
    "Mon-Fri, Sun". `names[n]` is the word for day n (English here, translated on the drivers' pages)."""
    runs, run = [], [numbers[0]]
    for number in numbers[1:]:
        if number == run[-1] + 1:
            run.append(number)
        else:
            runs.append(run)
            run = [number]
    runs.append(run)
    words = []
    for run in runs:
        if len(run) > 2:
            words.append(f"{names[run[0]]}-{names[run[-1]]}")
        else:
            words += [str(names[number]) for number in run]
    return ", ".join(words)


def _describe_days(days: frozenset[DayOfWeek]) -> str:
    return describe_day_numbers(sorted(day.weekday for day in days), _DAY_ABBREVIATIONS)


def _describe_range(low, high, unit: str, *, from_word: str, below_word: str) -> list[str]:
    if low is not None and high is not None:
        return [f"{_number(low)}-{_number(high)} {unit}"]
    if low is not None:
        return [f"{from_word} {_number(low)} {unit}"]
    if high is not None:
        return [f"{below_word} {_number(high)} {unit}"]
    return []


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def describe_seconds(seconds: int) -> str:
    """A duration as drivers and staff read it: \"1 h 30 min\", \"45 s\"."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    words = [f"{hours} h"] if hours else []
    words += [f"{minutes} min"] if minutes else []
    words += [f"{seconds} s"] if seconds or not words else []
    return " ".join(words)
