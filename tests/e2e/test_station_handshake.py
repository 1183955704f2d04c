"""The websocket handshake as a real station sees it through uvicorn: HTTP status codes and subprotocols."""

import base64

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.factories import ChargePointFactory

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
PASSWORD = "handshake-password-0123"


def auth(identity: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{identity}:{password}".encode()).decode()}


@pytest.fixture
def ws_base(live_asgi_server):
    ChargePointFactory(identity="CP-HS-1", password=PASSWORD)
    return live_asgi_server.replace("http://", "ws://")


async def test_wrong_password_is_refused_with_401_and_a_basic_challenge(ws_base):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ws_base}/ocpp/CP-HS-1", subprotocols=["ocpp1.6"],
                           additional_headers=auth("CP-HS-1", "not-the-password-at-all")):
            pass

    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["WWW-Authenticate"].startswith("Basic")


async def test_unknown_identity_is_refused_with_404(ws_base):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ws_base}/ocpp/NOBODY", subprotocols=["ocpp1.6"],
                           additional_headers=auth("NOBODY", PASSWORD)):
            pass

    assert refused.value.response.status_code == 404


async def test_right_password_gets_ocpp16_from_the_offered_list(ws_base):
    async with connect(f"{ws_base}/ocpp/CP-HS-1", subprotocols=["ocpp2.0.1", "ocpp1.6"],
                       additional_headers=auth("CP-HS-1", PASSWORD)) as socket:
        assert socket.subprotocol == "ocpp1.6"
        await socket.send('[2,"hb1","Heartbeat",{}]')
        assert '"currentTime"' in await socket.recv()


def silent_station_socket(port: int, identity: str, password: str):
    """A station whose TCP connection stays open but that never answers again (power cut, dead modem):
    a raw handshake, then nothing, not even websocket pongs."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(b"0123456789abcdef").decode()
    sock.sendall((
        f"GET /ocpp/{identity} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: {auth(identity, password)['Authorization']}\r\n\r\n"
    ).encode())
    assert b" 101 " in sock.recv(4096).split(b"\r\n")[0]
    return sock


@pytest.mark.django_db(transaction=True)
async def test_dead_connection_is_detected_by_ping_timeout_and_marked_offline():
    import asyncio

    from asgiref.sync import sync_to_async

    from stations.models import ChargePoint
    from tests.conftest import serve_asgi

    await sync_to_async(ChargePointFactory)(identity="CP-SILENT", password=PASSWORD)
    station = ChargePoint.objects.filter(identity="CP-SILENT")
    with serve_asgi(ws_ping_interval=0.3, ws_ping_timeout=0.3) as base:
        sock = silent_station_socket(int(base.rsplit(":", 1)[1]), "CP-SILENT", PASSWORD)
        for _ in range(50):
            if await station.filter(is_connected=True).aexists():
                break
            await asyncio.sleep(0.05)
        assert await station.filter(is_connected=True).aexists()

        for _ in range(100):  # no pong: uvicorn closes the socket and the consumer marks the station offline
            if await station.filter(is_connected=False).aexists():
                break
            await asyncio.sleep(0.05)
        assert await station.filter(is_connected=False, connection_channel="").aexists()
        sock.close()


async def test_idle_station_stays_connected_longer_than_the_redis_read_timeout(ws_base):
    """redis-py's default 5 s read timeout used to fire while the channel layer waited for messages,
    dropping quiet stations every few seconds (a station between heartbeats is quiet for minutes)."""
    import asyncio

    async with connect(f"{ws_base}/ocpp/CP-HS-1", subprotocols=["ocpp1.6"],
                       additional_headers=auth("CP-HS-1", PASSWORD)) as socket:
        await asyncio.sleep(7)
        await socket.send('[2,"hb2","Heartbeat",{}]')
        assert '"currentTime"' in await asyncio.wait_for(socket.recv(), 5)
