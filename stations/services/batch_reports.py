"""Batched writes of what stations report, for the OCPP group writer (stations/protocol/writer.py), and the
lookups its handlers cache per connection.

A batch is what many messages must persist, committed in ONE transaction: journal frames, meter values and
status history as bulk inserts (COPY on PostgreSQL, bulk_create elsewhere), then the few per-row updates
(current connector/station status, last seen). A batch that fails is retried item by item, so one bad
message gets its own error and the others still commit.
"""

import logging
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from stations.events import event_groups
from stations.models import ChargePoint, ChargingSession, Connector, MeterValue, OcppMessage, StatusEvent
from stations.services.station_reports import SessionRef, connector_resolve

logger = logging.getLogger(__name__)

JOURNAL_COLUMNS = ("charge_point_id", "direction", "message_type", "unique_id", "action", "frame", "created_at")
METER_COLUMNS = ("charge_point_id", "connector_id", "session_id", "timestamp", "measurand", "phase", "location",
                 "context", "value", "unit")
STATUS_COLUMNS = ("charge_point_id", "connector_id", "status", "error_code", "info", "vendor_id",
                  "vendor_error_code", "timestamp", "received_at")

Publication = tuple[list[str], dict]


@dataclass(slots=True)
class MeterReport:
    rows: list[tuple]  # METER_COLUMNS
    publication: Publication | None = None  # the live reading, for an active session


@dataclass(slots=True)
class StatusReport:
    identity: str
    connector_number: int
    row: tuple  # STATUS_COLUMNS


@dataclass(slots=True)
class WriteItem:
    """What one message persists: its journal frames (in and out), its reports, and whether it counts as
    a sign of life (last_seen_at)."""

    station_id: int
    journal: list[tuple] = field(default_factory=list)  # JOURNAL_COLUMNS
    reports: list = field(default_factory=list)
    seen: bool = False


# --- the batch --------------------------------------------------------------------------------------------
def batch_commit(items: list[WriteItem]) -> tuple[list[Publication], dict[int, Exception]]:
    """Commit the batch; if it fails, each item on its own. Returns the events to publish (of committed
    items only) and the error of each item (by index) that could not be committed."""
    try:
        return _commit(items), {}
    except Exception as error:
        if len(items) == 1:
            return [], {0: error}
        logger.warning("A batch of %d OCPP writes failed (%s); retrying them one by one", len(items), error)
    publications, errors = [], {}
    for index, item in enumerate(items):
        try:
            publications += _commit([item])
        except Exception as error:
            errors[index] = error
    return publications, errors


def _commit(items: list[WriteItem]) -> list[Publication]:
    with transaction.atomic():
        journal = [row for item in items for row in item.journal]
        if journal:
            # Frames of a station deleted meanwhile (a refused onboarding) would fail the batch on their key.
            live = _stations_existing({row[0] for row in journal})
            insert_rows(OcppMessage, JOURNAL_COLUMNS, [row for row in journal if row[0] in live])
        meters = [report for item in items for report in item.reports if isinstance(report, MeterReport)]
        insert_rows(MeterValue, METER_COLUMNS, [row for report in meters for row in report.rows])
        statuses = [report for item in items for report in item.reports if isinstance(report, StatusReport)]
        insert_rows(StatusEvent, STATUS_COLUMNS, [report.row for report in statuses])
        publications = [report.publication for report in meters if report.publication]
        publications += [publication for report in statuses if (publication := _apply_status(report))]
        seen = {item.station_id for item in items if item.seen}
        if seen:
            _stations_seen(seen)
    return publications


# The two per-batch statements on stations, written out: through the ORM, compiling them cost more CPU than the
# rest of a batch's statements together.
def _stations_existing(station_ids: set[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {connection.ops.quote_name(ChargePoint._meta.db_table)} "
                       f"WHERE id IN ({', '.join(['%s'] * len(station_ids))})", list(station_ids))
        return {row[0] for row in cursor.fetchall()}


def _stations_seen(station_ids: set[int]) -> None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {connection.ops.quote_name(ChargePoint._meta.db_table)} SET last_seen_at = %s "
                       f"WHERE id IN ({', '.join(['%s'] * len(station_ids))})", [now, *station_ids])


def insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows])
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(column).column) for column in columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _status_sql() -> tuple[str, str]:
    quote = connection.ops.quote_name
    connector, station = Connector._meta.db_table, ChargePoint._meta.db_table
    history = StatusEvent._meta.db_table
    # A late notification (queued while offline) goes into history but must not override a newer one.
    for_connector = (f"UPDATE {quote(connector)} SET status = %s, error_code = %s, status_changed_at = %s "
                     "WHERE id = %s AND (status_changed_at IS NULL OR status_changed_at <= %s)")
    # The station (connector 0) has no time of its own: the newest connector-0 history row is its time.
    for_station = (f"UPDATE {quote(station)} SET status = %s, error_code = %s WHERE id = %s AND NOT EXISTS "
                   f"(SELECT 1 FROM {quote(history)} WHERE charge_point_id = %s AND connector_id IS NULL "
                   f"AND {quote('timestamp')} > %s)")
    return for_connector, for_station


def _apply_status(report: StatusReport) -> Publication | None:
    station_id, connector_pk, status, error_code, *_, moment, _received = report.row
    shown_error = "" if error_code == "NoError" else error_code
    at = connection.ops.adapt_datetimefield_value(moment)
    for_connector, for_station = _status_sql()
    with connection.cursor() as cursor:
        if connector_pk is not None:
            cursor.execute(for_connector, [status, shown_error, at, connector_pk, at])
        else:
            cursor.execute(for_station, [status, shown_error, station_id, station_id, at])
        if cursor.rowcount == 0:
            return None
    event = {"type": "station.status", "identity": report.identity, "connector_id": report.connector_number,
             "connector_pk": connector_pk, "status": status, "error_code": shown_error,
             "timestamp": moment.isoformat()}
    return event_groups(report.identity, event), event


# --- lookups that handlers cache per connection -------------------------------------------------------------
def connector_ref(*, charge_point_id: int, connector_number: int) -> tuple[int, int]:
    """(connector pk, EVSE pk) of OCPP 1.6 connector N; one not configured yet is added (connector_resolve)."""
    found = (Connector.objects.filter(evse__charge_point_id=charge_point_id, evse__ocpp_evse_id=connector_number)
             .order_by("ocpp_connector_id").values_list("pk", "evse_id").first())
    if found is not None:
        return found
    with transaction.atomic():
        connector = connector_resolve(ChargePoint.objects.get(pk=charge_point_id), connector_number)
    return connector.pk, connector.evse_id


def session_ref(*, charge_point_id: int, transaction_id: str | None, connector_pk: int | None) -> SessionRef | None:
    """The session a MeterValues belongs to: by transaction id, else the connector's active session."""
    sessions = ChargingSession.objects.filter(charge_point_id=charge_point_id)
    if transaction_id is not None:
        sessions = sessions.filter(transaction_id=transaction_id)
    elif connector_pk is not None:
        sessions = sessions.filter(connector_id=connector_pk, state=ChargingSession.State.ACTIVE)
    else:
        return None
    row = sessions.values_list("pk", "transaction_id", "connector_id", "evse_id", "customer_id", "meter_start_wh",
                               "state").first()
    return None if row is None else SessionRef(*row[:6], row[6] == ChargingSession.State.ACTIVE)
