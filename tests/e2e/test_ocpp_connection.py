"""The connection itself, over a real websocket: a station that goes away is shown offline."""

import asyncio
import base64
import json

import pytest
from websockets.asyncio.client import connect

from stations.models import ChargePoint
from tests.e2e.conftest import STATION_PASSWORD

pytestmark = pytest.mark.e2e


async def send_heartbeat_and_hang_up(url: str, identity: str, is_online) -> None:
    credentials = base64.b64encode(f"{identity}:{STATION_PASSWORD}".encode()).decode()
    async with connect(url + identity, subprotocols=["ocpp1.6"],
                       additional_headers={"Authorization": f"Basic {credentials}"}) as websocket:
        while not await asyncio.to_thread(is_online):
            await asyncio.sleep(0.05)
        await websocket.send(json.dumps([2, "hb-1", "Heartbeat", {}]))
        # Leaving the block closes the socket at once, while the server is still answering the Heartbeat.


def test_station_that_hangs_up_while_its_message_is_answered_is_marked_offline(registered_station, ocpp_url,
                                                                              eventually):
    station = ChargePoint.objects.filter(pk=registered_station.pk)

    asyncio.run(send_heartbeat_and_hang_up(ocpp_url, registered_station.identity,
                                           lambda: station.filter(is_connected=True).exists()))

    eventually(lambda: not station.get().is_connected, timeout=5, what="the station to be shown offline")
