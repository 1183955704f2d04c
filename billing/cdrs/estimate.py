"""Cost so far of a session in progress: its meter values up to the latest energy reading, priced as rating
would price the session if it stopped then (the same tariff, the customer's discounts, VAT), through the pure
pricing engine. An estimate for the driver's live page, never a record: the final price comes with the CDR.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from billing.models import Tariff
from billing.pricing import quantize_price
from stations.models import ChargingSession, MeterValue

from .facts import ENERGY, OUTLET, UNIT_FACTORS
from .rating import RatingRefused, session_rating


@dataclass(frozen=True)
class CostEstimate:
    currency: str
    incl_vat: Decimal  # rounded to the currency's minor unit
    excl_vat: Decimal
    energy_wh: int
    as_of: datetime
    tariff: Tariff | None


def session_cost_estimate(session: ChargingSession) -> CostEstimate | None:
    """What the session would cost if it ended at its latest energy reading (at its start when there is none
    yet), or None when it cannot be priced (no tariff, impossible meter values): the page then says so
    instead of showing a wrong figure."""
    if session.state != ChargingSession.State.ACTIVE:
        return None
    as_of, register_wh = latest_energy_reading(session)
    upto = copy.copy(session)
    upto.stopped_at, upto.meter_stop_wh = as_of, register_wh
    upto.state = ChargingSession.State.COMPLETED
    try:
        rating = session_rating(upto)
    except RatingRefused:
        return None
    total, currency = rating.totals.total, rating.priced.currency
    return CostEstimate(currency=currency, incl_vat=quantize_price(total.incl_vat, currency),
                        excl_vat=quantize_price(total.excl_vat, currency),
                        energy_wh=register_wh - session.meter_start_wh, as_of=as_of, tariff=rating.tariff)


def latest_energy_reading(session: ChargingSession) -> tuple[datetime, int]:
    """(time, energy register in Wh) of the session's latest billing-register reading, as session facts count
    them (no phase, at the outlet); the start when there is none. Never before the start or below the meter
    start: a station's clock or meter running backwards does not make a negative price."""
    row = (MeterValue.objects.filter(session=session, measurand=ENERGY, phase="", location__in=OUTLET,
                                     timestamp__gte=session.started_at, timestamp__lte=timezone.now())
           .order_by("-timestamp", "-id").values_list("timestamp", "value", "unit").first())
    if row is None:
        return session.started_at, session.meter_start_wh
    moment, value, unit = row
    factor = UNIT_FACTORS[ENERGY].get(unit, 1)
    register_wh = int((Decimal(value) * factor).to_integral_value())
    return moment, max(register_wh, session.meter_start_wh)
