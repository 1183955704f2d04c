"""Charge detail records in OCPI 2.2.1 form (mod_cdrs): the CDR object partners and our roaming module read,
the CdrLocation snapshot taken when a session is rated, and the ChargingPeriods from a priced session.

Numbers are `Decimal` with at most 4 decimals (OCPI's number type); a JSON encoder must write them as numbers
(DRF's does). Money is shown at the currency's minor unit, quantities at 4 decimals, half up. What is stored in
JSON fields (periods, tariff snapshot) holds plain JSON numbers already.
"""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from billing.models import ChargeDetailRecord
from billing.pricing import ChargingPeriod, PricedSession, quantize_price
from billing.pricing.money import PRICE_QUANTUM
from billing.pricing.ocpi import DYNAMIC_PRICE_KEY, format_datetime
from customers.models import IdToken
from stations.models import ChargingSession

#: OCPI TokenType of our token types; app and back-office tokens are APP_USER, contract ids and the rest OTHER.
TOKEN_TYPES = {
    IdToken.Type.ISO14443: "RFID",
    IdToken.Type.ISO15693: "RFID",
    IdToken.Type.CENTRAL: "APP_USER",
}
#: Our own customers authorise against our own token list: no request to an eMSP is made.
AUTH_METHOD = "WHITELIST"
COST_CATEGORIES = {
    "total_fixed_cost": "fixed",
    "total_energy_cost": "energy",
    "total_time_cost": "time",
    "total_parking_cost": "parking",
    "total_reservation_cost": "reservation",
}


def operator_ids() -> tuple[str, str]:
    """Our OCPI country code and party id (settings OCPI_COUNTRY_CODE / OCPI_PARTY_ID)."""
    return settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID


def quantity(value) -> Decimal:
    """An OCPI number: at most 4 decimals, half up, without trailing zeros beyond what it needs."""
    rounded = Decimal(value).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)
    return rounded.normalize() if rounded == rounded.to_integral_value() else rounded


def json_number(value: Decimal) -> int | float:
    """A 4-decimal Decimal as a plain JSON number for a JSON field: floats keep up to 15 significant digits
    exactly through their shortest repr, which is how the tariff reader reads them back."""
    value = quantity(value)
    return int(value) if value == value.to_integral_value() else float(value)


def json_safe(value):
    """A document with Decimals (the engine's tariff JSON) made storable in a JSONField."""
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


# -- snapshots taken when a session is rated -----------------------------------------------------------------


def location_snapshot(session: ChargingSession) -> dict:
    """OCPI CdrLocation as the location, EVSE and connector are now (the session is rated when it ends)."""
    location = session.charge_point.location
    evse, connector = session.evse, session.connector
    return {
        "id": location.code,
        "name": location.name,
        "address": location.address,
        "city": location.city,
        "postal_code": location.postal_code,
        "country": location.country.alpha3,
        "coordinates": {"latitude": f"{location.latitude:.6f}", "longitude": f"{location.longitude:.6f}"},
        "evse_uid": str(evse.pk),  # never changes, unlike the printed EVSE id an operator may correct
        "evse_id": evse.evse_id or f"{session.charge_point.identity}*{evse.ocpp_evse_id}",
        "connector_id": str(connector.ocpp_connector_id),
        "connector_standard": connector.standard or "IEC_62196_T2",
        "connector_format": connector.format or "SOCKET",
        "connector_power_type": connector.power_type or "AC_3_PHASE",
    }


def charging_periods(priced: PricedSession, *, start: datetime, tariff_id: str | None) -> list[dict]:
    """OCPI ChargingPeriods: one per stretch with the same active price components, with measured volumes."""
    periods = [_charging_period(period, tariff_id) for period in priced.charging_periods]
    if not periods:  # a session of no duration still has one period (OCPI: 1 or more)
        periods = [{"start_date_time": format_datetime(start), "dimensions": [{"type": "ENERGY", "volume": 0}]}]
    return periods


def _charging_period(period: ChargingPeriod, tariff_id: str | None) -> dict:
    dimensions = []
    if period.energy_wh or period.charging_time_s:
        dimensions.append(("ENERGY", Decimal(period.energy_wh) / 1000))
    for name, seconds in (("TIME", period.charging_time_s), ("PARKING_TIME", period.parking_time_s),
                          ("RESERVATION_TIME", period.reservation_time_s)):
        if seconds:
            dimensions.append((name, seconds / 3600))
    if period.max_power_w is not None and period.charging_time_s:
        dimensions.append(("MAX_POWER", period.max_power_w / 1000))
    if period.max_current_a and period.charging_time_s:
        dimensions.append(("MAX_CURRENT", period.max_current_a))
    document = {
        "start_date_time": format_datetime(period.start),
        "dimensions": [{"type": name, "volume": json_number(volume)} for name, volume in dimensions]
        or [{"type": "TIME", "volume": 0}],
    }
    if tariff_id and period.elements:
        document["tariff_id"] = tariff_id
    return document


def cost_breakdown(priced: PricedSession) -> dict:
    """The OCPI cost split (exact, before min/max price) and any min/max adjustment, as decimal strings."""
    breakdown = {
        "fixed": priced.fixed_cost, "energy": priced.energy_cost, "time": priced.time_cost,
        "parking": priced.parking_time_cost, "reservation": priced.reservation_cost,
    }
    if priced.limit:
        breakdown["limit_adjustment"] = priced.limit_adjustment
    return {name: {"excl_vat": exact(a.excl_vat), "incl_vat": exact(a.incl_vat)} for name, a in breakdown.items()}


def exact(amount: Decimal) -> str:
    """An amount for a JSON field: to a millionth, so an invoice summing many records per VAT rate and rounding
    once is exact to the cent."""
    return str(Decimal(amount).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


# -- the CDR object ------------------------------------------------------------------------------------------


def cdr_to_ocpi(cdr: ChargeDetailRecord) -> dict:
    """The OCPI 2.2.1 CDR object. Reads `cdr.id_token` and `cdr.credited_record`: select_related them for lists.

    A credit CDR carries the data of the record it credits with negative `total_cost` only (mod_cdrs "Credit
    CDRs"); our stored credit amounts are negative throughout so that a customer's records sum to what they owe."""
    country, party = operator_ids()
    currency = str(cdr.currency)
    credit = cdr.kind == ChargeDetailRecord.Kind.CREDIT
    document = {
        "country_code": country,
        "party_id": party,
        "id": cdr.ocpi_id,
        "start_date_time": format_datetime(cdr.start_date_time),
        "end_date_time": format_datetime(cdr.end_date_time),
        "session_id": str(cdr.session_id),
        "cdr_token": {
            "country_code": country,
            "party_id": party,
            "uid": cdr.token_uid,
            "type": TOKEN_TYPES.get(cdr.id_token.type, "OTHER") if cdr.id_token_id else "RFID",
            "contract_id": cdr.contract_id or cdr.token_uid,
        },
        "auth_method": AUTH_METHOD,
        "cdr_location": cdr.location_snapshot,
        "currency": currency,
        "tariffs": [_plain_tariff(cdr.tariff_snapshot)] if cdr.tariff_snapshot else [],
        "charging_periods": cdr.charging_periods,
        "total_cost": _price(cdr.total_cost_excl_vat, cdr.total_cost_incl_vat, currency),
        "total_energy": quantity(Decimal(cdr.total_energy_wh) / 1000),
        "total_time": quantity(Decimal(cdr.total_time_s + cdr.total_parking_time_s) / 3600),
        "total_parking_time": quantity(Decimal(cdr.total_parking_time_s) / 3600),
    }
    sign = -1 if credit else 1
    for key, category in COST_CATEGORIES.items():
        cost = cdr.cost_breakdown.get(category)
        if cost is not None and (key != "total_reservation_cost" or Decimal(cost["excl_vat"])):
            document[key] = _price(sign * Decimal(cost["excl_vat"]), sign * Decimal(cost["incl_vat"]), currency)
    if cdr.reason:
        document["remark"] = cdr.reason[:255]
    document["credit"] = credit
    if credit:
        document["credit_reference_id"] = cdr.credited_record.ocpi_id
    document["last_updated"] = format_datetime(cdr.created_at)
    return document


def _price(excl_vat: Decimal, incl_vat: Decimal, currency: str) -> dict:
    return {"excl_vat": quantize_price(Decimal(excl_vat), currency),
            "incl_vat": quantize_price(Decimal(incl_vat), currency)}


def _plain_tariff(snapshot: dict) -> dict:
    """The tariff as plain OCPI shows it: a dynamic energy price is its announced price."""
    if not any(DYNAMIC_PRICE_KEY in c for e in snapshot.get("elements", ()) for c in e.get("price_components", ())):
        return snapshot
    plain = copy.deepcopy(snapshot)
    for element in plain["elements"]:
        for component in element["price_components"]:
            component.pop(DYNAMIC_PRICE_KEY, None)
    return plain


