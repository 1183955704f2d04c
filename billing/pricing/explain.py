"""The explanation of a session's price: one line per priced period, then the totals, e.g.
"Tue 22:00-Wed 02:10 [22:00-06:00]: 12.345 kWh x 0.29 EUR/kWh = 3.58 EUR".

Two readers, two forms. Staff and accountants (the admin, the CDR API) read `explain_session`: amounts before
VAT, then the VAT per rate. Drivers read `explain_session_incl_vat`: the prices they were quoted and pay, incl.
VAT (the Price Indication Directive, the PAngV, AFIR), with the VAT stated once in the total.

Line amounts are shown rounded to the currency's minor unit; the totals are computed from exact amounts, so
shown lines can differ from the total by a cent."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from . import local_time
from .money import quantize_price
from .tariffs import Dimension

if TYPE_CHECKING:
    from .results import Amount, PricedPeriod, PricedSession

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def explain_session(priced: PricedSession) -> tuple[str, ...]:
    clock = _LocalClock(priced.time_zone)
    lines = [_describe_period(period, priced.currency, clock) for period in priced.periods]
    return (*lines, *_describe_totals(priced))


def explain_session_incl_vat(priced: PricedSession) -> tuple[str, ...]:
    """The driver's lines: each period at its price incl. VAT, then the total with the VAT it includes."""
    return (*describe_periods_incl_vat(priced), total_incl_vat("Total", priced.total, vat_rates(priced),
                                                               priced.currency))


def describe_periods_incl_vat(priced: PricedSession) -> list[str]:
    """The driver's lines before the total: each period incl. VAT, and a minimum or maximum price applied."""
    clock = _LocalClock(priced.time_zone)
    lines = [_describe_period(period, priced.currency, clock, incl_vat=True) for period in priced.periods]
    if priced.limit:
        word = {"min_price": "Minimum", "max_price": "Maximum"}.get(priced.limit, "Minimum and maximum")
        lines.append(f"{word} price applies: the components cost {_money(priced.subtotal.incl_vat, priced.currency)}")
    return lines


def vat_rates(priced: PricedSession) -> tuple[Decimal | None, ...]:
    """The VAT rates of the session's components (None: no VAT), in their order."""
    return tuple(line.rate for line in priced.vat_breakdown)


def total_incl_vat(word: str, total: Amount, rates: tuple[Decimal | None, ...], currency: str) -> str:
    """"Total: 7.17 EUR incl. 19% VAT (1.14 EUR)": the one place the driver's explanation names the VAT."""
    amount = f"{word}: {_money(total.incl_vat, currency)}"
    if not rates or set(rates) == {None}:
        return f"{amount} (no VAT)"
    rate = f" {_number(rates[0])}%" if len(set(rates)) == 1 else ""
    return f"{amount} incl.{rate} VAT ({_money(total.vat, currency)})"


class _LocalClock(dict):
    """Local "Mon 09:30" and date of each instant, worked out once per session (periods share boundaries)."""

    def __init__(self, zone_name: str):
        super().__init__()
        self.zone = local_time.zone(zone_name)

    def __missing__(self, moment: datetime) -> tuple[str, object]:
        at = moment.astimezone(self.zone)
        value = self[moment] = (_DAYS[at.weekday()], _clock(at), at.date())
        return value

    def moment(self, moment: datetime) -> str:
        day, clock, _ = self[moment]
        return f"{day} {clock}"

    def span(self, start: datetime, end: datetime) -> str:
        (first_day, first, first_date), (last_day, last, last_date) = self[start], self[end]
        if first_date == last_date:
            return f"{first_day} {first}-{last}"
        return f"{first_day} {first}-{last_day} {last}"


def _describe_period(period: PricedPeriod, currency: str, clock: _LocalClock, *, incl_vat: bool = False) -> str:
    dimension = period.dimension
    condition = f" [{period.condition}]" if period.condition else ""
    amount = _money(period.amount_incl_vat if incl_vat else period.amount_excl_vat, currency)
    vat = period.vat if incl_vat else None
    price = _price(_gross(period.unit_price, vat))
    if dimension is Dimension.FLAT:
        what = "reservation fee" if period.reservation else "flat fee"
        return f"{clock.moment(period.start)}{condition}: {what} = {amount}"
    span = clock.span(period.start, period.end)
    consumed, billed, step = period.consumed, period.billed, period.step_size
    if dimension is Dimension.ENERGY:
        quantity = f"{_kwh(consumed)} kWh"
        if billed != consumed:
            quantity += f" (billed {_kwh(billed)} kWh: steps of {step} Wh)"
        price += f" {currency}/kWh"
        if period.dynamic is not None:
            price += f" ({_feed_note(period, vat)})"
        return f"{span}{condition}: {quantity} x {price} = {amount}"
    word = "reservation" if period.reservation else {Dimension.TIME: "charging"}.get(dimension, "parking")
    quantity = f"{word} {_duration(consumed)}"
    if billed != consumed:
        quantity += f" (billed {_duration(billed)}: steps of {_duration(Decimal(step))})"
    return f"{span}{condition}: {quantity} x {price} {currency}/h = {amount}"


def _feed_note(period: PricedPeriod, vat: Decimal | None) -> str:
    dynamic = period.dynamic
    note = f"feed {_price(_gross(period.feed_price, vat))} + margin {_price(_gross(dynamic.margin, vat))}"
    if dynamic.min_price is not None:
        note += f", at least {_price(_gross(dynamic.min_price, vat))}"
    if dynamic.max_price is not None:
        note += f", at most {_price(_gross(dynamic.max_price, vat))}"
    return note


def _gross(price: Decimal, vat: Decimal | None) -> Decimal:
    """A unit price with `vat` added, to the 4 decimals prices have (0.4202 + 19 % is 0.50); as is without."""
    if vat is None:
        return price
    return (price * (100 + vat) / 100).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _describe_totals(priced: PricedSession) -> list[str]:
    currency = priced.currency
    lines = []
    if priced.limit:
        subtotal = priced.subtotal
        word = "Minimum" if priced.limit == "min_price" else "Maximum"
        if " and " in priced.limit:
            word = "Minimum and maximum"
        lines.append(
            f"{word} price applies: the components cost {_money(subtotal.excl_vat, currency)} excl. VAT, "
            f"{_money(subtotal.incl_vat, currency)} incl. VAT"
        )
    else:
        for line in priced.vat_breakdown:
            if line.rate is None:
                lines.append(f"No VAT on {_money(line.excl_vat, currency)}")
            else:
                base, vat = _money(line.excl_vat, currency), _money(line.vat, currency)
                lines.append(f"VAT {_number(line.rate)}% on {base} = {vat}")
    total = priced.total
    lines.append(f"Total: {total.excl_vat} {currency} excl. VAT, {total.incl_vat} {currency} incl. VAT")
    return lines


def _money(amount: Decimal, currency: str) -> str:
    return f"{quantize_price(amount, currency)} {currency}"


@lru_cache(maxsize=4096)
def _price(price: Decimal) -> str:
    """At least 2 decimals, at most 4: 0.29, 0.2437."""
    text = _number(price)
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


@lru_cache(maxsize=4096)
def _number(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _kwh(wh: Decimal) -> str:
    return f"{wh / 1000:.3f}"


def _duration(seconds: Decimal) -> str:
    whole = int(seconds.to_integral_value())
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    words = [f"{hours} h"] if hours else []
    words += [f"{minutes} min"] if minutes else []
    words += [f"{secs} s"] if secs or not words else []
    return " ".join(words)


_HH_MM = [f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60)]


def _clock(moment: datetime) -> str:
    text = _HH_MM[moment.hour * 60 + moment.minute]
    return f"{text}:{moment.second:02d}" if moment.second else text
