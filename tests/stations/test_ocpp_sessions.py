"""Sessions as a 1.6 station reports them: StartTransaction, MeterValues, StopTransaction, retries, odd stops,
and transactions that happened while the station was offline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import IdToken
from stations.models import ChargePoint, ChargingSession, MeterValue, StationEvent, StatusEvent
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.factories import IdTokenFactory
from tests.stations.ocpp_helpers import Station, in_db, meter_value, sampled, start, status, stop

pytestmark = pytest.mark.asyncio

ENERGY = "Energy.Active.Import.Register"


@pytest.fixture
def driver_token(station):
    return IdTokenFactory(uid="04DRIVER", group_id="FLEET-1")


@pytest.fixture
def t0():
    """When the driver plugged in, by the station's clock (whole seconds, as stations report)."""
    return timezone.now().replace(microsecond=0) - timedelta(hours=1)


def session_of(station: ChargePoint, transaction_id) -> ChargingSession:
    return ChargingSession.objects.select_related("connector__evse").get(
        charge_point=station, transaction_id=str(transaction_id))


def values_of(session: ChargingSession) -> list[tuple]:
    return [(v.measurand, v.phase, v.value, v.unit) for v in session.meter_values.order_by("timestamp", "id")]


def unmatched_stops(station: ChargePoint) -> list[StationEvent]:
    return list(StationEvent.objects.filter(charge_point=station, kind=StationEvent.Kind.UNMATCHED_STOP))


# --- regular session --------------------------------------------------------------------------------------
@pytest.fixture
def network_tariff(station, t0):
    """0.39 EUR/kWh excl. 19 % VAT everywhere, so a stopped session is priced."""
    return TariffAssignmentFactory(tariff=TariffFactory(), valid_from=t0 - timedelta(days=1))


async def test_regular_charging_session_from_authorize_to_stop(station, driver_token, network_tariff, t0):
    async with Station(station.identity) as cp:
        assert (await cp.result("Authorize", {"idTag": "04DRIVER"}))["idTagInfo"]["status"] == "Accepted"
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 1_250_000, t0))
        transaction_id = started["transactionId"]
        assert isinstance(transaction_id, int)
        assert started["idTagInfo"] == {"status": "Accepted", "parentIdTag": "FLEET-1"}

        active = await in_db(session_of, station, transaction_id)
        assert (active.state, active.started_at, active.meter_start_wh) == ("active", t0, 1_250_000)
        assert (active.id_token_id, active.customer_id, active.id_tag) == (
            driver_token.pk, driver_token.customer_id, "04DRIVER")
        assert active.connector.evse.ocpp_evse_id == 1

        reading = meter_value(t0 + timedelta(minutes=10), sampled("1255.5", ENERGY, "kWh"),
                              sampled("11.04", "Power.Active.Import", "kW"), sampled(73, "SoC", "Percent"),
                              *[sampled(16, "Current.Import", "A", phase=p) for p in ("L1", "L2", "L3")],
                              *[sampled(230, "Voltage", "V", phase=p) for p in ("L1-N", "L2-N", "L3-N")])
        assert await cp.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id,
                                               "meterValue": [reading]}) == {}

        stopped = await cp.result("StopTransaction", stop(
            transaction_id, 1_262_500, t0 + timedelta(minutes=45), reason="EVDisconnected", idTag="04DRIVER",
            transactionData=[meter_value(t0 + timedelta(minutes=45),
                                         sampled(1_262_500, ENERGY, "Wh", context="Transaction.End"))],
        ))
        assert stopped["idTagInfo"]["status"] == "Accepted"

    done = await in_db(session_of, station, transaction_id)
    assert (done.state, done.stopped_at, done.meter_stop_wh, done.energy_wh) == (
        "completed", t0 + timedelta(minutes=45), 1_262_500, 12_500)
    assert done.stop_reason == "EVDisconnected"
    assert not done.needs_review
    assert await in_db(values_of, done) == [
        (ENERGY, "", Decimal(1_255_500), "Wh"),
        ("Power.Active.Import", "", Decimal(11_040), "W"),
        ("SoC", "", Decimal(73), "Percent"),
        ("Current.Import", "L1", Decimal(16), "A"), ("Current.Import", "L2", Decimal(16), "A"),
        ("Current.Import", "L3", Decimal(16), "A"),
        ("Voltage", "L1-N", Decimal(230), "V"), ("Voltage", "L2-N", Decimal(230), "V"),
        ("Voltage", "L3-N", Decimal(230), "V"),
        (ENERGY, "", Decimal(1_262_500), "Wh"),
    ]
    # Priced right after the stop: 12.5 kWh x 0.39 EUR = 4.875 -> 4.88 EUR, 5.80 EUR incl. 19 % VAT.
    record = await in_db(lambda: done.cdrs.get())
    assert (record.total_energy_wh, record.total_cost_excl_vat, record.total_cost_incl_vat) == (
        12_500, Decimal("4.88"), Decimal("5.80"))


async def test_start_transaction_gives_each_session_of_a_station_its_own_transaction_id(station, driver_token, t0):
    await in_db(IdTokenFactory, uid="04SECOND")
    async with Station(station.identity) as cp:
        first = await cp.result("StartTransaction", start(1, "04DRIVER", 0, t0))
        second = await cp.result("StartTransaction", start(2, "04SECOND", 0, t0))
    assert first["transactionId"] != second["transactionId"]
    assert await in_db(ChargingSession.objects.filter(charge_point=station, state="active").count) == 2


async def test_start_transaction_retry_gets_the_same_transaction_id_and_no_second_session(station, driver_token, t0):
    async with Station(station.identity) as cp:
        first = await cp.result("StartTransaction", start(1, "04DRIVER", 5000, t0))
    async with Station(station.identity) as cp:  # the answer was lost; the station reconnects and retries
        again = await cp.result("StartTransaction", start(1, "04DRIVER", 5000, t0))
    assert again["transactionId"] == first["transactionId"]
    assert again["idTagInfo"]["status"] == "Accepted"
    assert await in_db(ChargingSession.objects.filter(charge_point=station).count) == 1


async def test_start_transaction_with_blocked_tag_is_recorded_and_flagged(station, t0):
    await in_db(IdTokenFactory, uid="04BLOCKED", status=IdToken.Status.BLOCKED)
    async with Station(station.identity) as cp:  # e.g. authorised offline from the station's cache
        started = await cp.result("StartTransaction", start(1, "04BLOCKED", 0, t0))
    assert started["idTagInfo"]["status"] == "Blocked"
    session = await in_db(session_of, station, started["transactionId"])
    assert (session.state, session.id_tag_status, session.needs_review) == ("active", "Blocked", True)
    assert "Blocked" in session.review_reason


async def test_start_transaction_with_unknown_tag_is_recorded_without_customer(station, t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "CAFE0001", 0, t0))
    assert started["idTagInfo"] == {"status": "Invalid"}
    session = await in_db(session_of, station, started["transactionId"])
    assert (session.id_tag, session.customer_id, session.needs_review) == ("CAFE0001", None, True)


async def test_start_on_a_connector_whose_previous_stop_was_lost_closes_that_session_for_review(
        station, driver_token, t0):
    async with Station(station.identity) as cp:
        lost = await cp.result("StartTransaction", start(1, "04DRIVER", 1000, t0))
        await cp.result("MeterValues", {"connectorId": 1, "transactionId": lost["transactionId"],
                                        "meterValue": [meter_value(t0 + timedelta(minutes=20), sampled(4000))]})
        await cp.result("StartTransaction", start(1, "04DRIVER", 4200, t0 + timedelta(minutes=30)))
    closed = await in_db(session_of, station, lost["transactionId"])
    assert (closed.state, closed.meter_stop_wh, closed.stopped_at) == ("completed", 4000, t0 + timedelta(minutes=20))
    assert closed.needs_review


# --- MeterValues ------------------------------------------------------------------------------------------
async def test_meter_values_without_transaction_id_are_linked_to_the_connectors_active_session(
        station, driver_token, t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(2, "04DRIVER", 0, t0))
        await cp.result("MeterValues", {"connectorId": 2, "meterValue": [
            meter_value(t0 + timedelta(minutes=5), sampled("0.75", ENERGY, "kWh"))]})
        await cp.result("MeterValues", {"connectorId": 1, "meterValue": [
            meter_value(t0 + timedelta(minutes=5), sampled(900, ENERGY))]})
    session = await in_db(session_of, station, started["transactionId"])
    assert await in_db(values_of, session) == [(ENERGY, "", Decimal(750), "Wh")]
    idle = await in_db(lambda: MeterValue.objects.get(charge_point=station, connector__evse__ocpp_evse_id=1))
    assert (idle.session_id, idle.value) == (None, Decimal(900))


async def test_meter_values_for_connector_0_are_stored_for_the_station(station):
    async with Station(station.identity) as cp:
        await cp.result("MeterValues", {"connectorId": 0, "meterValue": [
            meter_value(timezone.now(), sampled(50, "Frequency", "Hertz"), sampled(21, "Temperature", "Celsius"))]})
    rows = await in_db(lambda: list(MeterValue.objects.filter(charge_point=station).order_by("id")))
    assert [(r.measurand, r.value, r.connector_id, r.session_id) for r in rows] == [
        ("Frequency", Decimal(50), None, None), ("Temperature", Decimal(21), None, None)]


# --- StopTransaction --------------------------------------------------------------------------------------
async def test_stop_transaction_with_unknown_transaction_id_is_still_accepted_and_recorded_for_review(station, t0):
    async with Station(station.identity) as cp:
        reply = await cp.call("StopTransaction", stop(987654, 42_000, t0, reason="PowerLoss"))
        assert await cp.heartbeat_answered()
    assert reply[0] == 3 and reply[2] == {}
    [event] = await in_db(unmatched_stops, station)
    assert event.needs_review
    assert (event.payload["transaction_id"], event.payload["meter_stop"]) == ("987654", 42_000)


async def test_stop_transaction_repeated_is_answered_and_changes_nothing(station, driver_token, t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 100, t0))
        the_stop = stop(started["transactionId"], 2100, t0 + timedelta(minutes=30), reason="Local")
        await cp.result("StopTransaction", the_stop)
        first = await in_db(session_of, station, started["transactionId"])
        assert await cp.result("StopTransaction", the_stop) == {}
    again = await in_db(session_of, station, started["transactionId"])
    assert (again.stopped_at, again.meter_stop_wh, again.updated_at) == (first.stopped_at, 2100, first.updated_at)
    assert await in_db(unmatched_stops, station) == []


async def test_stop_transaction_of_a_finished_session_with_other_values_is_recorded_for_review(
        station, driver_token, t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 100, t0))
        await cp.result("StopTransaction", stop(started["transactionId"], 2100, t0 + timedelta(minutes=30)))
        assert await cp.result("StopTransaction", stop(started["transactionId"], 9999, t0 + timedelta(hours=2))) == {}
    assert (await in_db(session_of, station, started["transactionId"])).meter_stop_wh == 2100
    assert len(await in_db(unmatched_stops, station)) == 1


async def test_stop_transaction_with_meter_stop_below_meter_start_is_answered_and_flagged(station, driver_token, t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 5000, t0))
        reply = await cp.call("StopTransaction", stop(started["transactionId"], 4000, t0 + timedelta(minutes=5)))
    assert reply[0] == 3
    session = await in_db(session_of, station, started["transactionId"])
    assert (session.state, session.energy_wh, session.needs_review) == ("completed", 0, True)
    assert "below meter start" in session.review_reason


async def test_stop_transaction_without_reason_means_local(station, driver_token, t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 0, t0))
        await cp.result("StopTransaction", stop(started["transactionId"], 10, t0 + timedelta(minutes=1)))
    assert (await in_db(session_of, station, started["transactionId"])).stop_reason == "Local"


async def test_stop_transaction_with_an_unreadable_sample_still_completes_the_session(station, driver_token, t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 0, t0))
        reply = await cp.call("StopTransaction", stop(
            started["transactionId"], 3000, t0 + timedelta(minutes=20), transactionData=[meter_value(
                t0 + timedelta(minutes=20), sampled("n/a", ENERGY), sampled(3000, ENERGY, context="Transaction.End"))],
        ))
    assert reply[0] == 3, reply  # a CALLERROR here would make the station retry the stop for ever
    session = await in_db(session_of, station, started["transactionId"])
    assert (session.state, session.energy_wh) == ("completed", 3000)
    assert await in_db(values_of, session) == [(ENERGY, "", Decimal(3000), "Wh")]


# --- offline transactions ---------------------------------------------------------------------------------
async def test_offline_start_transaction_uses_the_stations_start_time(station, driver_token, t0):
    started_offline = t0 - timedelta(hours=2)
    async with Station(station.identity) as cp:  # back online: the queued messages arrive now
        await cp.result("StatusNotification", status(1, "Charging", at=started_offline))
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 300, started_offline))
        await cp.result("MeterValues", {"connectorId": 1, "transactionId": started["transactionId"], "meterValue": [
            meter_value(started_offline + timedelta(minutes=15), sampled(2800))]})
    session = await in_db(session_of, station, started["transactionId"])
    assert (session.state, session.started_at) == ("active", started_offline)
    reading = await in_db(session.meter_values.get)
    assert reading.timestamp == started_offline + timedelta(minutes=15)
    history = await in_db(StatusEvent.objects.get, charge_point=station, status="Charging")
    assert history.timestamp == started_offline


async def test_offline_transaction_start_and_stop_arrive_late_with_the_stations_times(station, driver_token, t0):
    began, ended = t0 - timedelta(hours=5), t0 - timedelta(hours=4)
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 10_000, began))
        await cp.result("StopTransaction", stop(started["transactionId"], 17_000, ended, reason="Local"))
    session = await in_db(session_of, station, started["transactionId"])
    assert (session.started_at, session.stopped_at, session.energy_wh) == (began, ended, 7000)
    assert session.duration_s == 3600


# --- retries of odd reports -------------------------------------------------------------------------------
async def test_start_transaction_retry_with_a_negative_meter_start_gets_the_same_transaction_id(
        station, driver_token, t0):
    async with Station(station.identity) as cp:
        first = await cp.result("StartTransaction", start(1, "04DRIVER", -20, t0))  # a broken meter
        again = await cp.result("StartTransaction", start(1, "04DRIVER", -20, t0))
    assert again["transactionId"] == first["transactionId"]
    [session] = await in_db(lambda: list(ChargingSession.objects.filter(charge_point=station)))
    assert (session.state, session.meter_start_wh, session.needs_review) == ("active", 0, True)


async def test_stop_transaction_retry_of_a_flagged_stop_is_not_reported_again(station, driver_token, t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04DRIVER", 5000, t0))
        odd_stop = stop(started["transactionId"], 4000, t0 - timedelta(minutes=1))  # below start, before start
        await cp.result("StopTransaction", odd_stop)
        assert await cp.result("StopTransaction", odd_stop) == {}
    assert await in_db(unmatched_stops, station) == []


# --- what the session services tell the rest of the product -------------------------------------------------
async def test_stopping_a_session_tells_save_listeners_it_is_completed(station, driver_token, t0):
    """Billing rates a stopped session from ChargingSession's post_save; the stop must still send it."""
    from django.db.models.signals import post_save

    heard = []

    def listener(sender, instance, created, update_fields=None, **kwargs):
        heard.append((created, instance.transaction_id, instance.state, instance.meter_stop_wh,
                      instance.needs_review, "state" in (update_fields or ())))

    post_save.connect(listener, sender=ChargingSession, weak=False)
    try:
        async with Station(station.identity) as cp:
            started = await cp.result("StartTransaction", start(1, "04DRIVER", 100, t0))
            await cp.result("StopTransaction", stop(started["transactionId"], 2100, t0 + timedelta(minutes=30)))
    finally:
        post_save.disconnect(listener, sender=ChargingSession)
    tx = str(started["transactionId"])
    assert heard == [(True, tx, "active", None, False, False), (False, tx, "completed", 2100, False, True)]


async def test_session_services_hand_live_events_to_the_caller_instead_of_publishing_on_commit(
        station, driver_token, t0, monkeypatch):
    from stations.services import station_reports

    on_commit_published = []
    monkeypatch.setattr(station_reports, "publish_after_commit", lambda *args, **kw: on_commit_published.append(args))
    events = []
    started = await in_db(station_reports.transaction_start, charge_point_id=station.pk, connector_id=1,
                          id_tag="04DRIVER", meter_start_wh=100, timestamp=t0, reservation_id=None, events=events)
    await in_db(station_reports.transaction_stop, charge_point_id=station.pk, transaction_id=started.transaction_id,
                meter_stop_wh=600, timestamp=t0 + timedelta(minutes=5), reason="", id_tag="", meter_values=[],
                events=events)
    assert on_commit_published == []
    assert [(event["type"], event["energy_wh"], groups[0]) for groups, event in events] == [
        ("session.started", None, f"station.{station.identity}"),
        ("session.stopped", 500, f"station.{station.identity}"),
    ]


async def test_start_transaction_with_a_lower_case_tag_is_linked_to_the_card_and_its_customer(station, driver_token,
                                                                                               t0):
    async with Station(station.identity) as cp:
        started = await cp.result("StartTransaction", start(1, "04driver", 100, t0))
    assert started["idTagInfo"] == {"status": "Accepted", "parentIdTag": "FLEET-1"}
    session = await in_db(session_of, station, started["transactionId"])
    assert (session.id_token_id, session.customer_id, session.id_tag) == (
        driver_token.pk, driver_token.customer_id, "04driver")
