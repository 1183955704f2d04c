"""Helpers for talking OCPP-J to the consumer in-process (WebsocketCommunicator)."""

import base64
import itertools
import json

from channels.testing import WebsocketCommunicator

from evbackoffice.asgi import application

_ids = itertools.count(1)
STATION_PASSWORD = "correct-station-password-16"


def basic_auth(user: str, password: str) -> tuple[bytes, bytes]:
    return b"authorization", b"Basic " + base64.b64encode(f"{user}:{password}".encode())


class Station:
    """A station's side of one websocket, speaking raw OCPP-J frames."""

    def __init__(self, identity: str, password: str | None = STATION_PASSWORD, subprotocols=("ocpp1.6",)):
        headers = [basic_auth(identity, password)] if password is not None else []
        self.comm = WebsocketCommunicator(application, f"/ocpp/{identity}", headers=headers,
                                          subprotocols=list(subprotocols))
        self.subprotocol = None

    async def connect(self) -> bool:
        connected, self.subprotocol = await self.comm.connect(timeout=5)
        return connected

    async def call(self, action: str, payload: dict) -> list:
        unique_id = f"t{next(_ids)}"
        await self.comm.send_to(text_data=json.dumps([2, unique_id, action, payload]))
        reply = json.loads(await self.comm.receive_from(timeout=5))
        assert reply[1] == unique_id, reply
        return reply

    async def send_raw(self, text: str) -> list:
        await self.comm.send_to(text_data=text)
        return json.loads(await self.comm.receive_from(timeout=5))

    async def receive_call(self) -> list:
        return json.loads(await self.comm.receive_from(timeout=5))

    async def answer(self, unique_id: str, payload: dict) -> None:
        await self.comm.send_to(text_data=json.dumps([3, unique_id, payload]))

    async def close(self) -> None:
        await self.comm.disconnect()
