"""Builders for session facts in tests: a session is a local start and a list of charging and parking parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.pricing import MeterInterval, Reservation, SessionFacts, Tariff, price_session, tariff_from_ocpi

from .spec_tariffs import load

BERLIN = "Europe/Berlin"


@dataclass(frozen=True)
class Charge:
    """Charging for a while: energy delivered, power (W) and current (A, sum over phases)."""

    minutes: float
    energy_wh: int
    power_w: int | Decimal | None = None
    current_a: int | Decimal | None = None


@dataclass(frozen=True)
class Park:
    """Plugged in, no energy flowing."""

    minutes: float


def local(text: str, zone: str = BERLIN) -> datetime:
    """'2026-06-01 09:30' in the location's zone, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def session(start: str | datetime, *parts: Charge | Park, zone: str = BERLIN, reserved_minutes: float | None = None):
    """Session facts starting at `start` (local), one meter interval per part, optionally after a reservation."""
    begin = local(start, zone) if isinstance(start, str) else start
    intervals = []
    moment = begin
    for part in parts:
        end = moment + timedelta(minutes=part.minutes)
        if isinstance(part, Charge):
            intervals.append(MeterInterval(moment, end, part.energy_wh, part.power_w, part.current_a))
        else:
            intervals.append(MeterInterval(moment, end, 0, 0, 0))
        moment = end
    reservation = None
    if reserved_minutes is not None:
        reservation = Reservation(begin - timedelta(minutes=reserved_minutes), begin)
    return SessionFacts(begin, moment, zone, tuple(intervals), reservation)


def spec_tariff(name: str) -> Tariff:
    return tariff_from_ocpi(load(name))


def tariff(*elements: dict, currency: str = "EUR", **fields) -> Tariff:
    """A tariff from OCPI element dicts, with numbers as strings for exactness: price("0.25") etc."""
    return tariff_from_ocpi({"currency": currency, "elements": list(elements), **fields})


def element(*components: dict, **restrictions) -> dict:
    document = {"price_components": list(components)}
    if restrictions:
        document["restrictions"] = restrictions
    return document


def component(dimension: str, price: str, step_size: int = 1, vat: str | None = None, **extra) -> dict:
    document = {"type": dimension, "price": Decimal(price), "step_size": step_size, **extra}
    if vat is not None:
        document["vat"] = Decimal(vat)
    return document


def totals(priced) -> tuple[str, str]:
    """The rounded totals as strings, as a driver reads them: ('9.00', '10.30')."""
    return str(priced.total.excl_vat), str(priced.total.incl_vat)


def billed(priced, dimension, *, reservation: bool = False) -> list[tuple[int, Decimal, Decimal]]:
    """(element index, billed quantity, amount excl. VAT) of each period of a dimension, in order."""
    return [
        (p.element_index, p.billed, p.amount_excl_vat) for p in priced.periods_of(dimension, reservation=reservation)
    ]


__all__ = ["Charge", "Park", "local", "price_session", "session", "spec_tariff", "tariff", "element", "component"]
