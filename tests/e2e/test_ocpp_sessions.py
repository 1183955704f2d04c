"""A simulated OCPP 1.6 station (the `ocpp` library as the client) on a real websocket to the real ASGI
server: what it reports ends up in the database as the station reported it (OCPP 1.6 certification
scenarios: cold boot, regular charging session, remote start and stop, idempotent start, unknown stop)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ocpp.v16 import call

from customers.models import IdToken
from stations.models import ChargePoint, ChargingSession, MeterValue, StationCommand, StationEvent, StatusEvent
from stations.simulator import Clock, SimulatedStation
from stations.simulator.clock import iso
from tests.e2e.conftest import STATION_PASSWORD, four_minutes_at_11_kw, parked_for_hours, request_command

pytestmark = pytest.mark.e2e


def simulated(charge_point, url, *, speed=120, plans=four_minutes_at_11_kw) -> SimulatedStation:
    return SimulatedStation(charge_point.identity, url, STATION_PASSWORD, connectors=2, clock=Clock(speed),
                            vendor="Alfen BV", model="Eve Double Pro-line", firmware_version="6.4.0-4142",
                            serial_number="ACE0281411", plans=plans)


def command_outcome(command: StationCommand, eventually) -> StationCommand:
    return eventually(lambda: StationCommand.objects.filter(pk=command.pk, state__in=StationCommand.FINAL_STATES)
                      .first(), what=f"{command.action} to be answered")


def test_cold_boot_then_regular_session_is_stored_as_the_station_reported_it(
        registered_station, valid_tag, ocpp_url, station_thread, eventually):
    station = simulated(registered_station, ocpp_url)

    with station_thread(station) as running:
        booted = ChargePoint.objects.get(pk=registered_station.pk)
        session = running.run(station.charge(1, valid_tag))

    # Boot: the station is recorded as it described itself, and was online.
    assert (booted.vendor, booted.model, booted.firmware_version, booted.serial_number) == (
        "Alfen BV", "Eve Double Pro-line", "6.4.0-4142", "ACE0281411")
    assert booted.is_connected and booted.ocpp_version == "ocpp1.6"
    # The session: the transaction id we assigned, the station's meter readings and its own times.
    stored = ChargingSession.objects.get(charge_point=registered_station)
    assert stored.transaction_id == str(session.transaction_id)
    assert stored.state == ChargingSession.State.COMPLETED
    assert stored.id_token == IdToken.objects.get(uid=valid_tag) and stored.id_tag_status == "Accepted"
    assert (stored.meter_start_wh, stored.meter_stop_wh) == (session.meter_start_wh, session.meter_stop_wh)
    assert stored.energy_wh == session.meter_stop_wh - session.meter_start_wh == 733  # 11 kW for 4 minutes
    assert (stored.started_at, stored.stopped_at) == (session.started_at, session.stopped_at)
    assert stored.stop_reason == "Local" and not stored.needs_review
    assert stored.evse.ocpp_evse_id == 1
    # Priced right after the stop (tasks run inline here): 0.733 kWh x 0.39 EUR = 0.29 EUR, 0.34 incl. VAT.
    record = stored.cdrs.get()
    assert (record.total_energy_wh, record.total_cost_excl_vat, record.total_cost_incl_vat) == (
        733, Decimal("0.29"), Decimal("0.34"))
    # Meter values: three periodic samples (the fourth minute ends the session) plus transactionData.
    values = MeterValue.objects.filter(session=stored)
    energy = list(values.filter(measurand=MeterValue.Measurand.ENERGY_IMPORT_REGISTER, context="Sample.Periodic")
                  .order_by("timestamp").values_list("value", flat=True))
    assert energy == sorted(energy) and len(energy) == 3
    assert session.meter_start_wh < energy[0] < energy[-1] < session.meter_stop_wh
    assert {int(v) for v in values.filter(measurand="Power.Active.Import").values_list("value", flat=True)} == {11_000}
    assert set(values.filter(measurand="Current.Import").values_list("phase", flat=True)) == {"L1", "L2", "L3"}
    assert values.filter(measurand="Voltage").count() == 9
    ends = values.filter(context__in=["Transaction.Begin", "Transaction.End"]).order_by("timestamp")
    assert [int(v) for v in ends.values_list("value", flat=True)] == [session.meter_start_wh, session.meter_stop_wh]
    # Status history of connector 1, by the station's clock.
    history = StatusEvent.objects.filter(connector__evse__ocpp_evse_id=1, charge_point=registered_station)
    assert list(history.order_by("timestamp", "id").values_list("status", flat=True)) == [
        "Available", "Preparing", "Charging", "Finishing", "Available"]
    assert StatusEvent.objects.filter(charge_point=registered_station, connector=None, status="Available").exists()
    # Closing the websocket marks the station offline.
    eventually(lambda: not ChargePoint.objects.get(pk=registered_station.pk).is_connected, what="offline")


def test_retried_start_transaction_gets_the_same_transaction_id_and_one_session(
        registered_station, valid_tag, ocpp_url, station_thread):
    station = simulated(registered_station, ocpp_url)
    start = call.StartTransaction(connector_id=1, id_tag=valid_tag, meter_start=120_000,
                                  timestamp=iso(datetime.now(UTC)))

    with station_thread(station) as running:
        first = running.run(station.call(start, suppress=False, unique_id="start-retry-1"))
        again = running.run(station.call(start, suppress=False, unique_id="start-retry-1"))  # the identical frame

    assert first.id_tag_info["status"] == again.id_tag_info["status"] == "Accepted"
    assert again.transaction_id == first.transaction_id
    sessions = ChargingSession.objects.filter(charge_point=registered_station)
    assert [s.transaction_id for s in sessions] == [str(first.transaction_id)]


def test_stop_transaction_for_an_unknown_transaction_is_accepted_and_kept_for_review(
        registered_station, ocpp_url, station_thread):
    station = simulated(registered_station, ocpp_url)
    stop = call.StopTransaction(meter_stop=5_000, timestamp=iso(datetime.now(UTC)), transaction_id=987_654,
                                reason="Local")

    with station_thread(station) as running:
        answer = running.run(station.call(stop, suppress=False))  # a CALLERROR would raise here

    assert answer.id_tag_info is None
    event = StationEvent.objects.get(charge_point=registered_station, kind=StationEvent.Kind.UNMATCHED_STOP)
    assert event.needs_review and event.payload["transaction_id"] == "987654"
    assert event.payload["meter_stop"] == 5_000
    assert not ChargingSession.objects.filter(charge_point=registered_station).exists()


def test_remote_start_and_stop_transaction_reach_the_station_and_are_recorded(
        registered_station, valid_tag, ocpp_url, station_thread, eventually):
    station = simulated(registered_station, ocpp_url, plans=parked_for_hours)

    with station_thread(station):
        start = request_command(charge_point=registered_station, action="RemoteStartTransaction",
                                payload={"connectorId": 2, "idTag": valid_tag})
        assert command_outcome(start, eventually).state == StationCommand.State.ACCEPTED
        charging = eventually(lambda: ChargingSession.objects.filter(
            charge_point=registered_station, state=ChargingSession.State.ACTIVE).first(), what="the session")
        assert (charging.evse.ocpp_evse_id, charging.id_tag) == (2, valid_tag)
        running = eventually(lambda: (s := station.connectors[2].session) and s.transaction_id and s,
                             what="the station to have its transaction id")
        assert running.remote and running.id_tag == valid_tag
        assert str(running.transaction_id) == charging.transaction_id

        stop = request_command(charge_point=registered_station, action="RemoteStopTransaction",
                               payload={"transactionId": running.transaction_id})
        assert command_outcome(stop, eventually).state == StationCommand.State.ACCEPTED
        stopped = eventually(lambda: ChargingSession.objects.filter(
            pk=charging.pk, state=ChargingSession.State.COMPLETED).first(), what="the remote stop")

    assert stopped.stop_reason == "Remote"
    assert start.__class__.objects.get(pk=start.pk).response == {"status": "Accepted"}
    history = StatusEvent.objects.filter(connector__evse__ocpp_evse_id=2, charge_point=registered_station)
    assert list(history.order_by("timestamp", "id").values_list("status", flat=True)) == [
        "Available", "Preparing", "Charging", "Finishing", "Available"]


def test_authorize_with_an_unknown_card_is_refused_and_no_session_starts(
        registered_station, ocpp_url, station_thread):
    station = simulated(registered_station, ocpp_url)

    with station_thread(station) as running:
        session = running.run(station.charge(1, "04DEADBEEF0000"))

    assert session.authorization == "Invalid" and session.transaction_id is None
    assert not ChargingSession.objects.filter(charge_point=registered_station).exists()
    history = StatusEvent.objects.filter(connector__evse__ocpp_evse_id=1, charge_point=registered_station)
    assert list(history.order_by("timestamp", "id").values_list("status", flat=True)) == [
        "Available", "Preparing", "Available"]
