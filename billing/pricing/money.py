"""Currencies and the one rounding step: amounts stay exact until `quantize_price` rounds them."""

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import moneyed

#: Unit prices (per kWh, per hour, per session) keep this many decimals, like every OCPI number.
PRICE_DECIMALS = 4
PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_DECIMALS)

# py-moneyed lists withdrawn currencies too (DEM, HRK ...); a currency still in use names a country. Precious
# metals, fund units, the test code and XXX name no country but a pseudo-region, so they are left out as well.
_PSEUDO_REGIONS = ("UNKNOWN REGION", "ZZ")


@cache
def _currencies_in_use() -> dict[str, int]:
    in_use = {}
    for currency in moneyed.list_all_currencies():
        countries = currency.countries or []
        if countries and not any(country.startswith(_PSEUDO_REGIONS) for country in countries):
            in_use[currency.code] = currency.sub_unit
    return in_use


def is_currency_in_use(code: str) -> bool:
    """True for an ISO 4217 code of a currency in circulation today (EUR, CHF, JPY; not DEM, not XAU)."""
    return code in _currencies_in_use()


@cache
def minor_unit_quantum(currency: str) -> Decimal:
    """The smallest amount of the currency: 0.01 for EUR, 1 for JPY, 0.001 for KWD."""
    sub_unit = _currencies_in_use()[currency]
    return Decimal(1) / Decimal(sub_unit)


def quantize_price(amount: Decimal, currency: str) -> Decimal:
    """Round an exact amount to the currency's minor unit, half up (commercial rounding).

    This is the only place where money is rounded: the engine keeps every intermediate amount exact and calls
    this once per total. Half up is what the OCPI examples use (5.125 EUR is shown as 5.13 EUR)."""
    return amount.quantize(minor_unit_quantum(currency), rounding=ROUND_HALF_UP)


def quantize_unit_price(price: Decimal) -> Decimal:
    """Round a derived unit price (feed price + margin) to the 4 decimals tariff prices have."""
    return price.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)
