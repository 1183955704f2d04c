import pytest

from tests.stations.ocpp_helpers import Station


@pytest.mark.asyncio
async def test_cold_boot(station):
    cp = Station(station.identity)
    assert await cp.connect()
    assert cp.subprotocol == "ocpp1.6"
    reply = await cp.call("BootNotification", {"chargePointVendor": "Alfen", "chargePointModel": "Eve"})
    assert reply[2]["status"] == "Accepted"
    await cp.close()
