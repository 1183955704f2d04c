"""The discounts a member or a promotion code gives on a priced session, and the totals after them.

`session_discounts` reads the database (membership, redemptions) but writes nothing; `apply_discounts` is
pure. The rules (order, VAT split, min/max price, rounding) are in the package docstring."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Context, Decimal, localcontext

from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext

from billing.models import MembershipPlan, PromoCode, PromoRedemption
from billing.pricing import Amount, Dimension, PricedSession, VatLine, quantize_price
from billing.pricing.explain import shown_amount

from .memberships import membership_day, membership_on
from .promotions import promo_redemptions_open

MEMBERSHIP = "membership"
PROMOTION = "promotion"

# As in the pricing engine: exact products and one division per amount, far below any minor unit.
_ARITHMETIC = Context(prec=60)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Discount:
    """A reduction of a session's price, exact; positive amounts reduce the price."""

    kind: str  # MEMBERSHIP or PROMOTION
    label: str  # in English, for the record and staff's explanation; drivers read discount_words()
    source_id: int  # the MembershipPlan's pk, or the PromoRedemption's pk
    excl_vat: Decimal
    vat_lines: tuple[VatLine, ...]  # the discount per VAT rate
    # What the label says, as data, so that it can be worded in the reader's language: name (plan or code),
    # benefit (percent, per_kwh, amount), value, currency, kwh (per_kwh), capped.
    terms: dict = field(default_factory=dict, compare=False)

    @property
    def incl_vat(self) -> Decimal:
        return sum((line.incl_vat for line in self.vat_lines), _ZERO)

    def to_json(self) -> dict:
        return {
            "kind": self.kind, "label": self.label, "terms": self.terms, "source_id": self.source_id,
            "excl_vat": str(self.excl_vat), "incl_vat": str(self.incl_vat),
            "vat_lines": [_vat_line_json(line) for line in self.vat_lines],
        }  # fmt: skip


@dataclass(frozen=True)
class DiscountedTotals:
    tariff_total: Amount  # the tariff's price, rounded (priced.total)
    discount: Amount  # all discounts, exact
    exact_total: Amount  # tariff price minus discounts, exact
    total: Amount  # exact_total rounded once to the currency's minor unit
    vat_lines: tuple[VatLine, ...]  # per VAT rate after discounts, exact (an invoice rounds per rate)

    @property
    def discount_shown(self) -> Amount:
        """The discount as a driver reads it: rounded tariff price minus rounded total, so the lines add up."""
        return Amount(
            self.tariff_total.excl_vat - self.total.excl_vat, self.tariff_total.incl_vat - self.total.incl_vat
        )


def apply_discounts(priced: PricedSession, discounts: list[Discount]) -> DiscountedTotals:
    with localcontext(_ARITHMETIC):
        base = chargeable_vat_lines(priced)
        off_excl = sum((d.excl_vat for d in discounts), _ZERO)
        off_incl = sum((d.incl_vat for d in discounts), _ZERO)
        exact = Amount(
            _not_negative(priced.exact_total.excl_vat - off_excl), _not_negative(priced.exact_total.incl_vat - off_incl)
        )
        currency = priced.currency
        return DiscountedTotals(
            tariff_total=priced.total,
            discount=Amount(off_excl, off_incl),
            exact_total=exact,
            total=Amount(quantize_price(exact.excl_vat, currency), quantize_price(exact.incl_vat, currency)),
            vat_lines=_lines_after(base, discounts),
        )


def session_discounts(*, customer, priced: PricedSession, at: datetime) -> list[Discount]:
    """The member's benefit, then the customer's next promotion, on what the tariff charged."""
    if customer is None:
        return []
    with localcontext(_ARITHMETIC):
        budget = _Budget(priced)
        discounts = []
        membership = membership_on(customer=customer, day=membership_day(at))
        if membership is not None:
            discounts.append(_membership_discount(membership.plan, budget))
        redemption = _next_redemption(customer=customer, at=at, currency=priced.currency)
        if redemption is not None:
            discounts.append(_promotion_discount(redemption, budget))
        return [discount for discount in discounts if discount is not None]


def chargeable_vat_lines(priced: PricedSession) -> tuple[VatLine, ...]:
    """The tariff price per VAT rate after min/max price (which the engine reports as one adjustment): the
    components' lines scaled to the clamped total, so that they add up to `priced.exact_total`."""
    subtotal, total = priced.subtotal, priced.exact_total
    if subtotal == total:
        return priced.vat_breakdown
    if not subtotal.excl_vat or not subtotal.incl_vat:  # a min_price on a session that cost nothing
        rates = {period.vat for period in priced.periods}
        rate = rates.pop() if len(rates) == 1 else None
        return (VatLine(rate, total.excl_vat, total.incl_vat),)
    return tuple(
        VatLine(
            line.rate,
            line.excl_vat * total.excl_vat / subtotal.excl_vat,
            line.incl_vat * total.incl_vat / subtotal.incl_vat,
        )
        for line in priced.vat_breakdown
    )


class _Budget:
    """What is left to discount, excl. VAT: in all, and of the energy cost (the cap of per-kWh discounts)."""

    def __init__(self, priced: PricedSession):
        self.currency = priced.currency
        self.base = chargeable_vat_lines(priced)
        self.base_excl = priced.exact_total.excl_vat
        self.left = self.base_excl
        self.energy_left = min(priced.energy_cost.excl_vat, self.left)
        billed_wh = sum((p.billed for p in priced.periods_of(Dimension.ENERGY)), _ZERO)
        self.kwh = billed_wh / 1000

    def take_percent(self, percent: Decimal) -> Decimal:
        amount = self.left * percent / 100
        self.energy_left -= self.energy_left * percent / 100
        self.left -= amount
        return amount

    def take_per_kwh(self, price_per_kwh: Decimal) -> tuple[Decimal, bool]:
        wanted = price_per_kwh * self.kwh
        amount = min(wanted, self.energy_left, self.left)
        self.energy_left -= amount
        self.left -= amount
        return amount, amount < wanted

    def take_amount(self, wanted: Decimal) -> tuple[Decimal, bool]:
        amount = min(wanted, self.left)
        self.left -= amount
        self.energy_left = min(self.energy_left, self.left)
        return amount, amount < wanted

    def discount(self, kind: str, source_id: int, amount: Decimal, terms: dict) -> Discount | None:
        if amount <= 0:
            return None
        lines = tuple(
            VatLine(line.rate, amount * line.excl_vat / self.base_excl, amount * line.incl_vat / self.base_excl)
            for line in self.base
        )
        terms = {**terms, "currency": self.currency, "kwh": str(self.kwh)}
        return Discount(kind=kind, label=_english_label(kind, terms), source_id=source_id, excl_vat=amount,
                        vat_lines=lines, terms=terms)


def _membership_discount(plan: MembershipPlan, budget: _Budget) -> Discount | None:
    if plan.benefit == MembershipPlan.Benefit.PERCENT_DISCOUNT:
        amount = budget.take_percent(plan.discount_percent)
        terms = {"name": plan.name, "benefit": "percent", "value": str(plan.discount_percent), "capped": False}
        return budget.discount(MEMBERSHIP, plan.pk, amount, terms)
    if plan.benefit == MembershipPlan.Benefit.KWH_DISCOUNT and plan.monthly_fee.currency.code == budget.currency:
        amount, capped = budget.take_per_kwh(plan.discount_per_kwh)
        terms = {"name": plan.name, "benefit": "per_kwh", "value": str(plan.discount_per_kwh), "capped": capped}
        return budget.discount(MEMBERSHIP, plan.pk, amount, terms)
    return None  # TARIFF: the member's tariff priced the session; a plan in another currency gives nothing here


def _promotion_discount(redemption: PromoRedemption, budget: _Budget) -> Discount | None:
    code = redemption.promo_code
    if code.discount == PromoCode.Discount.PERCENT:
        amount, capped, benefit = budget.take_percent(code.value), False, "percent"
    elif code.discount == PromoCode.Discount.PER_KWH:
        (amount, capped), benefit = budget.take_per_kwh(code.value), "per_kwh"
    else:
        (amount, capped), benefit = budget.take_amount(code.value), "amount"
    terms = {"name": code.code, "benefit": benefit, "value": str(code.value), "capped": capped}
    return budget.discount(PROMOTION, redemption.pk, amount, terms)


def _english_label(kind: str, terms: dict) -> str:
    """The record's label: "Membership Gold: 10 % off", "Promotion SPRING: 0.05 EUR/kWh off on 20 kWh (up to the
    price)"."""
    value, currency = Decimal(terms["value"]), terms["currency"]
    name = f"{'Membership' if kind == MEMBERSHIP else 'Promotion'} {terms['name']}"
    if terms["benefit"] == "percent":
        label = f"{name}: {_number(value)} % off"
    elif terms["benefit"] == "per_kwh":
        label = f"{name}: {_money(value)} {currency}/kWh off on {_number(Decimal(terms['kwh']))} kWh"
    else:
        label = f"{name}: {_money(value)} {currency} off"
    if terms["capped"]:
        label += " (up to the energy cost)" if kind == MEMBERSHIP else " (up to the price)"
    return label


def discount_words(discount: dict) -> str:
    """A discount (as stored on a charge record) in the active language, for drivers. Records rated before the
    terms were kept have only their English label."""
    terms = discount.get("terms")
    if not terms:
        return discount["label"]
    value, currency = Decimal(terms["value"]), terms["currency"]
    values = {"name": terms["name"], "currency": currency}
    membership = discount["kind"] == MEMBERSHIP
    if terms["benefit"] == "percent":
        values["percent"] = formats.number_format(value.normalize())
        text = (gettext("Membership %(name)s: %(percent)s %% off") if membership
                else gettext("Promotion %(name)s: %(percent)s %% off")) % values
    elif terms["benefit"] == "per_kwh":
        values.update(price=shown_amount(value, currency), kwh=formats.number_format(Decimal(terms["kwh"]).normalize()))
        text = (gettext("Membership %(name)s: %(price)s %(currency)s/kWh off on %(kwh)s kWh") if membership
                else gettext("Promotion %(name)s: %(price)s %(currency)s/kWh off on %(kwh)s kWh")) % values
    else:
        values["amount"] = shown_amount(value, currency)
        text = gettext("Promotion %(name)s: %(amount)s %(currency)s off") % values
    if terms["capped"]:
        text += " " + (gettext("(up to the energy cost)") if membership else gettext("(up to the price)"))
    return text


def _next_redemption(*, customer, at: datetime, currency: str) -> PromoRedemption | None:
    return (
        promo_redemptions_open(customer=customer)
        .filter(promo_code__is_active=True, promo_code__valid_from__lte=at)
        .filter(Q(promo_code__valid_until__isnull=True) | Q(promo_code__valid_until__gt=at))
        .filter(Q(promo_code__discount=PromoCode.Discount.PERCENT) | Q(promo_code__currency=currency))
        .first()
    )


def _lines_after(base: tuple[VatLine, ...], discounts: list[Discount]) -> tuple[VatLine, ...]:
    off: dict[Decimal | None, list[Decimal]] = {}
    for discount in discounts:
        for line in discount.vat_lines:
            pair = off.setdefault(line.rate, [_ZERO, _ZERO])
            pair[0] += line.excl_vat
            pair[1] += line.incl_vat
    return tuple(
        VatLine(
            line.rate,
            _not_negative(line.excl_vat - off.get(line.rate, (_ZERO, _ZERO))[0]),
            _not_negative(line.incl_vat - off.get(line.rate, (_ZERO, _ZERO))[1]),
        )
        for line in base
    )


def _not_negative(amount: Decimal) -> Decimal:
    # Splitting a full discount over rates can leave -1E-58 behind; a price is never below zero.
    return amount if amount > 0 else _ZERO


def _money(amount: Decimal) -> str:
    """0.2000 -> '0.20', 0.1234 -> '0.1234', 5 -> '5.00': at least cents, no trailing zeros beyond."""
    normal = amount.normalize()
    return f"{amount:.2f}" if normal.as_tuple().exponent >= -2 else format(normal, "f")


def _number(value: Decimal) -> str:
    """23.400 -> '23.4', 20 -> '20'."""
    return format(value.normalize(), "f")


def _vat_line_json(line: VatLine) -> dict:
    rate = None if line.rate is None else str(line.rate)
    return {"rate": rate, "excl_vat": str(line.excl_vat), "incl_vat": str(line.incl_vat)}
