"""What pricing a session gives: priced periods per dimension, the VAT breakdown, totals and the explanation.

Amounts are exact Decimals except `PricedSession.total`, which `quantize_price` rounded once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from .explain import explain_session, explain_session_incl_vat
from .tariffs import Dimension, DynamicPrice


@dataclass(frozen=True)
class Amount:
    excl_vat: Decimal
    incl_vat: Decimal

    @property
    def vat(self) -> Decimal:
        return self.incl_vat - self.excl_vat


ZERO_AMOUNT = Amount(Decimal(0), Decimal(0))


@dataclass(frozen=True)
class VatLine:
    """What the price components cost at one VAT rate (`rate` None: no VAT applies), exact."""

    rate: Decimal | None
    excl_vat: Decimal
    incl_vat: Decimal

    @property
    def vat(self) -> Decimal:
        return self.incl_vat - self.excl_vat


@dataclass(frozen=True)
class PricedPeriod:
    """A stretch of the session during which one price component priced one dimension.

    `consumed` and `billed` are in the dimension's step unit: Wh for ENERGY, seconds for TIME and PARKING_TIME,
    1 for FLAT. `billed` differs from `consumed` only on the period that received the step_size rounding."""

    dimension: Dimension
    element_index: int  # position of the tariff element in tariff.elements
    start: datetime
    end: datetime
    consumed: Decimal
    billed: Decimal
    unit_price: Decimal  # excl. VAT, per kWh / per hour / per session
    vat: Decimal | None
    step_size: int
    amount_excl_vat: Decimal
    reservation: bool = False  # priced during the reservation before the session
    condition: str = ""  # the element's restrictions in words, e.g. "22:00-06:00, Mon-Fri"
    feed_price: Decimal | None = None  # the feed value a dynamic unit price came from
    dynamic: DynamicPrice | None = None  # how the unit price followed the feed

    @property
    def amount_incl_vat(self) -> Decimal:
        if self.vat is None:
            return self.amount_excl_vat
        return self.amount_excl_vat * (100 + self.vat) / 100


@dataclass(frozen=True)
class ChargingPeriod:
    """A stretch during which the same price components were active: what an OCPI CDR lists as a
    ChargingPeriod. Volumes are measured, before any step_size rounding."""

    start: datetime
    end: datetime
    energy_wh: int
    charging_time_s: Decimal
    parking_time_s: Decimal
    reservation_time_s: Decimal
    max_power_w: Decimal | None
    max_current_a: Decimal | None
    elements: tuple[tuple[Dimension, int], ...]  # (dimension, element index) of each active component


@dataclass(frozen=True)
class PricedSession:
    """The tariff's price for a session. The discount layer (memberships, points, promotions) works on this
    and on `exact_total`, and rounds its own result once more; `total` is the tariff result as rounded."""

    currency: str
    time_zone: str  # the location's, in which the explanation tells times
    periods: tuple[PricedPeriod, ...]
    charging_periods: tuple[ChargingPeriod, ...]
    vat_breakdown: tuple[VatLine, ...]  # what the components cost, per rate, before min/max price
    subtotal: Amount  # exact sum of the components
    limit: str | None  # "min_price" or "max_price" (rarely both, "min_price and max_price") when it changed the total
    limit_adjustment: Amount  # exact: clamped total minus subtotal
    exact_total: Amount  # subtotal + limit_adjustment
    total: Amount  # exact_total rounded to the currency's minor unit
    fixed_cost: Amount  # the OCPI CDR total_*_cost split, exact and before min/max price
    energy_cost: Amount
    time_cost: Amount
    parking_time_cost: Amount
    reservation_cost: Amount
    energy_wh: int
    charging_time_s: Decimal
    parking_time_s: Decimal
    reservation_time_s: Decimal

    @cached_property
    def explanation(self) -> tuple[str, ...]:
        """Why it costs what it costs, in lines: one per priced period, then VAT and the total. Rendered on
        first use, so pricing many sessions for a figure does not pay for words nobody reads."""
        return explain_session(self)

    @cached_property
    def explanation_incl_vat(self) -> tuple[str, ...]:
        """The same for the driver: the prices they pay, incl. VAT, and the VAT once in the total."""
        return explain_session_incl_vat(self)

    def periods_of(self, dimension: Dimension, *, reservation: bool = False) -> tuple[PricedPeriod, ...]:
        return tuple(p for p in self.periods if p.dimension is dimension and p.reservation is reservation)
