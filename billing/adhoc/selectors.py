"""Reads of ad-hoc charging: what the public EVSE page shows, and the status the page polls."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from billing.models import AdHocSession, Tariff
from billing.tariffs import tariff_for_session, tariff_summary_lines
from stations.models import Connector, Evse, MeterValue

from .services import STARTABLE_STATUSES, adhoc_hold_amount


@dataclass(frozen=True)
class EvseOffer:
    evse: Evse
    connector: Connector | None
    tariff: Tariff | None
    price_lines: list[str]
    hold: object | None  # Money
    available: bool


def evse_offer(evse_id: str) -> EvseOffer:
    """The EVSE by its eMI3 id (Evse.DoesNotExist otherwise), its connector, the guest price and the hold."""
    evse = Evse.objects.select_related("charge_point__location").get(evse_id=evse_id.strip().upper())
    connector = evse.connectors.order_by("ocpp_connector_id").first()
    tariff = tariff_for_session(connector=connector, customer=None, at=timezone.now()) if connector else None
    available = bool(connector and tariff and connector.status in STARTABLE_STATUSES
                     and evse.charge_point.is_connected)
    return EvseOffer(evse=evse, connector=connector, tariff=tariff,
                     price_lines=tariff_summary_lines(tariff) if tariff else [],
                     hold=adhoc_hold_amount(str(tariff.currency)) if tariff else None, available=available)


def adhoc_status(adhoc: AdHocSession) -> dict:
    """What the guest's page shows while waiting and charging; amounts as strings with the currency."""
    energy_wh = None
    session = adhoc.charging_session
    if session is not None:
        energy_wh = session.energy_wh if session.meter_stop_wh is not None else _energy_so_far(session)
    command = adhoc.start_command
    return {
        "state": adhoc.state,
        "state_label": adhoc.get_state_display(),
        "station_answer": command.state if command else None,
        "energy_kwh": f"{Decimal(energy_wh) / 1000:.3f}" if energy_wh is not None else None,
        "currency": adhoc.currency,
        "hold": f"{adhoc.hold_amount:.2f}",
        "cost": f"{adhoc.total_incl_vat:.2f}" if adhoc.total_incl_vat is not None else None,
        "captured": f"{adhoc.captured_amount:.2f}" if adhoc.captured_amount is not None else None,
        "failure": adhoc.failure,
        "receipt": bool(adhoc.receipt_number),
    }


def _energy_so_far(session) -> int | None:
    reading = (MeterValue.objects.filter(session=session, measurand=MeterValue.Measurand.ENERGY_IMPORT_REGISTER,
                                         phase="", location__in=["", "Outlet"])
               .order_by("-timestamp").values_list("value", "unit").first())
    if reading is None:
        return None
    value, unit = reading
    wh = value * 1000 if unit == "kWh" else value
    return max(int(wh) - session.meter_start_wh, 0)
