"""Helpers for talking OCPP-J 1.6 to the consumer in-process (WebsocketCommunicator), as a station would,
and for reading what the Central System stored, from async tests."""

import asyncio
import base64
import itertools
import json
from datetime import UTC, datetime

from channels.testing import WebsocketCommunicator

from evbackoffice.asgi import application
from stations.protocol.db import run_db
from stations.protocol.writer import group_writer

_ids = itertools.count(1)
STATION_PASSWORD = "correct-station-password-16"
TIMEOUT_S = 5


def basic_auth(user: str, password: str) -> tuple[bytes, bytes]:
    return b"authorization", b"Basic " + base64.b64encode(f"{user}:{password}".encode())


def iso(moment: datetime) -> str:
    """A station's timestamp: RFC 3339 UTC with milliseconds and Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def in_db(fn, /, *args, **kwargs):
    """Run ORM code from an async test in the OCPP database pool (closed by the ocpp_db fixture)."""
    return await run_db(fn, *args, **kwargs)


async def eventually(fn, /, *args, timeout: float = TIMEOUT_S, **kwargs):
    """Poll a sync database check until it returns something truthy; for outcomes recorded in the background."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await in_db(fn, *args, **kwargs)
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.02)


class Station:
    """A station's side of one websocket, speaking raw OCPP-J frames."""

    def __init__(self, identity: str, password: str | None = STATION_PASSWORD, subprotocols=("ocpp1.6",),
                 user: str | None = None):
        headers = [basic_auth(user or identity, password)] if password is not None else []
        self.comm = WebsocketCommunicator(application, f"/ocpp/{identity}", headers=headers,
                                          subprotocols=list(subprotocols))
        self.subprotocol = None
        self.close_code = None

    async def connect(self) -> bool:
        connected, detail = await self.comm.connect(timeout=TIMEOUT_S)
        if connected:
            self.subprotocol = detail
        else:
            self.close_code = detail
        return connected

    async def __aenter__(self) -> "Station":
        assert await self.connect(), f"connection refused ({self.close_code})"
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def call(self, action: str, payload: dict) -> list:
        """Send a CALL and return the reply frame (CALLRESULT or CALLERROR) with the same unique id."""
        unique_id = f"t{next(_ids)}"
        reply = await self.send_raw(json.dumps([2, unique_id, action, payload]))
        assert reply[1] == unique_id, reply
        return reply

    async def result(self, action: str, payload: dict) -> dict:
        """Send a CALL that must be answered with a CALLRESULT; return its payload."""
        reply = await self.call(action, payload)
        assert reply[0] == 3, reply
        return reply[2]

    async def send_raw(self, text: str) -> list:
        await self.comm.send_to(text_data=text)
        return json.loads(await self.comm.receive_from(timeout=TIMEOUT_S))

    async def send_bytes(self, data: bytes) -> list:
        await self.comm.send_to(bytes_data=data)
        return json.loads(await self.comm.receive_from(timeout=TIMEOUT_S))

    async def heartbeat_answered(self) -> bool:
        reply = await self.call("Heartbeat", {})
        return reply[0] == 3 and "currentTime" in reply[2]

    async def receive_call(self) -> list:
        """The next frame the Central System sends: a CALL [2, id, action, payload]."""
        frame = json.loads(await self.comm.receive_from(timeout=TIMEOUT_S))
        assert frame[0] == 2, frame
        return frame

    async def nothing_sent(self, wait_s: float = 0.3) -> bool:
        return await self.comm.receive_nothing(timeout=wait_s)

    async def answer(self, unique_id: str, payload: dict) -> None:
        await self.comm.send_to(text_data=json.dumps([3, unique_id, payload]))

    async def answer_error(self, unique_id: str, code: str = "InternalError", description: str = "") -> None:
        await self.comm.send_to(text_data=json.dumps([4, unique_id, code, description, {}]))

    async def closed_by_server(self) -> int:
        """Wait for the server to close this socket; return the close code."""
        message = await self.comm.receive_output(timeout=TIMEOUT_S)
        assert message["type"] == "websocket.close", message
        return message.get("code", 1000)

    async def close(self) -> None:
        await self.comm.disconnect(timeout=TIMEOUT_S)
        # Frames of calls answered before they were journaled (sessions, authorisations) are written by now,
        # so that what a test checks afterwards, and the test after it, do not race the group writer.
        await group_writer().flush()


# --- payloads a 1.6 station sends -------------------------------------------------------------------------
def boot(vendor: str = "Alfen", model: str = "Eve Double", **extra) -> dict:
    return {"chargePointVendor": vendor, "chargePointModel": model, **extra}


def status(connector: int, state: str = "Available", error: str = "NoError", at: datetime | None = None,
           **extra) -> dict:
    payload = {"connectorId": connector, "status": state, "errorCode": error, **extra}
    if at is not None:
        payload["timestamp"] = iso(at)
    return payload


def start(connector: int, id_tag: str, meter_start: int, at: datetime, **extra) -> dict:
    return {"connectorId": connector, "idTag": id_tag, "meterStart": meter_start, "timestamp": iso(at), **extra}


def stop(transaction_id: int, meter_stop: int, at: datetime, **extra) -> dict:
    return {"transactionId": transaction_id, "meterStop": meter_stop, "timestamp": iso(at), **extra}


def sampled(value, measurand: str | None = None, unit: str | None = None, **extra) -> dict:
    sample = {"value": str(value), **extra}
    if measurand:
        sample["measurand"] = measurand
    if unit:
        sample["unit"] = unit
    return sample


def meter_value(at: datetime, *samples: dict) -> dict:
    return {"timestamp": iso(at), "sampledValue": list(samples)}
