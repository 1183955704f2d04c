"""Reads behind the operator dashboard: live counters, the status board and the charts.

Every figure is aggregated in the database with a fixed number of queries, whatever the size of the network;
days and hours are those of the operator's time zone (settings.BILLING_TIME_ZONE), so "today" on the
dashboard is the day the invoices and the accountants count.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import ChargeDetailRecord
from stations.models import ChargePoint, ChargingSession, Connector, ConnectorStatus

CHART_DAYS = 30
UTILISATION_DAYS = 7
# Sessions that started this long before a window are still looked at for their overlap with it; longer ones
# count only if still active. Keeps the utilisation query on the started_at index.
LONGEST_SESSION = timedelta(days=3)

CHARGING = (ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV, ConnectorStatus.SUSPENDED_EVSE)
OCCUPIED = (ConnectorStatus.PREPARING, ConnectorStatus.FINISHING, ConnectorStatus.OCCUPIED, ConnectorStatus.RESERVED)
OUT_OF_SERVICE = (ConnectorStatus.UNAVAILABLE, ConnectorStatus.FAULTED, ConnectorStatus.UNKNOWN)
SESSION_ENERGY_WH = F("meter_stop_wh") - F("meter_start_wh")


def operator_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.BILLING_TIME_ZONE)


@dataclass(frozen=True)
class Periods:
    """Aware datetimes bounding the dashboard's periods in the operator's zone."""

    now: datetime
    today_start: datetime
    month_start: datetime
    chart_start: datetime
    first_chart_day: date

    @classmethod
    def at(cls, now: datetime | None = None) -> "Periods":
        now = now or timezone.now()
        zone = operator_zone()
        today = now.astimezone(zone).date()
        first_chart_day = today - timedelta(days=CHART_DAYS - 1)
        return cls(
            now=now,
            today_start=_midnight(today, zone),
            month_start=_midnight(today.replace(day=1), zone),
            chart_start=_midnight(first_chart_day, zone),
            first_chart_day=first_chart_day,
        )


def _midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


# --- counters -------------------------------------------------------------------------------------------
def network_counters(*, periods: Periods | None = None, with_revenue: bool = True) -> dict:
    """Stations, connectors, sessions, energy and (for staff who may see money) revenue: five queries."""
    periods = periods or Periods.at()
    counters = {
        "stations": station_counts(),
        "connectors": connector_counts(),
        "sessions": session_counts(periods),
        "as_of": periods.now.isoformat(),
    }
    if with_revenue:
        counters["revenue"] = revenue_by_currency(periods)
    return counters


def station_counts() -> dict:
    """Online and offline partition the stations; faulted ones (station or any connector reporting Faulted)
    are counted whether they are online or not."""
    faulted_connector = Connector.objects.filter(evse__charge_point=OuterRef("pk"), status=ConnectorStatus.FAULTED)
    return (ChargePoint.objects.annotate(has_fault=Exists(faulted_connector)).aggregate(
        total=Count("pk"),
        online=Count("pk", filter=Q(is_connected=True)),
        offline=Count("pk", filter=Q(is_connected=False)),
        faulted=Count("pk", filter=Q(status=ConnectorStatus.FAULTED) | Q(has_fault=True)),
    ))


def connector_counts() -> dict:
    """Connectors as a driver finds them: one on an offline station is unavailable whatever it last said."""
    online = Q(evse__charge_point__is_connected=True)
    return Connector.objects.aggregate(
        total=Count("pk"),
        available=Count("pk", filter=online & Q(status=ConnectorStatus.AVAILABLE)),
        charging=Count("pk", filter=online & Q(status__in=CHARGING)),
        occupied=Count("pk", filter=online & Q(status__in=OCCUPIED)),
        unavailable=Count("pk", filter=~online | Q(status__in=OUT_OF_SERVICE)),
        faulted=Count("pk", filter=Q(status=ConnectorStatus.FAULTED)),
    )


def session_counts(periods: Periods) -> dict:
    """Active sessions now; sessions and energy of the sessions started today and this month (energy of
    finished sessions: a running session's energy is counted when it ends)."""
    active = ChargingSession.objects.filter(state=ChargingSession.State.ACTIVE).count()
    finished = Q(state=ChargingSession.State.COMPLETED)
    today = Q(started_at__gte=periods.today_start)
    totals = ChargingSession.objects.filter(started_at__gte=periods.month_start).aggregate(
        started_today=Count("pk", filter=today),
        started_month=Count("pk"),
        energy_today_wh=Sum(SESSION_ENERGY_WH, filter=today & finished, default=0),
        energy_month_wh=Sum(SESSION_ENERGY_WH, filter=finished, default=0),
    )
    return {"active": active, **totals}


def revenue_by_currency(periods: Periods) -> list[dict]:
    """Charge records (net of credit records, which hold negative amounts) of sessions started today and
    this month, per currency, incl. and excl. VAT."""
    today = Q(start_date_time__gte=periods.today_start)
    zero = Value(Decimal(0))
    rows = (ChargeDetailRecord.objects.filter(start_date_time__gte=periods.month_start)
            .values("currency").order_by("currency").annotate(
                today_incl_vat=Coalesce(Sum("total_cost_incl_vat", filter=today), zero),
                today_excl_vat=Coalesce(Sum("total_cost_excl_vat", filter=today), zero),
                month_incl_vat=Sum("total_cost_incl_vat"),
                month_excl_vat=Sum("total_cost_excl_vat"),
            ))
    return [{key: str(_money(value)) if key != "currency" else value for key, value in row.items()} for row in rows]


def _money(amount: Decimal) -> Decimal:
    # Records are exact to the minor unit; the sum of 4-decimal columns is shown at two.
    return Decimal(amount).quantize(Decimal("0.01"))


# --- status board -----------------------------------------------------------------------------------------
def status_board() -> list[dict]:
    """Every station with its connectors' status, in identity order: one query, compact rows for the page's
    script (a network of thousands of connectors stays a few hundred kilobytes)."""
    rows = (ChargePoint.objects.order_by("identity", "evses__ocpp_evse_id", "evses__connectors__ocpp_connector_id")
            .values_list("pk", "identity", "is_connected", "status", "location__name",
                         "evses__ocpp_evse_id", "evses__connectors__pk", "evses__connectors__status",
                         "evses__connectors__error_code"))
    board: list[dict] = []
    for pk, identity, connected, status, location, evse_no, connector_pk, connector_status, error in rows:
        if not board or board[-1]["id"] != pk:
            board.append({"id": pk, "identity": identity, "connected": connected, "status": status,
                          "location": location or "", "connectors": []})
        if connector_pk is not None:
            board[-1]["connectors"].append([connector_pk, evse_no, connector_status, error])
    return board
