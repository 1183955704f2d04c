"""The one line drivers and staff read about a tariff, e.g.
"0.39 EUR/kWh, 0.10 EUR/min after 2 h; 22:00-06:00 0.29 EUR/kWh (incl. 19 % VAT)".

Prices are shown incl. VAT, because drivers in the EU must see the price they pay (Price Indication
Directive 98/6/EC; in Germany the PAngV), and the line says so. Unit prices keep up to 4 decimals: rounding
0.4641 EUR/kWh to 0.46 would announce a price we do not charge. Charging time is per minute, the session
fee per session, parking time an "idle fee" per minute. Elements without restrictions come first; an element
that only starts after (or ends with) some duration joins them ("after 2 h"), the others follow after a
semicolon with their conditions in front. An element that an earlier unrestricted one shadows never applies
and is not shown. The tariff's alt text in the reader's language, if it has one, replaces the whole line.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language

from billing import pricing
from billing.models import Tariff
from billing.pricing import Dimension, TariffError
from billing.pricing.money import minor_unit_quantum

from .convert import tariff_to_pricing

_SHOWN_QUANTUM = Decimal("0.0001")
_DURATION_ONLY = {"min_duration", "max_duration"}


def tariff_summary(tariff: Tariff, *, language: str | None = None) -> str:
    """The plain-language line, or the alt text for `language` (default: the active language)."""
    language = (language or get_language() or "en")[:2]
    for text in tariff.alt_text or []:
        if isinstance(text, dict) and text.get("language") == language and text.get("text"):
            return text["text"]
    try:
        return summarize(tariff_to_pricing(tariff))
    except TariffError as exc:  # a row edited past the engine (the shell, a migration): say so, never crash
        return f"invalid tariff: {exc}"


def tariff_summary_lines(tariff: Tariff) -> list[str]:
    """The summary as lines, one per condition, for pages with room (the first line is the base price)."""
    try:
        parsed = tariff_to_pricing(tariff)
    except TariffError as exc:
        return [f"invalid tariff: {exc}"]
    base, conditional = _parts(parsed)
    lines = ([", ".join(base)] if base else []) + conditional
    return [*lines, note] if (note := _footer(parsed)) else lines


def summarize(parsed: pricing.Tariff) -> str:
    base, conditional = _parts(parsed)
    if not base and not conditional:
        return "free of charge"
    text = "; ".join(([", ".join(base)] if base else []) + conditional)
    return f"{text} {note}" if (note := _footer(parsed)) else text


def _parts(parsed: pricing.Tariff) -> tuple[list[str], list[str]]:
    base, conditional, always_priced = [], [], set()
    for element in parsed.elements:
        components = [c for c in element.price_components if c.type not in always_priced]
        words = [w for c in components if (w := _component(c, parsed.currency, element.restrictions))]
        restrictions = element.restrictions
        if restrictions is None:
            always_priced.update(c.type for c in components)
            base += words
        elif words and _duration_only(restrictions):
            base += [f"{word} {restrictions.describe()}" for word in words]
        elif words:
            conditional.append(f"{restrictions.describe()} {', '.join(words)}")
    return base, conditional


def _duration_only(restrictions: pricing.TariffRestrictions) -> bool:
    set_fields = {name for name in vars(restrictions) if getattr(restrictions, name) not in (None, frozenset())}
    return bool(set_fields) and set_fields <= _DURATION_ONLY


def _component(component: pricing.PriceComponent, currency: str, restrictions) -> str:
    gross = _gross(component.price, component.vat)
    dimension = component.type
    if dimension is Dimension.FLAT:
        if component.price == 0:
            return ""
        reservation = restrictions is not None and restrictions.reservation is not None
        return f"{_money(gross, currency)} {currency} {'fee' if reservation else 'per session'}"
    if dimension is Dimension.ENERGY:
        if component.dynamic is not None:
            return _dynamic(component, currency)
        return f"{_money(gross, currency)} {currency}/kWh"
    per_minute = f"{_money(gross / 60, currency)} {currency}/min{_step(component.step_size)}"
    return f"idle fee {per_minute}" if dimension is Dimension.PARKING_TIME else per_minute


def _dynamic(component: pricing.PriceComponent, currency: str) -> str:
    dynamic = component.dynamic
    text = f"market price ({dynamic.feed}) + {_money(_gross(dynamic.margin, component.vat), currency)} {currency}/kWh"
    limits = [f"{word} {_money(_gross(value, component.vat), currency)}"
              for word, value in (("min", dynamic.min_price), ("max", dynamic.max_price)) if value is not None]
    return f"{text} ({', '.join(limits)} {currency}/kWh)" if limits else text


def _step(step_size: int) -> str:
    if step_size <= 60:
        return ""
    minutes, seconds = divmod(step_size, 60)
    return f" per started {minutes} min" if not seconds else f" per started {step_size} s"


def _footer(parsed: pricing.Tariff) -> str:
    """The VAT note and the session's minimum and maximum, in parentheses."""
    rates = {c.vat for e in parsed.elements for c in e.price_components}
    notes = []
    for word, price in (("min.", parsed.min_price), ("max.", parsed.max_price)):
        if price is not None:
            amount = price.incl_vat if price.incl_vat is not None else _gross(price.excl_vat, _single(rates))
            notes.append(f"{word} {_money(amount, parsed.currency)} {parsed.currency} per session")
    if rates == {None}:
        pass  # no VAT applies: the prices are what the driver pays
    elif len(rates) == 1:
        notes.append(f"incl. {_money_plain(next(iter(rates)))} % VAT")
    else:
        notes.append("incl. VAT")
    return f"({', '.join(notes)})" if notes else ""


def _single(rates: set) -> Decimal | None:
    return next(iter(rates)) if len(rates) == 1 else None


def _gross(price: Decimal, vat: Decimal | None) -> Decimal:
    return price if vat is None else price * (100 + vat) / 100


def _money(amount: Decimal, currency: str) -> str:
    """At least the currency's minor unit (0.39), up to 4 decimals when the price has them (0.4641)."""
    shown = amount.quantize(_SHOWN_QUANTUM, rounding=ROUND_HALF_UP)
    minimum = minor_unit_quantum(currency)
    if shown == shown.quantize(minimum):
        return format(shown.quantize(minimum), "f")
    return format(shown.normalize(), "f")


def _money_plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
