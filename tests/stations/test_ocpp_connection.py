"""OCPP-J connection: subprotocol negotiation, Basic auth (security profiles 0-2), onboarding of unknown
stations, the connected state, and a reconnect that replaces the old socket."""

from datetime import timedelta

import pytest
from channels.layers import get_channel_layer
from django.contrib.auth.hashers import identify_hasher
from django.utils import timezone

from stations.models import ChargePoint, StationEvent
from tests.factories import ChargePointFactory
from tests.stations.ocpp_helpers import STATION_PASSWORD, Station, boot, in_db

pytestmark = pytest.mark.asyncio


def reload(charge_point: ChargePoint) -> ChargePoint:
    return ChargePoint.objects.get(pk=charge_point.pk)


# --- subprotocol negotiation ------------------------------------------------------------------------------
async def test_subprotocol_negotiation_picks_ocpp16_from_the_clients_list(station):
    cp = Station(station.identity, subprotocols=["ocpp2.0.1", "ocpp1.6"])
    assert await cp.connect()
    assert cp.subprotocol == "ocpp1.6"
    assert await cp.heartbeat_answered()
    await cp.close()


@pytest.mark.parametrize("offered", [["ocpp2.0.1"], ["ocpp1.5"], []], ids=["201-only", "15-only", "none"])
async def test_subprotocol_negotiation_without_a_supported_version_completes_the_handshake_then_closes(
        station, offered):
    cp = Station(station.identity, subprotocols=offered)
    assert await cp.connect()
    assert cp.subprotocol is None
    assert await cp.closed_by_server() == 1002
    await cp.close()
    assert not (await in_db(reload, station)).is_connected


async def test_subprotocol_negotiation_failure_ignores_a_frame_already_in_flight(station):
    cp = Station(station.identity, subprotocols=["ocpp2.0.1"])
    assert await cp.connect()
    await cp.comm.send_to(text_data='[2, "early-1", "Heartbeat", {}]')  # sent before it saw the close
    assert await cp.closed_by_server() == 1002
    await cp.close()  # raises if the server side crashed on that frame


# --- Basic auth -------------------------------------------------------------------------------------------
async def test_basic_auth_with_the_right_password_is_accepted(station):
    cp = Station(station.identity, password=STATION_PASSWORD)
    assert await cp.connect()
    assert await cp.heartbeat_answered()
    await cp.close()


@pytest.mark.parametrize("user, password", [
    (None, "wrong-station-password-16"),  # right user, wrong password
    ("CP-OTHER-1", STATION_PASSWORD),  # right password, someone else's identity
    (None, None),  # no Authorization header
    (None, ""),
], ids=["wrong-password", "wrong-user", "missing-header", "empty-password"])
async def test_basic_auth_with_wrong_credentials_is_refused(station, user, password):
    cp = Station(station.identity, password=password, user=user)
    assert not await cp.connect()
    assert not (await in_db(reload, station)).is_connected


async def test_basic_auth_header_that_is_not_basic_is_refused(station):
    cp = Station(station.identity, password=None)
    cp.comm.scope["headers"] = [(b"authorization", b"Bearer " + STATION_PASSWORD.encode())]
    assert not await cp.connect()


async def test_security_profile_0_station_is_accepted_without_auth(ocpp_db):
    open_station = await in_db(ChargePointFactory, identity="CP-OPEN-1",
                               security_profile=ChargePoint.SecurityProfile.NONE)
    async with Station(open_station.identity, password=None) as cp:
        assert (await cp.result("BootNotification", boot()))["status"] == "Accepted"


# --- unknown stations -------------------------------------------------------------------------------------
async def test_unknown_station_is_refused_by_default(ocpp_db):
    cp = Station("CP-NEW-1", password="an-offered-password-0001")
    assert not await cp.connect()
    assert not await in_db(ChargePoint.objects.filter(identity="CP-NEW-1").exists)


async def test_unknown_station_is_accepted_as_pending_when_onboarding_is_allowed(ocpp_db, settings):
    settings.OCPP_ACCEPT_UNKNOWN_STATIONS = True
    offered = "an-offered-password-0001"
    async with Station("CP-NEW-1", password=offered) as cp:
        answer = await cp.result("BootNotification", boot("ABB", "Terra AC", firmwareVersion="1.8.2"))
        assert answer["status"] == "Pending"
        assert answer["interval"] > 0
        assert await cp.heartbeat_answered()

    created = await in_db(ChargePoint.objects.get, identity="CP-NEW-1")
    assert created.registration_status == ChargePoint.RegistrationStatus.PENDING
    assert (created.vendor, created.model, created.firmware_version) == ("ABB", "Terra AC", "1.8.2")
    assert created.location is None
    # The password it offered is kept for when the operator approves it, hashed and never in clear.
    assert offered not in created.password_hash
    assert identify_hasher(created.password_hash)
    assert created.check_password(offered)
    assert await in_db(StationEvent.objects.filter(charge_point=created, needs_review=True).exists)


async def test_pending_station_that_reconnects_is_not_created_twice(ocpp_db, settings):
    settings.OCPP_ACCEPT_UNKNOWN_STATIONS = True
    for _ in range(2):
        async with Station("CP-NEW-2", password="an-offered-password-0002") as cp:
            assert (await cp.result("BootNotification", boot()))["status"] == "Pending"
    assert await in_db(ChargePoint.objects.filter(identity="CP-NEW-2").count) == 1


async def test_pending_station_that_reconnects_with_another_password_is_refused(ocpp_db, settings):
    settings.OCPP_ACCEPT_UNKNOWN_STATIONS = True
    async with Station("CP-NEW-3", password="an-offered-password-0003"):
        pass
    assert not await Station("CP-NEW-3", password="somebody-elses-password").connect()


# --- connected state --------------------------------------------------------------------------------------
async def test_connect_marks_the_station_connected_and_disconnect_marks_it_offline(station):
    before = timezone.now()
    cp = Station(station.identity)
    assert await cp.connect()

    online = await in_db(reload, station)
    assert online.is_connected
    assert online.connected_at >= before and online.last_seen_at >= before
    assert online.ocpp_version == "ocpp1.6"

    await cp.close()
    offline = await in_db(reload, station)
    assert not offline.is_connected
    assert offline.last_seen_at == online.last_seen_at  # last seen stays visible while offline


async def test_any_message_after_a_long_silence_updates_last_seen(station):
    async with Station(station.identity) as cp:
        long_ago = timezone.now() - timedelta(hours=2)
        await in_db(ChargePoint.objects.filter(pk=station.pk).update, last_seen_at=long_ago)
        # A fresh connection's first message always counts (the throttle starts at connect).
        await cp.result("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError"})
        assert (await in_db(reload, station)).last_seen_at > long_ago


async def test_a_channel_layer_failure_closes_the_connection_and_marks_the_station_offline(station):
    cp = Station(station.identity)
    assert await cp.connect()
    channel = (await in_db(reload, station)).connection_channel

    await get_channel_layer().send(channel, {"type": "ocpp.no.such.message"})  # the consumer cannot handle it

    assert await cp.closed_by_server() == 1011
    await cp.close()
    assert not (await in_db(reload, station)).is_connected


# --- a second connection of the same station --------------------------------------------------------------
async def test_second_connection_of_the_same_station_closes_the_first(station):
    first = Station(station.identity)
    assert await first.connect()
    second = Station(station.identity)
    assert await second.connect()

    assert await first.closed_by_server() == 4000
    await first.close()  # the server side of the old socket finishes after the close handshake

    assert (await in_db(reload, station)).is_connected
    assert await second.heartbeat_answered()
    await second.close()
    assert not (await in_db(reload, station)).is_connected


async def test_second_connection_with_wrong_password_does_not_close_the_first(station):
    first = Station(station.identity)
    assert await first.connect()
    assert not await Station(station.identity, password="wrong-station-password-16").connect()

    assert await first.nothing_sent()
    assert await first.heartbeat_answered()
    await first.close()
