"""On PostgreSQL the references of meter values and journal frames are checked once per statement by triggers
(stations/migrations/_references.py) instead of once per row by foreign-key constraints. They must refuse
everything the constraints refused, under concurrency too; and the OCPP hot path's statements must really be
prepared on the server (Django's connections silently ignored psycopg's prepare=True)."""

import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from customers.models import IdToken
from stations.models import ChargePoint, Connector, MeterValue, OcppMessage
from stations.services.batch_reports import JOURNAL_COLUMNS, METER_COLUMNS, insert_rows
from stations.services.station_reports import id_tag_authorize
from tests.factories import ChargePointFactory, ChargingSessionFactory, ConnectorFactory, IdTokenFactory
from tests.needs import missing

MISSING = 987_654_321


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL: SQLite keeps Django's row-level foreign-key constraints")


@pytest.fixture
def session(db):
    return ChargingSessionFactory()


def meter(session, **changes) -> tuple:
    row = {"charge_point_id": session.charge_point_id, "connector_id": session.connector_id,
           "session_id": session.pk, "timestamp": datetime.now(UTC), "measurand": "Energy.Active.Import.Register",
           "phase": "", "location": "", "context": "", "value": 1000, "unit": "Wh"} | changes
    return tuple(row[column] for column in METER_COLUMNS)


def frame(station_id: int) -> tuple:
    return (station_id, "in", 2, "u-1", "Heartbeat", '[2,"u-1","Heartbeat",{}]', datetime.now(UTC))


@pytest.mark.parametrize("changes, column", [
    ({"charge_point_id": MISSING}, "charge_point_id"),
    ({"connector_id": MISSING}, "connector_id"),
    ({"session_id": MISSING}, "session_id"),
])
def test_a_meter_value_referencing_a_missing_row_is_refused_with_the_rest_of_its_statement(session, changes,
                                                                                           column):
    refused = f"(?s)on table \"stations_metervalue\" violates foreign key.*Key \\({column}\\)=\\({MISSING}\\) is not"
    with pytest.raises(IntegrityError, match=refused):
        with transaction.atomic():
            insert_rows(MeterValue, METER_COLUMNS, [meter(session), meter(session, **changes), meter(session)])
    assert not MeterValue.objects.exists()


def test_meter_values_without_a_connector_or_session_are_accepted(session):
    insert_rows(MeterValue, METER_COLUMNS, [meter(session, connector_id=None, session_id=None), meter(session)])
    assert MeterValue.objects.count() == 2


def test_a_journal_frame_of_a_missing_station_is_refused(session):
    with pytest.raises(IntegrityError, match='on table "stations_ocppmessage" violates foreign key'), \
            transaction.atomic():
        insert_rows(OcppMessage, JOURNAL_COLUMNS, [frame(session.charge_point_id), frame(MISSING)])
    assert not OcppMessage.objects.exists()


def test_changing_a_reference_to_a_missing_row_is_refused(session):
    insert_rows(MeterValue, METER_COLUMNS, [meter(session)])
    with pytest.raises(IntegrityError, match="session_id"), transaction.atomic():
        MeterValue.objects.update(session_id=MISSING)
    MeterValue.objects.update(session_id=None)  # dropping a reference is allowed
    assert MeterValue.objects.get().session_id is None


@pytest.mark.parametrize("table, pk", [
    ("stations_chargepoint", lambda s: s.charge_point_id),
    ("stations_connector", lambda s: s.connector_id),
    ("stations_chargingsession", lambda s: s.pk),
])
def test_a_referenced_row_cannot_be_deleted_or_rekeyed_behind_djangos_back(session, table, pk):
    insert_rows(MeterValue, METER_COLUMNS, [meter(session)])
    for sql in (f"DELETE FROM {table} WHERE id = %s", f"UPDATE {table} SET id = id + 1000000 WHERE id = %s"):
        with pytest.raises(IntegrityError, match='(?s)on table "stations_metervalue".*still referenced'), \
                transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [pk(session)])
    assert MeterValue.objects.count() == 1


def test_a_station_referenced_by_the_journal_only_cannot_be_deleted_in_sql(session):
    insert_rows(OcppMessage, JOURNAL_COLUMNS, [frame(session.charge_point_id)])
    with pytest.raises(IntegrityError, match='on table "stations_ocppmessage"'), transaction.atomic(), \
            connection.cursor() as c:
        c.execute("DELETE FROM stations_chargepoint WHERE id = %s", [session.charge_point_id])


def test_django_deletes_the_referencing_rows_first_and_the_checks_let_it(db):
    connector = ConnectorFactory()
    station = connector.evse.charge_point
    insert_rows(MeterValue, METER_COLUMNS, [
        (station.pk, connector.pk, None, datetime.now(UTC), "Voltage", "", "", "", 230, "V")])
    insert_rows(OcppMessage, JOURNAL_COLUMNS, [frame(station.pk)])
    station.delete()
    assert not ChargePoint.objects.exists() and not Connector.objects.exists()
    assert not MeterValue.objects.exists() and not OcppMessage.objects.exists()


# --- concurrency: two connections of their own, as the group writer and an operator's deletion ---------------
def _connect() -> psycopg.Connection:
    """A connection of its own to the test database, opened as Django opens its own (all of DATABASES'
    options), in autocommit: BEGIN and COMMIT below are the transactions."""
    own = connection.get_new_connection(connection.get_connection_params())
    own.autocommit = True
    return own


def _waiting_for_a_lock(pid: int) -> bool:
    with _connect() as observer:
        for _ in range(200):
            if observer.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                                [pid]).fetchone()[0] == "Lock":
                return True
            time.sleep(0.025)
    return False


def _in_thread(work) -> tuple[threading.Thread, list]:
    outcome = []

    def run():
        try:
            outcome.append(work())
        except Exception as error:  # reported to the test's thread through `outcome`
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_a_deletion_waits_for_the_batch_that_references_the_row_then_fails():
    station = ChargePointFactory()  # referenced by nothing else
    with _connect() as writer, _connect() as operator:
        writer.execute("BEGIN")
        writer.execute("INSERT INTO stations_ocppmessage (charge_point_id, direction, unique_id, action, frame, "
                       "created_at) VALUES (%s, 'in', 'u', 'Heartbeat', '[]', now())", [station.pk])
        thread, outcome = _in_thread(
            lambda: operator.execute("DELETE FROM stations_chargepoint WHERE id = %s", [station.pk]))
        assert _waiting_for_a_lock(operator.info.backend_pid)  # the batch's key-share lock holds it
        writer.execute("COMMIT")
        thread.join(timeout=10)
    assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)
    assert 'on table "stations_ocppmessage"' in str(outcome[0])
    assert ChargePoint.objects.filter(pk=station.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_waits_for_a_deletion_of_the_row_it_references_then_fails():
    station = ChargePointFactory()
    with _connect() as writer, _connect() as operator:
        operator.execute("BEGIN")
        operator.execute("DELETE FROM stations_chargepoint WHERE id = %s", [station.pk])  # nothing refers yet
        thread, outcome = _in_thread(lambda: writer.execute(
            "INSERT INTO stations_ocppmessage (charge_point_id, direction, unique_id, action, frame, created_at) "
            "VALUES (%s, 'in', 'u', 'Heartbeat', '[]', now())", [station.pk]))
        assert _waiting_for_a_lock(writer.info.backend_pid)
        operator.execute("COMMIT")
        thread.join(timeout=10)
    assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)
    assert 'Key (charge_point_id)' in str(outcome[0])
    assert not OcppMessage.objects.exists()


# --- prepared statements ----------------------------------------------------------------------------------
def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_authorisation_statement_is_prepared_on_the_server(db):
    token = IdTokenFactory(uid="PREPARED1")
    for _ in range(2):
        assert id_tag_authorize(charge_point_id=0, id_tag=token.uid).status == "Accepted"
    assert [s for s in _prepared() if "WHERE t.uid IN" in s]


@pytest.mark.django_db(transaction=True)
def test_no_statement_is_prepared_when_a_pooler_cannot_carry_them(settings):
    settings.OCPP_PREPARED_STATEMENTS = False
    connection.close()  # a new connection, as Django opens them
    IdTokenFactory(uid="PREPARED2", status=IdToken.Status.BLOCKED)
    assert id_tag_authorize(charge_point_id=0, id_tag="PREPARED2").status == "Blocked"
    assert _prepared() == []
