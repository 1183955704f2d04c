"""The group writer commits what many stations report in one transaction, answers each station only once its
message is durable, and keeps one bad message from costing the others their data; the lookups each
connection caches follow sessions as they start and stop."""

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from stations.models import ChargePoint, ChargingSession, Connector, MeterValue, OcppMessage, StatusEvent
from stations.protocol import writer as writer_module
from stations.protocol.db import run_in_writer_thread
from stations.protocol.journal import journal_row
from stations.protocol.writer import group_writer
from stations.services import batch_reports
from stations.services.batch_reports import MeterReport, WriteItem
from tests.factories import ChargePointFactory, IdTokenFactory
from tests.needs import missing
from tests.stations.ocpp_helpers import Station, in_db, meter_value, sampled, start, status, stop

pytestmark = pytest.mark.asyncio


def meter_row(station_id: int, session_pk: int | None, wh: int) -> tuple:
    return (station_id, None, session_pk, datetime.now(UTC), "Energy.Active.Import.Register", "", "", "", wh, "Wh")


@pytest.fixture
def gate(monkeypatch):
    """While the returned event is clear, the group writer cannot commit: its batch waits for it to be set."""
    event = threading.Event()
    event.set()
    original = writer_module.batch_commit

    def held_commit(items):
        assert event.wait(timeout=10)
        return original(items)

    monkeypatch.setattr(writer_module, "batch_commit", held_commit)
    return event


async def test_station_is_answered_only_once_its_meter_values_are_committed(station, gate):
    async with Station(station.identity) as cp:
        await cp.result("Heartbeat", {})
        gate.clear()
        frame = [2, "mv-1", "MeterValues", {"connectorId": 1, "meterValue": [meter_value(timezone.now(),
                                                                                           sampled(1234))]}]
        await cp.comm.send_to(text_data=json.dumps(frame))
        assert await cp.nothing_sent(0.5)  # the commit is held: no answer yet
        gate.set()
        answer = json.loads(await cp.comm.receive_from(timeout=5))
    assert answer == [3, "mv-1", {}]
    assert await in_db(MeterValue.objects.filter(charge_point=station, value=1234).exists)


async def test_calls_that_commit_their_own_transaction_are_answered_before_their_frames_are_journaled(
        station, gate):
    from django.db import connection

    if connection.vendor == "sqlite":
        missing("with SQLite's one database thread, the held writer would hold the handlers too")
    await in_db(IdTokenFactory, uid="04OWNTX")
    async with Station(station.identity) as cp:
        await cp.result("Heartbeat", {})
        gate.clear()  # the group writer cannot commit anything now
        authorized = await cp.result("Authorize", {"idTag": "04OWNTX"})
        started = await cp.result("StartTransaction", start(1, "04OWNTX", 0, timezone.now()))
        # What the start reported is committed before its answer, the writer's batch or not.
        assert await in_db(ChargingSession.objects.filter(transaction_id=str(started["transactionId"])).exists)
        assert not await in_db(OcppMessage.objects.filter(action__in=["Authorize", "StartTransaction"]).exists)
        gate.set()
        await group_writer().flush()
    assert authorized["idTagInfo"]["status"] == started["idTagInfo"]["status"] == "Accepted"
    journaled = await in_db(lambda: list(OcppMessage.objects.filter(
        action__in=["Authorize", "StartTransaction"]).order_by("created_at", "id").values_list(
        "action", "direction", "message_type")))
    assert journaled == [("Authorize", "in", 2), ("Authorize", "out", 3),
                         ("StartTransaction", "in", 2), ("StartTransaction", "out", 3)]


async def test_server_shutdown_waits_for_the_group_writer_to_commit_what_it_holds(station, gate):
    from evbackoffice.asgi import lifespan

    gate.clear()
    group_writer().write_later(WriteItem(station.pk, [journal_row(station.pk, "in", "[2,\"late\",\"Heartbeat\",{}]",
                                                                  2, "late", "Heartbeat")]))
    inbox, sent = asyncio.Queue(), []
    inbox.put_nowait({"type": "lifespan.shutdown"})

    async def send(message):
        sent.append(message["type"])

    stopping = asyncio.ensure_future(lifespan({"type": "lifespan"}, inbox.get, send))
    await asyncio.sleep(0.3)
    assert not stopping.done()  # the write is held: the server does not finish stopping
    gate.set()
    await asyncio.wait_for(stopping, timeout=10)
    assert sent == ["lifespan.shutdown.complete"]
    assert await in_db(OcppMessage.objects.filter(unique_id="late").exists)


async def test_a_bad_message_in_a_batch_gets_its_own_error_while_the_others_commit(station, monkeypatch):
    attempts = []
    original = batch_reports._commit

    def counted(items):
        attempts.append(len(items))
        return original(items)

    monkeypatch.setattr(batch_reports, "_commit", counted)

    def item(wh: int, session_pk: int | None) -> WriteItem:
        row = journal_row(station.pk, "in", f"[2, \"u{wh}\", \"MeterValues\", {{}}]", 2, f"u{wh}", "MeterValues")
        return WriteItem(station.pk, [row], [MeterReport([meter_row(station.pk, session_pk, wh)])])

    writer = group_writer()
    outcomes = await asyncio.gather(
        writer.write(item(1, None)), writer.write(item(2, 987654321)), writer.write(item(3, None)),
        return_exceptions=True,
    )

    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], IntegrityError)  # the session it names does not exist
    assert attempts == [3, 1, 1, 1]  # one batch, then each message on its own
    assert await in_db(lambda: sorted(MeterValue.objects.values_list("value", flat=True))) == [1, 3]
    assert await in_db(lambda: sorted(OcppMessage.objects.values_list("unique_id", flat=True))) == ["u1", "u3"]


async def test_a_failed_write_is_answered_with_internal_error_and_journaled(station, monkeypatch):
    def broken(report):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batch_reports, "_status_event", broken)
    async with Station(station.identity) as cp:
        reply = await cp.call("StatusNotification", status(1, "Charging", at=timezone.now()))
    assert reply[2] == "InternalError"
    assert not await in_db(StatusEvent.objects.exists)
    journaled = await in_db(lambda: list(OcppMessage.objects.filter(unique_id=reply[1]).order_by("id")))
    assert [(m.direction, m.message_type) for m in journaled] == [("in", 2), ("out", 4)]


async def test_many_stations_reporting_at_once_are_all_persisted_and_answered(station, monkeypatch):
    batches = []
    original = batch_reports._commit
    monkeypatch.setattr(batch_reports, "_commit", lambda items: batches.append(len(items)) or original(items))

    async with Station(station.identity) as cp:
        moment = timezone.now().replace(microsecond=0)
        frames = [json.dumps([2, f"m{n}", "MeterValues", {"connectorId": 1, "meterValue": [
            meter_value(moment + timedelta(seconds=n), sampled(n))]}]) for n in range(5)]
        for frame in frames:  # one station, several frames queued: each is answered in order
            await cp.comm.send_to(text_data=frame)
        answers = [json.loads(await cp.comm.receive_from(timeout=5)) for _ in frames]
    assert [a[1] for a in answers] == [f"m{n}" for n in range(5)]
    assert await in_db(MeterValue.objects.filter(charge_point=station).count) == 5
    assert sum(batches) >= 5


# --- what a connection caches -----------------------------------------------------------------------------
async def test_meter_values_without_transaction_id_go_to_the_session_started_after_a_lost_stop(station):
    await in_db(IdTokenFactory, uid="04CACHE")
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    async with Station(station.identity) as cp:
        first = await cp.result("StartTransaction", start(1, "04CACHE", 100, t0))
        await cp.result("MeterValues", {"connectorId": 1, "meterValue": [meter_value(t0 + timedelta(minutes=1),
                                                                                     sampled(150))]})
        # The first session's StopTransaction was lost: the next start closes it.
        second = await cp.result("StartTransaction", start(1, "04CACHE", 200, t0 + timedelta(minutes=10)))
        await cp.result("MeterValues", {"connectorId": 1, "meterValue": [meter_value(t0 + timedelta(minutes=11),
                                                                                     sampled(250))]})
    assert first["transactionId"] != second["transactionId"]
    filed = await in_db(lambda: dict(MeterValue.objects.values_list("value", "session__transaction_id")))
    assert filed == {150: str(first["transactionId"]), 250: str(second["transactionId"])}


async def test_meter_values_after_a_stop_are_filed_to_the_stopped_session_without_a_live_reading(station):
    from channels.layers import get_channel_layer

    await in_db(IdTokenFactory, uid="04CACHE")
    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add(f"station.{station.identity}", listener)
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04CACHE", 100, t0))
        tx = started["transactionId"]
        reading = {"connectorId": 1, "transactionId": tx, "meterValue": [meter_value(t0, sampled(120))]}
        await cp.result("MeterValues", reading)
        await cp.result("StopTransaction", stop(tx, 300, t0 + timedelta(minutes=30)))
        late = {"connectorId": 1, "transactionId": tx, "meterValue": [meter_value(t0 + timedelta(minutes=29),
                                                                                  sampled(290))]}
        await cp.result("MeterValues", late)
        await asyncio.sleep(0.2)  # events are sent after the commit, in the background
    kinds = []
    while True:
        try:
            event = await asyncio.wait_for(layer.receive(listener), 0.5)
        except TimeoutError:
            break
        kinds.append((event["type"], event.get("energy_wh")))
    assert kinds.count(("session.reading", 20)) == 1
    assert ("session.reading", 190) not in kinds  # the session had ended
    session = await in_db(ChargingSession.objects.get, charge_point=station, transaction_id=str(tx))
    assert await in_db(lambda: set(MeterValue.objects.filter(session=session).values_list("value", flat=True))) == {
        120, 290}


# --- status -----------------------------------------------------------------------------------------------
async def test_late_station_status_does_not_override_a_newer_one(station):
    now = timezone.now().replace(microsecond=0)
    async with Station(station.identity) as cp:
        await cp.result("StatusNotification", status(0, "Unavailable", at=now))
        await cp.result("StatusNotification", status(0, "Available", at=now - timedelta(minutes=10)))  # queued
    assert (await in_db(ChargePoint.objects.get, pk=station.pk)).status == "Unavailable"
    history = await in_db(lambda: list(StatusEvent.objects.filter(charge_point=station, connector=None)
                                       .values_list("status", "timestamp")))
    assert history == [("Unavailable", now), ("Available", now - timedelta(minutes=10))]


async def test_newer_station_status_replaces_the_current_one(station):
    now = timezone.now().replace(microsecond=0)
    async with Station(station.identity) as cp:
        await cp.result("StatusNotification", status(0, "Unavailable", at=now - timedelta(minutes=10)))
        await cp.result("StatusNotification", status(0, "Faulted", error="GroundFailure", at=now))
    changed = await in_db(ChargePoint.objects.get, pk=station.pk)
    assert (changed.status, changed.error_code) == ("Faulted", "GroundFailure")


async def test_heartbeat_records_last_seen_before_it_is_answered(station):
    async with Station(station.identity) as cp:
        before = timezone.now()
        await cp.result("Heartbeat", {})
        seen = (await in_db(ChargePoint.objects.get, pk=station.pk)).last_seen_at
    assert seen is not None and seen >= before


# --- the batch's transaction --------------------------------------------------------------------------------
def status_report(station, connector, state: str, at: datetime) -> batch_reports.StatusReport:
    return batch_reports.StatusReport(station.identity, 1, (
        station.pk, connector.pk, state, "NoError", "", "", "", at, datetime.now(UTC)))


async def test_a_connector_reported_twice_in_one_batch_takes_the_newest_report(station):
    connector = await in_db(lambda: Connector.objects.get(evse__charge_point=station, evse__ocpp_evse_id=1))
    now = timezone.now().replace(microsecond=0)
    writer = group_writer()
    await asyncio.gather(  # one batch: the newer report first, then one queued earlier by the station
        writer.write(WriteItem(station.pk, reports=[status_report(station, connector, "Charging", now)])),
        writer.write(WriteItem(station.pk, reports=[status_report(station, connector, "Preparing",
                                                                  now - timedelta(seconds=30))])),
    )
    assert (await in_db(Connector.objects.get, pk=connector.pk)).status == "Charging"
    assert await in_db(lambda: sorted(StatusEvent.objects.filter(connector=connector)
                                      .values_list("status", flat=True))) == ["Charging", "Preparing"]


async def test_frames_of_a_station_deleted_meanwhile_are_dropped_and_the_rest_of_the_batch_commits(station):
    other = await in_db(ChargePointFactory, identity="CP-GONE")
    gone_pk = other.pk
    await in_db(other.delete)
    writer = group_writer()
    await asyncio.gather(
        writer.write(WriteItem(station.pk, [journal_row(station.pk, "in", "[2,\"a\",\"Heartbeat\",{}]", 2, "a")])),
        writer.write(WriteItem(gone_pk, [journal_row(gone_pk, "in", "[2,\"b\",\"Heartbeat\",{}]", 2, "b")])),
    )
    assert await in_db(lambda: list(OcppMessage.objects.values_list("unique_id", flat=True))) == ["a"]


async def test_the_writer_replaces_a_database_connection_that_was_cut(station):
    from django.db import connection

    if connection.vendor != "postgresql":
        missing("needs PostgreSQL: the test cuts the writer's connection from the server side")
    writer = group_writer()
    await writer.write(WriteItem(station.pk, [journal_row(station.pk, "in", "[2,\"1\",\"Heartbeat\",{}]", 2, "1")]))

    def backend_pid():
        from django.db import connection as own

        return own.connection.info.backend_pid

    def cut(pid):
        from django.db import connection as own

        with own.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    await in_db(cut, await run_in_writer_thread(backend_pid))  # as a restart or a failover of the database would

    await writer.write(WriteItem(station.pk, [journal_row(station.pk, "in", "[2,\"2\",\"Heartbeat\",{}]", 2, "2")]))
    assert await in_db(lambda: sorted(OcppMessage.objects.values_list("unique_id", flat=True))) == ["1", "2"]


async def test_the_writer_prepares_its_statements_on_postgresql(station):
    from django.db import connection

    if connection.vendor != "postgresql":
        missing("needs PostgreSQL: prepared statements are PostgreSQL's")
    writer = group_writer()
    for n in range(2):
        await writer.write(WriteItem(station.pk, [journal_row(station.pk, "in", "[2,\"1\",\"Heartbeat\",{}]", 2,
                                                              str(n))], seen=True))

    def prepared():
        from django.db import connection as own

        with own.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    statements = await run_in_writer_thread(prepared)
    assert [s for s in statements if "SET last_seen_at" in s] and [s for s in statements if "SELECT id FROM" in s]


async def test_live_events_go_out_at_once_after_a_quiet_spell_and_in_rounds_under_load(monkeypatch):
    rounds = []

    async def record(publications):
        rounds.append((asyncio.get_running_loop().time(), [event["n"] for _, event in publications]))

    monkeypatch.setattr(writer_module, "send_committed", record)
    writer = group_writer()
    started = asyncio.get_running_loop().time()
    writer.publish([(["dashboard"], {"n": 1})])
    await asyncio.sleep(0)
    writer.publish([(["dashboard"], {"n": 2})])  # while the first round is sent: both join the next round
    writer.publish([(["dashboard"], {"n": 3})])
    await writer._sender
    assert [numbers for _, numbers in rounds] == [[1], [2, 3]]
    assert rounds[0][0] - started < writer_module.LIVE_ROUND_S / 2
    assert rounds[1][0] - rounds[0][0] >= writer_module.LIVE_ROUND_S * 0.9
