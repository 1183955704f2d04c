"""The price a driver is shown before charging (AFIR, Art. 5): which tariff applies to each connector for a
visitor or for the signed-in customer, in plain words in the reader's language, and which part of it applies
now at the location's local time (peak or off-peak) and when that changes.

The selection rule is `tariff_for_session`'s (a member's plan tariff first, as rating does), evaluated for many
connectors at once in a constant number of queries, so list pages do not grow a query per location. Which
element applies now is decided by the pricing engine's own restriction test, at the start of a session
(nothing charged yet); elements that depend on the vehicle's power or current cannot be known before the
session and are not offered as "the price now".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from django.db.models import Prefetch, Q
from django.utils import formats
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import get_language, gettext, gettext_lazy

from billing import pricing
from billing.loyalty import membership_tariff
from billing.models import Tariff, TariffElement
from billing.pricing import Dimension, TariffError, local_time
from billing.pricing.tariffs import describe_day_numbers, describe_seconds

from .assignments import NETWORK_SCOPE, assignment_rank, assignments_in_force
from .convert import tariff_to_pricing
from .summary import _gross, _money

logger = logging.getLogger(__name__)

#: How far ahead the next change of the current price is looked for (a weekly pattern fits).
LOOKAHEAD = timedelta(days=8)
_DIMENSIONS = (Dimension.FLAT, Dimension.ENERGY, Dimension.TIME, Dimension.PARKING_TIME)


class ConnectorPlace(Protocol):
    """What the selection needs to know about a connector (stations.selectors.PublicConnector has it)."""

    id: int
    charge_point_id: int
    location_id: int


@dataclass(frozen=True)
class PriceLine:
    text: str
    applies_now: bool = False


@dataclass(frozen=True)
class PublicPrice:
    """A tariff in plain words: `lines` (the base price first, then each condition), the VAT and min/max
    `note`, and for a tariff that depends on the clock, `now` (what a session starting now pays) and `next`
    (when and to what that changes)."""

    tariff_id: int
    currency: str
    lines: tuple[PriceLine, ...]
    note: str = ""
    now: str = ""
    next: str = ""
    changes_at: datetime | None = None


# -- which tariff -------------------------------------------------------------------------------------------


def connector_tariffs(
    *, connectors: Iterable[ConnectorPlace], customer, at: datetime
) -> dict[int, Tariff | None]:
    """Per connector id, the tariff a session starting at `at` would be priced with for `customer` (None: a
    visitor without an account), with its elements prefetched. Same result as `membership_tariff` or else
    `tariff_for_session` for each connector, in at most three queries."""
    connectors = list(connectors)
    if not connectors:
        return {}
    member_tariff = membership_tariff(customer=customer, at=at) if customer is not None else None
    if member_tariff is not None:
        member_tariff = _with_elements(Tariff.objects.filter(pk=member_tariff.pk)).get()
        return {connector.id: member_tariff for connector in connectors}
    by_scope = _assignments_by_scope(connectors, customer, at)
    result = {}
    for connector in connectors:
        keys = (("connector", connector.id), ("cp", connector.charge_point_id), ("location", connector.location_id),
                ("network", None))
        candidates = [assignment for key in keys for assignment in by_scope.get(key, [])]
        result[connector.id] = min(candidates, key=assignment_rank).tariff if candidates else None
    return result


def _assignments_by_scope(connectors: list[ConnectorPlace], customer, at: datetime) -> dict[tuple, list]:
    scope = (Q(connector_id__in={c.id for c in connectors})
             | Q(charge_point_id__in={c.charge_point_id for c in connectors})
             | Q(location_id__in={c.location_id for c in connectors})
             | NETWORK_SCOPE)
    assignments = assignments_in_force(scope=scope, customer=customer, at=at).prefetch_related(
        Prefetch("tariff__elements", queryset=TariffElement.objects.select_related("energy_feed")))
    by_scope: dict[tuple, list] = {}
    for assignment in assignments:
        if assignment.connector_id:
            key = ("connector", assignment.connector_id)
        elif assignment.charge_point_id:
            key = ("cp", assignment.charge_point_id)
        elif assignment.location_id:
            key = ("location", assignment.location_id)
        else:
            key = ("network", None)
        by_scope.setdefault(key, []).append(assignment)
    return by_scope


def _with_elements(tariffs):
    return tariffs.prefetch_related(Prefetch("elements", queryset=TariffElement.objects.select_related("energy_feed")))


# -- the price in words -------------------------------------------------------------------------------------


def public_price(tariff: Tariff, *, time_zone: str, at: datetime) -> PublicPrice:
    """The tariff in plain words for a location in `time_zone`, with what applies at `at`."""
    currency = str(tariff.currency)
    try:
        parsed = tariff_to_pricing(tariff)
    except TariffError:  # a row edited past the engine: say the price is unavailable rather than guess one
        logger.exception("Tariff %s cannot be shown to drivers", tariff.pk)
        return PublicPrice(tariff_id=tariff.pk, currency=currency,
                           lines=(PriceLine(gettext("The price is not available at the moment.")),))
    alt_text = _alt_text(tariff)
    if alt_text:  # the operator's own words replace ours (OCPI tariff_alt_text)
        price = PublicPrice(tariff_id=tariff.pk, currency=currency, lines=(PriceLine(alt_text),))
    else:
        price = PublicPrice(tariff_id=tariff.pk, currency=currency, lines=tuple(_lines(parsed)),
                            note=_footer(parsed))
    if not any(_on_calendar(element.restrictions) for element in parsed.elements):
        return price
    return _with_now(price, parsed, time_zone, at, mark_lines=not alt_text)


def _alt_text(tariff: Tariff) -> str:
    language = (get_language() or "en")[:2]
    for text in tariff.alt_text or []:
        if isinstance(text, dict) and text.get("language") == language and text.get("text"):
            return text["text"]
    return ""


def _lines(parsed: pricing.Tariff) -> list[PriceLine]:
    """The base price (unrestricted elements and those that only start after a duration) in one line, each
    other condition in its own line. A component shadowed by an earlier unrestricted one never applies."""
    return [PriceLine(text) for text, _ in _line_parts(parsed)] or [PriceLine(gettext("Free of charge"))]


def _line_parts(parsed: pricing.Tariff) -> list[tuple[str, int | None]]:
    """(text, index of the element for a conditional line; None for the base line)."""
    base, conditional, always_priced = [], [], set()
    for index, element in enumerate(parsed.elements):
        components = [c for c in element.price_components if c.type not in always_priced]
        words = [w for c in components if (w := _component(c, parsed.currency, element.restrictions))]
        restrictions = element.restrictions
        if restrictions is None:
            always_priced.update(c.type for c in components)
            base += words
        elif words and _duration_only(restrictions):
            base += [f"{word} {describe_restrictions(restrictions)}" for word in words]
        elif words:
            conditional.append((f"{describe_restrictions(restrictions)}: {', '.join(words)}", index))
    return ([(", ".join(base), None)] if base else []) + conditional


def _duration_only(r: pricing.TariffRestrictions) -> bool:
    present = {f.name for f in dataclass_fields(r) if getattr(r, f.name) not in (None, frozenset())}
    return bool(present) and present <= {"min_duration", "max_duration"}


def _component(component: pricing.PriceComponent, currency: str, restrictions) -> str:
    gross = _gross(component.price, component.vat)
    values = {"price": _amount(gross, currency), "currency": currency}
    if component.type is Dimension.FLAT:
        if component.price == 0:
            return ""
        if restrictions is not None and restrictions.reservation is not None:
            return gettext("%(price)s %(currency)s reservation fee") % values
        return gettext("%(price)s %(currency)s per session") % values
    if component.type is Dimension.ENERGY:
        if component.dynamic is not None:
            return _dynamic(component, currency)
        return gettext("%(price)s %(currency)s/kWh") % values
    values["price"] = _amount(gross / 60, currency)
    values["step"] = _step(component.step_size)
    if component.type is Dimension.PARKING_TIME:
        return gettext("idle fee %(price)s %(currency)s/min%(step)s (plugged in, not charging)") % values
    return gettext("%(price)s %(currency)s/min charging time%(step)s") % values


def _dynamic(component: pricing.PriceComponent, currency: str) -> str:
    dynamic = component.dynamic
    text = gettext("market price (%(feed)s) + %(margin)s %(currency)s/kWh") % {
        "feed": dynamic.feed, "margin": _amount(_gross(dynamic.margin, component.vat), currency), "currency": currency,
    }
    limits = [f"{word} {_amount(_gross(value, component.vat), currency)}"
              for word, value in ((gettext("min."), dynamic.min_price), (gettext("max."), dynamic.max_price))
              if value is not None]
    return f"{text} ({', '.join(limits)} {currency}/kWh)" if limits else text


def _step(step_size: int) -> str:
    if step_size <= 60:
        return ""
    minutes, seconds = divmod(step_size, 60)
    if seconds:
        return gettext(", per started %(seconds)s s") % {"seconds": step_size}
    return gettext(", per started %(minutes)s min") % {"minutes": minutes}


def _footer(parsed: pricing.Tariff) -> str:
    """The VAT note and the session's minimum and maximum."""
    rates = {c.vat for e in parsed.elements for c in e.price_components}
    single_rate = next(iter(rates)) if len(rates) == 1 else None
    notes = []
    for text, price in ((gettext("min. %(price)s %(currency)s per session"), parsed.min_price),
                        (gettext("max. %(price)s %(currency)s per session"), parsed.max_price)):
        if price is not None:
            amount = price.incl_vat if price.incl_vat is not None else _gross(price.excl_vat, single_rate)
            notes.append(text % {"price": _amount(amount, parsed.currency), "currency": parsed.currency})
    if rates != {None}:  # no VAT at all: the prices are what the driver pays, nothing to say
        if single_rate is not None:
            notes.append(gettext("incl. %(rate)s %% VAT") % {"rate": formats.number_format(single_rate.normalize())})
        else:
            notes.append(gettext("incl. VAT"))
    return "; ".join(notes)


def _amount(amount: Decimal, currency: str) -> str:
    """As the summary rounds it (the currency's minor unit, up to 4 decimals), in the reader's number format."""
    shown = Decimal(_money(amount, currency))
    return formats.number_format(shown, decimal_pos=max(-shown.as_tuple().exponent, 0))


# -- restrictions in words ----------------------------------------------------------------------------------


def describe_restrictions(r: pricing.TariffRestrictions) -> str:
    """'22:00-06:00', 'Mon-Fri', 'after 2 h', 'from 50 kW' in the reader's language."""
    parts = []
    if r.start_time or r.end_time:
        start = r.start_time.strftime("%H:%M") if r.start_time else "00:00"
        parts.append(f"{start}-{r.end_time.strftime('%H:%M') if r.end_time else '24:00'}")
    if r.day_of_week:
        parts.append(_days(sorted(day.weekday for day in r.day_of_week)))
    if r.start_date:
        parts.append(gettext("from %(date)s") % {"date": formats.date_format(r.start_date, "SHORT_DATE_FORMAT")})
    if r.end_date:
        parts.append(gettext("before %(date)s") % {"date": formats.date_format(r.end_date, "SHORT_DATE_FORMAT")})
    for low, high, unit in ((r.min_kwh, r.max_kwh, "kWh"), (r.min_power, r.max_power, "kW"),
                            (r.min_current, r.max_current, "A")):
        parts += _range(low, high, unit)
    if r.min_duration is not None:
        parts.append(gettext("after %(duration)s") % {"duration": describe_seconds(r.min_duration)})
    if r.max_duration is not None:
        parts.append(gettext("first %(duration)s") % {"duration": describe_seconds(r.max_duration)})
    if r.reservation is pricing.ReservationRestriction.RESERVATION:
        parts.append(gettext("reservation"))
    elif r.reservation is pricing.ReservationRestriction.RESERVATION_EXPIRES:
        parts.append(gettext("expired reservation"))
    return ", ".join(parts)


def _days(numbers: list[int]) -> str:
    return describe_day_numbers(numbers, WEEKDAYS_ABBR)


def _range(low, high, unit: str) -> list[str]:
    def number(value):
        return formats.number_format(value.normalize())

    if low is not None and high is not None:
        return [f"{number(low)}-{number(high)} {unit}"]
    if low is not None:
        return [gettext("from %(value)s %(unit)s") % {"value": number(low), "unit": unit}]
    if high is not None:
        return [gettext("below %(value)s %(unit)s") % {"value": number(high), "unit": unit}]
    return []


# -- what applies now ---------------------------------------------------------------------------------------


def _on_calendar(r: pricing.TariffRestrictions | None) -> bool:
    return r is not None and bool(r.start_time or r.end_time or r.day_of_week or r.start_date or r.end_date)


def _can_start(r: pricing.TariffRestrictions) -> bool:
    """Whether the element can price the start of a session at all, knowing only the clock: not a
    reservation, and not depending on the vehicle's power or current (unknown before it charges)."""
    unknown = (r.min_power, r.max_power, r.min_current, r.max_current)
    return r.reservation is None and all(value is None for value in unknown)


def _selection(elements, tests, moment: datetime) -> tuple:
    """Per dimension, the index of the first element that would price a session starting at `moment`
    (local time): the engine's rule at elapsed time 0 and no energy yet."""
    chosen = []
    for dimension in _DIMENSIONS:
        for index, element in enumerate(elements):
            if not any(c.type is dimension for c in element.price_components):
                continue
            test = tests[index]
            if test is None or (test is not False and test.holds_at_start(moment)):
                chosen.append((dimension, index))
                break
    return tuple(chosen)


def _with_now(price: PublicPrice, parsed: pricing.Tariff, time_zone: str, at: datetime, *,
              mark_lines: bool) -> PublicPrice:
    elements = parsed.elements
    tests = [None if e.restrictions is None else (pricing.Restriction(e.restrictions) if _can_start(e.restrictions)
                                                  else False) for e in elements]
    now_local = local_time.local(local_time.to_us(at), time_zone)
    current = _selection(elements, tests, now_local)
    changes_at, upcoming = _next_change(parsed, tests, time_zone, at, current)
    # Only what depends on the clock: the session fee and idle fee that never change are in the lines above.
    shown = {dimension for dimension, index in current if _on_calendar(elements[index].restrictions)}
    if upcoming is not None:
        shown |= {d for d in _DIMENSIONS if _words(parsed, current, {d}) != _words(parsed, upcoming, {d})}
    shown = shown or set(_DIMENSIONS)
    now_text = gettext("Price now (%(time)s local time): %(price)s") % {
        "time": _when(now_local, now_local), "price": _words(parsed, current, shown)}
    calendar_now = {index for _, index in current if _on_calendar(elements[index].restrictions)}
    periods = sorted({describe_restrictions(elements[index].restrictions) for index in calendar_now})
    if periods:
        now_text += " " + gettext("(valid %(periods)s)") % {"periods": "; ".join(periods)}
    next_text = ""
    if changes_at is not None:
        next_text = gettext("From %(time)s: %(price)s") % {
            "time": _when(changes_at, now_local), "price": _words(parsed, upcoming, shown)}
    lines = price.lines
    if mark_lines:
        lines = tuple(PriceLine(text, applies_now=index in calendar_now) for text, index in _line_parts(parsed))
    return PublicPrice(tariff_id=price.tariff_id, currency=price.currency, lines=lines, note=price.note,
                       now=now_text, next=next_text, changes_at=changes_at)


def _next_change(parsed, tests, time_zone: str, at: datetime, current: tuple) -> tuple:
    """The first moment within LOOKAHEAD at which a session starting then would pay something else, and
    the selection then; (None, None) if the price stays."""
    elements = parsed.elements
    seconds_of_day = tuple(sorted({
        t.hour * 3600 + t.minute * 60 for e in elements if e.restrictions is not None
        for t in (e.restrictions.start_time, e.restrictions.end_time) if t is not None} - {0}))
    now_words = _words(parsed, current)
    start_us = local_time.to_us(at)
    for instant in local_time.calendar_boundaries(time_zone, start_us, local_time.to_us(at + LOOKAHEAD),
                                                  seconds_of_day):
        moment = local_time.local(instant, time_zone)
        selection = _selection(elements, tests, moment)
        if _words(parsed, selection) != now_words:
            return moment, selection
    return None, None


def _words(parsed: pricing.Tariff, selection: tuple, dimensions=_DIMENSIONS) -> str:
    """The components a session starting then pays, in `dimensions`; one that nothing prices then says so."""
    chosen = dict(selection)
    words = []
    for dimension in _DIMENSIONS:
        if dimension not in dimensions:
            continue
        index = chosen.get(dimension)
        if index is None:
            if len(dimensions) < len(_DIMENSIONS):
                words.append(str(_NOTHING[dimension]))
            continue
        element = parsed.elements[index]
        component = next(c for c in element.price_components if c.type is dimension)
        if word := _component(component, parsed.currency, element.restrictions):
            words.append(word)
    return ", ".join(words) if words else gettext("free of charge")


_NOTHING = {
    Dimension.FLAT: gettext_lazy("no session fee"),
    Dimension.ENERGY: gettext_lazy("energy free of charge"),
    Dimension.TIME: gettext_lazy("no charge for charging time"),
    Dimension.PARKING_TIME: gettext_lazy("no idle fee"),
}


def _when(moment: datetime, now_local: datetime) -> str:
    """'23:00' today, 'Wed 06:00' within the week, a date beyond."""
    if moment.date() == now_local.date():
        return moment.strftime("%H:%M")
    if moment.date() - now_local.date() < timedelta(days=7):
        return f"{WEEKDAYS_ABBR[moment.weekday()]} {moment.strftime('%H:%M')}"
    return f"{formats.date_format(moment.date(), 'SHORT_DATE_FORMAT')} {moment.strftime('%H:%M')}"
