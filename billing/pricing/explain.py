"""The explanation of a session's price: one line per priced period, then the totals, e.g.
"Tue 22:00-Wed 02:10 [22:00-06:00]: 12.345 kWh x 0.29 EUR/kWh = 3.58 EUR".

Two readers, two forms. Staff and accountants (the admin, the CDR API) read `explain_session`: amounts before
VAT, then the VAT per rate. Drivers read `explain_session_incl_vat`: the prices they were quoted and pay, incl.
VAT (the Price Indication Directive, the PAngV, AFIR), with the VAT stated once in the total.

Line amounts are shown rounded to the currency's minor unit; the totals are computed from exact amounts, so
shown lines can differ from the total by a cent.

The staff lines are English, with plain numbers. The driver's lines are in the active language (gettext, no
database: rating stores them under `translation.override` of the customer's language), with amounts, unit
prices, kWh and VAT rates in its number format ("0,50 EUR/kWh" in German), as the tariff pages show prices."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from django.utils import formats
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext

from . import local_time
from .money import quantize_price
from .tariffs import Dimension, describe_seconds

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .results import Amount, PricedPeriod, PricedSession

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def explain_session(priced: PricedSession) -> tuple[str, ...]:
    clock = _LocalClock(priced.time_zone)
    lines = [_describe_period(period, priced.currency, clock) for period in priced.periods]
    return (*lines, *_describe_totals(priced))


def explain_session_incl_vat(priced: PricedSession, conditions: Mapping[int, str] | None = None) -> tuple[str, ...]:
    """The driver's lines: each period at its price incl. VAT, then the total with the VAT it includes."""
    return (*describe_periods_incl_vat(priced, conditions),
            total_incl_vat(gettext("Total"), priced.total, vat_rates(priced), priced.currency))


def describe_periods_incl_vat(priced: PricedSession, conditions: Mapping[int, str] | None = None) -> list[str]:
    """The driver's lines before the total: each period incl. VAT, and a minimum or maximum price applied.
    `conditions` (tariff element index -> its restrictions in the reader's words) replaces the engine's English
    `PricedPeriod.condition`."""
    clock = _LocalClock(priced.time_zone, tuple(str(WEEKDAYS_ABBR[day]) for day in range(7)))
    currency = priced.currency
    lines = [_describe_period_incl_vat(period, currency, clock, conditions or {}) for period in priced.periods]
    if priced.limit:
        if priced.limit == "min_price":
            text = gettext("Minimum price applies: the components cost %(amount)s")
        elif priced.limit == "max_price":
            text = gettext("Maximum price applies: the components cost %(amount)s")
        else:
            text = gettext("Minimum and maximum price applies: the components cost %(amount)s")
        lines.append(text % {"amount": shown_money(priced.subtotal.incl_vat, currency)})
    return lines


def vat_rates(priced: PricedSession) -> tuple[Decimal | None, ...]:
    """The VAT rates of the session's components (None: no VAT), in their order."""
    return tuple(line.rate for line in priced.vat_breakdown)


def total_incl_vat(label: str, total: Amount, rates: tuple[Decimal | None, ...], currency: str) -> str:
    """"Total: 7.17 EUR incl. 19% VAT (1.14 EUR)": the one place the driver's explanation names the VAT.
    `label` is already in the reader's language (gettext("Total"), gettext("To pay"))."""
    values = {"label": label, "amount": shown_money(total.incl_vat, currency)}
    if not rates or set(rates) == {None}:
        return gettext("%(label)s: %(amount)s (no VAT)") % values
    values["vat"] = shown_money(total.vat, currency)
    if len(set(rates)) == 1:
        values["rate"] = formats.number_format(rates[0].normalize())
        return gettext("%(label)s: %(amount)s incl. %(rate)s%% VAT (%(vat)s)") % values
    return gettext("%(label)s: %(amount)s incl. VAT (%(vat)s)") % values


def shown_money(amount: Decimal, currency: str) -> str:
    """An amount as the driver reads it: rounded to the currency's minor unit, in the active language's number
    format, with the currency: "3.58 EUR", "3,58 EUR"."""
    return f"{shown_amount(quantize_price(amount, currency), currency)} {currency}"


def shown_amount(amount: Decimal, currency: str) -> str:
    """The tariff pages' number format for drivers (the minor unit, up to 4 decimals for unit prices), so a price
    reads the same before and after charging. Imported on use: billing.tariffs builds on this engine."""
    from billing.tariffs.public import _amount

    return _amount(amount, currency)


class _LocalClock(dict):
    """Local "Mon 09:30" and date of each instant, worked out once per session (periods share boundaries)."""

    def __init__(self, zone_name: str, days: tuple[str, ...] = _DAYS):
        super().__init__()
        self.zone = local_time.zone(zone_name)
        self.days = days  # the names of Monday..Sunday: English for staff, the reader's for drivers

    def __missing__(self, moment: datetime) -> tuple[str, object]:
        at = moment.astimezone(self.zone)
        value = self[moment] = (self.days[at.weekday()], _clock(at), at.date())
        return value

    def moment(self, moment: datetime) -> str:
        day, clock, _ = self[moment]
        return f"{day} {clock}"

    def span(self, start: datetime, end: datetime) -> str:
        (first_day, first, first_date), (last_day, last, last_date) = self[start], self[end]
        if first_date == last_date:
            return f"{first_day} {first}-{last}"
        return f"{first_day} {first}-{last_day} {last}"


def _describe_period(period: PricedPeriod, currency: str, clock: _LocalClock) -> str:
    """A staff line: amounts and unit prices excl. VAT, English."""
    dimension = period.dimension
    condition = f" [{period.condition}]" if period.condition else ""
    amount = _money(period.amount_excl_vat, currency)
    price = _price(period.unit_price)
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
            price += f" ({_feed_note(period)})"
        return f"{span}{condition}: {quantity} x {price} = {amount}"
    word = "reservation" if period.reservation else {Dimension.TIME: "charging"}.get(dimension, "parking")
    quantity = f"{word} {_duration(consumed)}"
    if billed != consumed:
        quantity += f" (billed {_duration(billed)}: steps of {_duration(Decimal(step))})"
    return f"{span}{condition}: {quantity} x {price} {currency}/h = {amount}"


def _feed_note(period: PricedPeriod) -> str:
    dynamic = period.dynamic
    note = f"feed {_price(period.feed_price)} + margin {_price(dynamic.margin)}"
    if dynamic.min_price is not None:
        note += f", at least {_price(dynamic.min_price)}"
    if dynamic.max_price is not None:
        note += f", at most {_price(dynamic.max_price)}"
    return note


def _describe_period_incl_vat(period: PricedPeriod, currency: str, clock: _LocalClock,
                              conditions: Mapping[int, str]) -> str:
    """A driver's line: amounts and unit prices incl. VAT, in the active language and its number format."""
    dimension, vat = period.dimension, period.vat
    condition = conditions.get(period.element_index, period.condition) if period.condition else ""
    condition = f" [{condition}]" if condition else ""
    amount = shown_money(period.amount_incl_vat, currency)
    price = shown_amount(_gross(period.unit_price, vat), currency)
    if dimension is Dimension.FLAT:
        text = gettext("reservation fee = %(amount)s") if period.reservation else gettext("flat fee = %(amount)s")
        return f"{clock.moment(period.start)}{condition}: {text % {'amount': amount}}"
    span = clock.span(period.start, period.end)
    consumed, billed, step = period.consumed, period.billed, period.step_size
    if dimension is Dimension.ENERGY:
        quantity = f"{_shown_kwh(consumed)} kWh"
        if billed != consumed:
            quantity += " " + gettext("(billed %(billed)s kWh: steps of %(step)s Wh)") % {
                "billed": _shown_kwh(billed), "step": step}
        price += f" {currency}/kWh"
        if period.dynamic is not None:
            price += f" ({_feed_note_incl_vat(period, currency)})"
        return f"{span}{condition}: {quantity} x {price} = {amount}"
    duration = _duration(consumed)
    if billed != consumed:
        duration += " " + gettext("(billed %(billed)s: steps of %(step)s)") % {
            "billed": _duration(billed), "step": _duration(Decimal(step))}
    if period.reservation:
        quantity = gettext("reservation %(duration)s") % {"duration": duration}
    elif dimension is Dimension.TIME:
        quantity = gettext("charging %(duration)s") % {"duration": duration}
    else:
        quantity = gettext("parking %(duration)s") % {"duration": duration}
    return f"{span}{condition}: {quantity} x {price} {currency}/h = {amount}"


def _feed_note_incl_vat(period: PricedPeriod, currency: str) -> str:
    dynamic, vat = period.dynamic, period.vat

    def shown(price: Decimal) -> str:
        return shown_amount(_gross(price, vat), currency)

    note = gettext("feed %(feed)s + margin %(margin)s") % {"feed": shown(period.feed_price),
                                                            "margin": shown(dynamic.margin)}
    if dynamic.min_price is not None:
        note += ", " + gettext("at least %(price)s") % {"price": shown(dynamic.min_price)}
    if dynamic.max_price is not None:
        note += ", " + gettext("at most %(price)s") % {"price": shown(dynamic.max_price)}
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


def _shown_kwh(wh: Decimal) -> str:
    """kWh to the Wh, in the active language's number format ("12,345" in German; 12.345 would read as 12345)."""
    return formats.number_format((Decimal(wh) / 1000).quantize(Decimal("0.001")), decimal_pos=3)


def _duration(seconds: Decimal) -> str:
    return describe_seconds(int(seconds.to_integral_value()))


_HH_MM = [f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60)]


def _clock(moment: datetime) -> str:
    text = _HH_MM[moment.hour * 60 + moment.minute]
    return f"{text}:{moment.second:02d}" if moment.second else text
