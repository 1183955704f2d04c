"""Batched writes of what stations report, for the OCPP group writer (stations/protocol/writer.py), and the
lookups its handlers cache per connection.

A batch is what many messages must persist, committed in ONE transaction: journal frames, meter values and
status history as bulk inserts (COPY on PostgreSQL, bulk_create elsewhere), and the few updates (current
connector/station status, last seen); on PostgreSQL in a handful of round trips (_commit_pipelined). A batch
whose connection was lost is committed once more on a new one; a batch that fails otherwise is retried item
by item, so one bad message gets its own error and the others still commit.
"""

import functools
import logging
from dataclasses import dataclass, field

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from stations.events import event_groups
from stations.models import ChargePoint, ChargingSession, Connector, MeterValue, OcppMessage, StatusEvent
from stations.services.station_reports import SessionRef, connector_resolve, preparing_connection

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
        if _connection_lost():
            # The database restarted or failed over: that is no item's fault. Once more on a new connection.
            logger.warning("The OCPP writer's database connection was lost (%s); reconnecting", error)
            try:
                return _commit(items), {}
            except Exception as again:
                error = again
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


def _connection_lost() -> bool:
    """Whether the connection failed (and is now closed, so the next statement opens a new one)."""
    if connection.in_atomic_block or connection.connection is None or connection.is_usable():
        return False  # a caller's transaction is theirs to handle
    connection.close()
    return True


def _commit(items: list[WriteItem]) -> list[Publication]:
    journal = [row for item in items for row in item.journal]
    meters = [report for item in items for report in item.reports if isinstance(report, MeterReport)]
    statuses = [report for item in items for report in item.reports if isinstance(report, StatusReport)]
    seen = sorted({item.station_id for item in items if item.seen})
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        publications = _commit_pipelined(journal, meters, statuses, seen)
    else:
        publications = _commit_portable(journal, meters, statuses, seen)
    return [report.publication for report in meters if report.publication] + publications


def _commit_portable(journal, meters, statuses, seen) -> list[Publication]:
    """Any database, and PostgreSQL inside a caller's transaction: the ORM's connection, one statement at a time."""
    with transaction.atomic():
        if journal:
            # Frames of a station deleted meanwhile (a refused onboarding) would fail the batch on their key.
            live = _stations_existing({row[0] for row in journal})
            insert_rows(OcppMessage, JOURNAL_COLUMNS, [row for row in journal if row[0] in live])
        insert_rows(MeterValue, METER_COLUMNS, [row for report in meters for row in report.rows])
        insert_rows(StatusEvent, STATUS_COLUMNS, [report.row for report in statuses])
        publications = [publication for report in statuses if (publication := _apply_status(report))]
        if seen:
            _stations_seen(seen)
    return publications


def _commit_pipelined(journal, meters, statuses, seen) -> list[Publication]:
    """PostgreSQL: the same transaction in as few round trips as the protocol allows, because on a busy server
    each round trip, not the database's work, is what a batch (and so every station's answer) waits for.

    One pipeline sends BEGIN, which stations still exist, every status update and the last-seen update, and
    reads all their results at once; then one COPY per table; then COMMIT. (COPY cannot join a pipeline, and
    it costs the server process a third of the CPU of any INSERT form.) The database still checks every
    reference the rows make (per statement: stations/migrations/_references.py); a station deleted between the
    check and the commit fails the batch, which batch_commit then retries item by item, as any other failure."""
    pg = _raw_connection()
    with connection.wrap_database_errors:
        try:
            with pg.pipeline():
                _queue(pg, "BEGIN", [])
                existing = _queue(pg, _sql("existing"), [sorted({row[0] for row in journal})]) if journal else None
                updates = _queue_status_updates(pg, statuses)
                if seen:
                    _queue(pg, _sql("seen"), [timezone.now(), seen])
            live = {row[0] for row in existing.fetchall()} if existing else set()
            with psycopg.Cursor(pg) as cursor:
                copy_rows(cursor, OcppMessage, JOURNAL_COLUMNS, [row for row in journal if row[0] in live])
                copy_rows(cursor, MeterValue, METER_COLUMNS, [row for report in meters for row in report.rows])
                copy_rows(cursor, StatusEvent, STATUS_COLUMNS, [report.row for report in statuses])
                publications = updates()
                cursor.execute("COMMIT")
        except BaseException:
            if not pg.closed and pg.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                try:
                    psycopg.Cursor(pg).execute("ROLLBACK")
                except psycopg.Error:
                    pass  # the connection is broken: batch_commit closes it
            raise
    return publications


def _raw_connection():
    """The psycopg connection behind Django's, in autocommit mode (batches say BEGIN and COMMIT themselves)."""
    pg = preparing_connection()
    if not connection.get_autocommit():
        raise RuntimeError("The OCPP batch needs a connection in autocommit mode.")
    return pg


# The statements of a pipelined batch, written out once per process (table names come from the models).
_STATEMENTS: dict[str, str] = {}


def _sql(name: str) -> str:
    if not _STATEMENTS:
        quote = connection.ops.quote_name
        station, connector = quote(ChargePoint._meta.db_table), quote(Connector._meta.db_table)
        _STATEMENTS.update({
            "existing": f"SELECT id FROM {station} WHERE id = ANY(%s)",
            "seen": f"UPDATE {station} SET last_seen_at = %s WHERE id = ANY(%s)",
            # A late notification (queued while offline) goes into history but must not override a newer one.
            "connectors": (
                f"UPDATE {connector} AS c SET status = u.status, error_code = u.error_code, status_changed_at = u.at "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[]) AS u(id, status, error_code, at) "
                "WHERE c.id = u.id AND (c.status_changed_at IS NULL OR c.status_changed_at <= u.at) RETURNING c.id"),
            "station": _status_sql()[1] + " RETURNING id",
        })
    return _STATEMENTS[name]


def _queue_status_updates(pg, statuses: list[StatusReport]):
    """Queue the current-status updates in the pipeline; return a function that, once the pipeline has run,
    gives the live events of the updates that changed something. A connector or station reported twice in
    one batch (a reconnecting station) takes its newest report."""
    newest: dict[tuple[int, int | None], StatusReport] = {}
    for report in statuses:
        key = (report.row[0], report.row[1])
        if key not in newest or newest[key].row[7] <= report.row[7]:
            newest[key] = report
    # (cursor, the report of each id the statement returns)
    queued: list[tuple[psycopg.Cursor, dict[int, StatusReport]]] = []
    by_connector = {report.row[1]: report for report in newest.values() if report.row[1] is not None}
    if by_connector:
        reports = list(by_connector.values())
        queued.append((_queue(pg, _sql("connectors"), [
            [report.row[1] for report in reports], [report.row[2] for report in reports],
            [_shown_error(report.row[3]) for report in reports], [report.row[7] for report in reports]]),
            by_connector))
    for report in newest.values():
        if report.row[1] is None:
            station_id, _, status, error_code, *_, moment, _received = report.row
            queued.append((_queue(pg, _sql("station"), [status, _shown_error(error_code), station_id, station_id,
                                                        moment]),
                           {station_id: report}))

    def publications() -> list[Publication]:
        return [_status_event(reports[pk]) for cursor, reports in queued for (pk,) in cursor.fetchall()]

    return publications


def _queue(pg, sql: str, params: list) -> psycopg.Cursor:
    """Queue a statement in the pipeline; its cursor gives the result once the pipeline has run.
    (A plain psycopg cursor: Django's binds parameters on the client, which a pipeline cannot carry. Prepared:
    the same few statements run every batch, and Django's connections prepare nothing by themselves.)"""
    cursor = psycopg.Cursor(pg)
    cursor.execute(sql, params, prepare=sql != "BEGIN")
    return cursor


def _shown_error(error_code: str) -> str:
    return "" if error_code == "NoError" else error_code


def _status_event(report: StatusReport) -> Publication:
    station_id, connector_pk, status, error_code, *_, moment, _received = report.row
    event = {"type": "station.status", "identity": report.identity, "connector_id": report.connector_number,
             "connector_pk": connector_pk, "status": status, "error_code": _shown_error(error_code),
             "timestamp": moment.isoformat()}
    return event_groups(report.identity, event), event


# The two per-batch statements on stations, written out: through the ORM, compiling them cost more CPU than the
# rest of a batch's statements together.
def _stations_existing(station_ids: set[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {connection.ops.quote_name(ChargePoint._meta.db_table)} "
                       f"WHERE id IN ({', '.join(['%s'] * len(station_ids))})", list(station_ids))
        return {row[0] for row in cursor.fetchall()}


def _stations_seen(station_ids: list[int]) -> None:
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
    with connection.cursor() as cursor, connection.wrap_database_errors:  # COPY is not wrapped by Django's cursor
        copy_rows(cursor, model, columns, rows)


def copy_rows(cursor, model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY `rows` into the model's table (PostgreSQL; a psycopg or Django cursor)."""
    if not rows:
        return
    statement, types = _copy_statement(model, columns)
    with cursor.copy(statement) as copy:
        if types:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)


# PostgreSQL types of model columns whose binary form psycopg writes from our values (varchar's is text's).
_BINARY_TYPES = {"bigint": "int8", "integer": "int4", "smallint": "int2", "boolean": "bool", "text": "text",
                 "varchar": "text", "numeric": "numeric", "timestamp with time zone": "timestamptz"}


@functools.cache
def _copy_statement(model, columns: tuple[str, ...]) -> tuple[str, list[str] | None]:
    """The COPY statement for these columns, in the binary format when every column has a type in _BINARY_TYPES:
    timestamps and decimals then cost neither side any text formatting or parsing (measured: 0.45 instead of
    0.7-0.8 ms of client CPU for 250 meter values)."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(column) for column in columns]
    names = ", ".join(quote(field.column) for field in fields)
    types = [_BINARY_TYPES.get(field.db_type(connection).split("(")[0]) for field in fields]
    if None in types:
        return f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN", None
    return f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)", types


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
    at = connection.ops.adapt_datetimefield_value(moment)
    for_connector, for_station = _status_sql()
    with connection.cursor() as cursor:
        if connector_pk is not None:
            cursor.execute(for_connector, [status, _shown_error(error_code), at, connector_pk, at])
        else:
            cursor.execute(for_station, [status, _shown_error(error_code), station_id, station_id, at])
        if cursor.rowcount == 0:
            return None
    return _status_event(report)


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
