"""From priced runs to a PricedSession: money per period, VAT per rate, min/max price, the rounded total.

Money is summed as amount x US_PER_H, so that every term is an exact product (price x quantity) and the one
division happens at the end: no repeating decimal is ever rounded and then summed."""

from __future__ import annotations

from decimal import Decimal

from .facts import SessionFacts
from .local_time import US_PER_H, US_PER_S, from_us
from .money import quantize_price
from .results import ZERO_AMOUNT, Amount, ChargingPeriod, PricedPeriod, PricedSession, VatLine
from .tariffs import Dimension, Price, Tariff

_SCALE = {Dimension.FLAT: US_PER_H, Dimension.ENERGY: US_PER_H // 1000, Dimension.TIME: 1, Dimension.PARKING_TIME: 1}
_ZERO = Decimal(0)


def priced_session(tariff: Tariff, facts: SessionFacts, phases: list) -> PricedSession:
    """`phases`: (reservation?, runs in order, raw charging periods) for the reservation and the session."""
    moments = _Moments()
    excl: dict[tuple[str, Decimal | None], Decimal] = {}  # amount x US_PER_H per (cost category, VAT rate)
    periods = []
    for reservation, runs, _ in phases:
        categories = _CATEGORIES[reservation]
        for run in runs:
            billed = run.consumed + run.extra
            numerator = run.unit_price * billed * _SCALE[run.dimension]
            key = (categories[run.dimension], run.candidate.component.vat)
            excl[key] = excl.get(key, _ZERO) + numerator
            periods.append(_period(run, reservation, billed, numerator, moments))
    # incl. VAT numerators carry a factor 100 more: amount x (100 + rate) x US_PER_H
    sums = _Sums()
    for (category, rate), numerator in excl.items():
        sums.add(category, rate, numerator, numerator * (100 + rate) if rate is not None else numerator * 100)
    vat_breakdown = sums.vat_lines()
    subtotal = Amount(*_divided(sums.total))
    exact_total, limits = _apply_price_limits(tariff, subtotal)
    currency = tariff.currency
    raw_periods = [period for _, _, charging_periods in phases for period in charging_periods]
    return PricedSession(
        currency=currency,
        time_zone=facts.time_zone,
        periods=tuple(periods),
        charging_periods=tuple(_charging_period(p, moments) for p in raw_periods),
        vat_breakdown=vat_breakdown,
        subtotal=subtotal,
        limit=" and ".join(limits) or None,
        limit_adjustment=Amount(exact_total.excl_vat - subtotal.excl_vat, exact_total.incl_vat - subtotal.incl_vat),
        exact_total=exact_total,
        total=Amount(quantize_price(exact_total.excl_vat, currency), quantize_price(exact_total.incl_vat, currency)),
        fixed_cost=sums.category("fixed"),
        energy_cost=sums.category("energy"),
        time_cost=sums.category("time"),
        parking_time_cost=sums.category("parking"),
        reservation_cost=sums.category("reservation"),
        energy_wh=sum(interval.energy_wh for interval in facts.intervals),
        charging_time_s=_seconds(sum(p[3] for p in raw_periods)),
        parking_time_s=_seconds(sum(p[4] for p in raw_periods)),
        reservation_time_s=_seconds(sum(p[5] for p in raw_periods)),
    )


_INCL = 100 * US_PER_H

# The OCPI CDR's cost split: total_fixed_cost, total_energy_cost, total_time_cost, total_parking_cost and
# total_reservation_cost (which includes a reservation's FLAT fee).
_CATEGORIES = {
    False: {
        Dimension.FLAT: "fixed",
        Dimension.ENERGY: "energy",
        Dimension.TIME: "time",
        Dimension.PARKING_TIME: "parking",
    },
    True: {Dimension.FLAT: "reservation", Dimension.TIME: "reservation"},
}


class _Sums:
    """Numerators (excl. VAT, incl. VAT) summed per VAT rate, per cost category and in all; each amount is then
    one division."""

    def __init__(self):
        self.by_rate: dict[Decimal | None, list[Decimal]] = {}
        self.by_category: dict[str, list[Decimal]] = {}
        self.total = [_ZERO, _ZERO]

    def add(self, category: str, rate: Decimal | None, excl: Decimal, incl: Decimal) -> None:
        for table, key in ((self.by_rate, rate), (self.by_category, category)):
            pair = table.get(key)
            if pair is None:
                table[key] = [excl, incl]
            else:
                pair[0] += excl
                pair[1] += incl
        self.total[0] += excl
        self.total[1] += incl

    def vat_lines(self) -> tuple[VatLine, ...]:
        rates = sorted(self.by_rate, key=lambda rate: (rate is not None, rate or 0))
        return tuple(VatLine(rate, *_divided(self.by_rate[rate])) for rate in rates)

    def category(self, name: str) -> Amount:
        pair = self.by_category.get(name)
        return ZERO_AMOUNT if pair is None else Amount(*_divided(pair))


def _divided(pair: list[Decimal]) -> tuple[Decimal, Decimal]:
    return pair[0] / US_PER_H, pair[1] / _INCL


class _Moments(dict):
    """Datetimes of the session's instants, made once each (periods and charging periods share boundaries)."""

    def __missing__(self, instant_us: int):
        moment = self[instant_us] = from_us(instant_us)
        return moment


def _apply_price_limits(tariff: Tariff, subtotal: Amount) -> tuple[Amount, list[str]]:
    """min_price and max_price each bound the total excl. VAT and, separately, incl. VAT."""
    total, limits = subtotal, []
    for name, limit, pick in (("min_price", tariff.min_price, max), ("max_price", tariff.max_price, min)):
        if limit is None:
            continue
        clamped = _clamp(total, limit, pick, tariff)
        if clamped != total:
            limits.append(name)
            total = clamped
    return total, limits


def _clamp(total: Amount, limit: Price, pick, tariff: Tariff) -> Amount:
    excl = pick(total.excl_vat, limit.excl_vat)
    if limit.incl_vat is not None:
        return Amount(excl, pick(total.incl_vat, limit.incl_vat))
    if excl == total.excl_vat:
        return total
    if total.excl_vat:  # no limit incl. VAT given: the session's own VAT mix applies to the clamped amount
        return Amount(excl, total.incl_vat * excl / total.excl_vat)
    rates = {c.vat for e in tariff.elements for c in e.price_components}
    rate = rates.pop() if len(rates) == 1 else None
    return Amount(excl, excl * (100 + (rate or 0)) / 100)


def _seconds(microseconds: int) -> Decimal:
    return Decimal(microseconds) / US_PER_S if microseconds else _ZERO


def _period(run, reservation: bool, billed: int, numerator: Decimal, moments: _Moments) -> PricedPeriod:
    unit = US_PER_S if run.dimension in (Dimension.TIME, Dimension.PARKING_TIME) else 1
    component = run.candidate.component
    return PricedPeriod(
        dimension=run.dimension,
        element_index=run.candidate.index,
        start=moments[run.start],
        end=moments[run.end],
        consumed=Decimal(run.consumed) / unit,
        billed=Decimal(billed) / unit,
        unit_price=run.unit_price,
        vat=component.vat,
        step_size=component.step_size,
        amount_excl_vat=numerator / US_PER_H,
        reservation=reservation,
        condition=run.candidate.description,
        feed_price=run.feed_price,
        dynamic=component.dynamic,
    )


def _charging_period(p: list, moments: _Moments) -> ChargingPeriod:
    slot, active = p[8]
    return ChargingPeriod(
        start=moments[p[0]],
        end=moments[p[1]],
        energy_wh=p[2],
        charging_time_s=_seconds(p[3]),
        parking_time_s=_seconds(p[4]),
        reservation_time_s=_seconds(p[5]),
        max_power_w=p[6] if slot == 3 else None,
        max_current_a=p[7] if slot == 3 else None,
        elements=tuple((dimension, index) for dimension, index, _ in active),
    )
