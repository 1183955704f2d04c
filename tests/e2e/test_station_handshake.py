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
