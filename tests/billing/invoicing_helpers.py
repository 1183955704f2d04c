"""Charge records with chosen VAT parts, for invoicing tests."""

from datetime import datetime, timedelta
from decimal import Decimal

from billing.models import ChargeDetailRecord
from tests.billing.loyalty_factories import ChargeDetailRecordFactory


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def charge_record(customer, *, start: str, parts, currency="EUR", energy_wh=20_000, discounts=(), city="Berlin",
                  **extra) -> ChargeDetailRecord:
    """A record of `customer` starting at `start` (ISO, with offset) with VAT parts [(rate, excl_vat), ...]."""
    begin = datetime.fromisoformat(start)
    breakdown = []
    for rate, excl in parts:
        excl = Decimal(excl)
        vat = Decimal(0) if rate is None else excl * Decimal(rate) / 100
        breakdown.append({"rate": rate, "excl_vat": str(excl), "vat": str(vat), "incl_vat": str(excl + vat)})
    excl_total = sum(Decimal(part["excl_vat"]) for part in breakdown)
    incl_total = sum(Decimal(part["incl_vat"]) for part in breakdown)
    return ChargeDetailRecordFactory(
        session__id_token__customer=customer, customer=customer, currency=currency, start_date_time=begin,
        end_date_time=begin + timedelta(hours=1), total_energy_wh=energy_wh, vat_breakdown=breakdown,
        tariff_cost_excl_vat=cents(excl_total), tariff_cost_incl_vat=cents(incl_total),
        total_cost_excl_vat=cents(excl_total), total_cost_incl_vat=cents(incl_total),
        discounts=list(discounts), location_snapshot={"name": "Charging park", "city": city}, **extra,
    )
