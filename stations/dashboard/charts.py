"""The dashboard's charts: sessions, energy and revenue per day, utilisation per location and load per hour of
day. Each is one aggregate query (two for utilisation) grouped in the database, in the operator's zone."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractHour, Greatest, Least, TruncDate

from billing.models import ChargeDetailRecord
from stations.dashboard.selectors import (
    CHART_DAYS,
    LONGEST_SESSION,
    SESSION_ENERGY_WH,
    UTILISATION_DAYS,
    Periods,
    operator_zone,
)
from stations.models import ChargingSession, Connector

# A chart of hundreds of locations is unreadable: beyond this many it shows the most and least used halves.
LOCATIONS_SHOWN = 30


def dashboard_charts(*, periods: Periods | None = None, with_revenue: bool = True) -> dict:
    periods = periods or Periods.at()
    charts = {
        "days": [(periods.first_chart_day + timedelta(days=n)).isoformat() for n in range(CHART_DAYS)],
        **sessions_per_day(periods),
        "utilisation": utilisation_per_location(periods),
        "load": load_per_hour_of_day(periods),
    }
    if with_revenue:
        charts["revenue"] = revenue_per_day(periods)
    return charts


def sessions_per_day(periods: Periods) -> dict:
    """Sessions started per local day and the energy of those that have finished (kWh)."""
    rows = (ChargingSession.objects.filter(started_at__gte=periods.chart_start)
            .annotate(day=TruncDate("started_at", tzinfo=operator_zone()))
            .values("day").order_by("day")
            .annotate(sessions=Count("pk"),
                      energy_wh=Sum(SESSION_ENERGY_WH, filter=Q(state=ChargingSession.State.COMPLETED), default=0)))
    by_day = {row["day"]: row for row in rows}
    days = [periods.first_chart_day + timedelta(days=n) for n in range(CHART_DAYS)]
    return {
        "sessions": [by_day[day]["sessions"] if day in by_day else 0 for day in days],
        "energy_kwh": [round(by_day[day]["energy_wh"] / 1000, 1) if day in by_day else 0 for day in days],
    }


def revenue_per_day(periods: Periods) -> dict:
    """Net revenue incl. VAT per local day and currency, as strings (exact decimals)."""
    rows = (ChargeDetailRecord.objects.filter(start_date_time__gte=periods.chart_start)
            .annotate(day=TruncDate("start_date_time", tzinfo=operator_zone()))
            .values("currency", "day").order_by("currency", "day")
            .annotate(incl_vat=Sum("total_cost_incl_vat"), excl_vat=Sum("total_cost_excl_vat")))
    index = {periods.first_chart_day + timedelta(days=n): n for n in range(CHART_DAYS)}
    series: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        if row["day"] not in index:
            continue
        currency = series.setdefault(row["currency"], {"incl_vat": ["0.00"] * CHART_DAYS,
                                                       "excl_vat": ["0.00"] * CHART_DAYS})
        for key in ("incl_vat", "excl_vat"):
            currency[key][index[row["day"]]] = str(Decimal(row[key]).quantize(Decimal("0.01")))
    return series


def utilisation_per_location(periods: Periods) -> list[dict]:
    """Share of connector-hours occupied by a session over the last seven days, per location, busiest first.

    Occupied means between a session's start and stop (or now, while it runs), clipped to the window."""
    end = periods.now
    start = end - timedelta(days=UTILISATION_DAYS)
    when_ended = Least(Coalesce("stopped_at", Value(end)), Value(end))
    overlap = ExpressionWrapper(when_ended - Greatest("started_at", Value(start)), output_field=DurationField())
    occupied = (ChargingSession.objects
                .filter(Q(started_at__gte=start - LONGEST_SESSION) | Q(state=ChargingSession.State.ACTIVE),
                        Q(stopped_at__isnull=True) | Q(stopped_at__gt=start), started_at__lt=end)
                .values("charge_point__location").order_by()
                .annotate(occupied=Sum(overlap)))
    busy = {row["charge_point__location"]: row["occupied"] or timedelta(0) for row in occupied}
    connectors = (Connector.objects.values("evse__charge_point__location", "evse__charge_point__location__name")
                  .order_by().annotate(count=Count("pk")))
    window_hours = UTILISATION_DAYS * 24
    locations = [{
        "id": row["evse__charge_point__location"],
        "name": row["evse__charge_point__location__name"] or "(not placed)",
        "connectors": row["count"],
        "percent": round(100 * busy.get(row["evse__charge_point__location"], timedelta(0)).total_seconds()
                         / 3600 / (row["count"] * window_hours), 1),
    } for row in connectors]
    locations.sort(key=lambda location: (-location["percent"], location["name"]))
    if len(locations) > LOCATIONS_SHOWN:
        half = LOCATIONS_SHOWN // 2
        locations = locations[:half] + locations[-half:]
    return locations


def load_per_hour_of_day(periods: Periods) -> dict:
    """Average power drawn by the network (kW) in each local hour of the day over the last seven days, and
    the sessions started in that hour per day. A finished session's energy is spread evenly over the hours
    it touched (a session of a day or more over all 24).

    The database groups the sessions by (first hour, last hour, whole day): at most 600 groups, whatever the
    number of sessions; spreading each group's energy over its hours is then a fixed amount of work here."""
    zone = operator_zone()
    start = periods.now - timedelta(days=UTILISATION_DAYS)
    groups = (ChargingSession.objects
              .filter(started_at__gte=start, state=ChargingSession.State.COMPLETED)
              .annotate(first_hour=ExtractHour("started_at", tzinfo=zone),
                        # A session ending at 20:00 sharp did not draw power in the hour from 20:00.
                        last_hour=ExtractHour(ExpressionWrapper(F("stopped_at") - timedelta(seconds=1),
                                                                output_field=DateTimeField()), tzinfo=zone),
                        all_day=ExpressionWrapper(Q(stopped_at__gte=F("started_at") + timedelta(hours=23)),
                                                  output_field=BooleanField()))
              .values("first_hour", "last_hour", "all_day").order_by()
              .annotate(energy_wh=Sum(SESSION_ENERGY_WH), sessions=Count("pk")))
    energy_wh, started = [0.0] * 24, [0] * 24
    for group in groups:
        first, last = group["first_hour"], group["last_hour"]
        hours = range(24) if group["all_day"] else [hour % 24 for hour in range(first, first + (last - first) % 24 + 1)]
        for hour in hours:
            energy_wh[hour] += group["energy_wh"] / len(hours)
        started[first] += group["sessions"]
    return {
        "hours": list(range(24)),
        "average_kw": [round(wh / UTILISATION_DAYS / 1000, 2) for wh in energy_wh],
        "sessions_started": [round(count / UTILISATION_DAYS, 1) for count in started],
    }
