"""The OCPP websocket endpoint `/ocpp/<identity>`: authentication, subprotocol negotiation, frames in and
out, and delivery of operator commands from the channel layer. Everything else is in the version handlers.
"""

import asyncio
import base64
import binascii
import contextlib
import logging

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from stations import commands as command_services
from stations.commands import connection_group
from stations.protocol.db import run_db
from stations.protocol.frames import FrameError
from stations.protocol.v16 import ChargePointV16
from stations.services import station_reports as reports

logger = logging.getLogger(__name__)

# Subprotocols we speak, in our order of preference (OCPP-J: the server picks from the client's list).
HANDLERS = {cls.subprotocol: cls for cls in (ChargePointV16,)}

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INTERNAL_ERROR = 1011
CLOSE_REPLACED = 4000  # application range: a newer connection of the same station took over


def basic_auth_credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, encoded = value.decode("latin-1").partition(" ")
            if scheme.lower() != "basic":
                return None
            try:
                user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return (user, password) if sep else None
    return None


class OcppConsumer(AsyncWebsocketConsumer):
    handler = None
    station_id = None
    command_tasks: set[asyncio.Task] = frozenset()  # a set of its own once a command runs (most never do)

    async def connect(self):
        self.identity = self.scope["url_route"]["kwargs"]["identity"]
        decision = await run_db(
            reports.station_authenticate, identity=self.identity,
            credentials=basic_auth_credentials(self.scope.get("headers", [])),
            accept_unknown=settings.OCPP_ACCEPT_UNKNOWN_STATIONS,
        )
        if not decision.allowed:
            logger.info("Refused station %r: %s", self.identity, decision.reason)
            await self.deny(401 if decision.reason == "credentials" else 404)
            return
        subprotocol = next((p for p in self.scope.get("subprotocols", []) if p in HANDLERS), None)
        if subprotocol is None:
            # OCPP-J: complete the handshake without a subprotocol, then close at once.
            await self.accept()
            await self.close(code=CLOSE_PROTOCOL_ERROR)
            return
        self.station_id = decision.station_id
        self.handler = HANDLERS[subprotocol](
            self.identity, self, station_id=decision.station_id,
            response_timeout=settings.OCPP_RESPONSE_TIMEOUT_S,
        )
        group = connection_group(self.identity)
        await self.channel_layer.group_send(group, {"type": "ocpp.replaced", "channel": self.channel_name})
        await self.channel_layer.group_add(group, self.channel_name)
        await run_db(
            reports.station_connected, charge_point_id=decision.station_id, channel_name=self.channel_name,
            ocpp_version=subprotocol,
        )
        # Accept last: once the station sees the handshake complete it is shown connected and commands reach it.
        await self.accept(subprotocol=subprotocol)

    async def deny(self, status: int) -> None:
        """Refuse the handshake with an HTTP status where the server supports it (401 asks for Basic auth)."""
        if "websocket.http.response" in self.scope.get("extensions", {}):
            headers = [(b"content-type", b"text/plain")]
            if status == 401:
                headers.append((b"www-authenticate", b'Basic realm="OCPP", charset="UTF-8"'))
            await self.base_send({"type": "websocket.http.response.start", "status": status, "headers": headers})
            await self.base_send({"type": "websocket.http.response.body", "body": b"Connection refused."})
        else:
            await self.close()  # servers without the extension answer 403

    async def __call__(self, scope, receive, send):
        """Read the websocket in this coroutine and the channel layer in one task of its own.

        Channels' loop (`await_many_dispatch`) starts a new task and an `asyncio.wait` over both sources for
        every frame, a large share of the server's CPU per message. Here a frame costs one `receive()`. Both
        sources dispatch under one lock, so a command or a replacement is handled between two frames, never
        while a frame is being answered (as in Channels' loop, which dispatches one message at a time).
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.base_send = send
        self.dispatching = asyncio.Lock()
        layer_messages = asyncio.create_task(self.receive_channel_layer())
        try:
            while True:
                message = await receive()
                async with self.dispatching:
                    await self.dispatch(message)
        except StopConsumer:
            pass
        finally:
            layer_messages.cancel()
            await asyncio.gather(layer_messages, return_exceptions=True)  # lets the layer drop its buffer

    async def receive_channel_layer(self) -> None:
        """Dispatch what the channel layer delivers to this connection until the consumer ends. If the layer
        fails (e.g. Redis went away), the station is disconnected, so that it reconnects to a working server
        and the usual disconnect bookkeeping runs, rather than staying connected without commands."""
        try:
            while True:
                message = await self.channel_layer.receive(self.channel_name)
                async with self.dispatching:
                    await self.dispatch(message)
        except Exception:
            logger.exception("Channel-layer messages for %s failed; closing the connection", self.scope["path"])
            # OSError, RuntimeError: the socket is already closed or closing, and its disconnect is on its way.
            async with self.dispatching:
                with contextlib.suppress(OSError, RuntimeError):
                    await self.close(code=CLOSE_INTERNAL_ERROR)

    async def dispatch(self, message):
        # Channels closes stale Django connections before every message, a hop through its shared sync thread
        # per frame; our handlers use their own pool (stations.protocol.db), which manages its connections.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None):
        if self.handler is None:
            return  # no OCPP version was agreed and the socket is closing: frames still in flight are dropped
        if text_data is None or len(text_data) > settings.OCPP_MAX_FRAME_CHARS:
            reason = "Binary frames are not OCPP-J." if text_data is None else "Frame is too large."
            error = FrameError("formation", reason).as_call_error(self.handler.version)
            await self.handler.send_journaled(error.to_json(), 4, error.unique_id)
            return
        await self.handler.route_message(text_data)

    # The library's ChargePoint talks to its "connection" through send(); ours is this consumer.
    async def send(self, text_data=None, bytes_data=None, close=False):
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except OSError:
            # The station hung up while we answered (uvicorn: ClientDisconnected). The server still delivers
            # websocket.disconnect, and disconnect() then marks the station offline; raising here would kill
            # the consumer before that.
            logger.info("Station %s went away before our frame could be sent", self.identity)

    async def disconnect(self, code):
        if self.handler is None:
            return
        await self.channel_layer.group_discard(connection_group(self.identity), self.channel_name)
        for task in list(self.command_tasks):
            task.cancel()
        await run_db(reports.station_disconnected, charge_point_id=self.station_id, channel_name=self.channel_name)
        await run_db(command_services.commands_abandon, charge_point_id=self.station_id,
                     channel_name=self.channel_name)

    # --- messages from the channel layer ------------------------------------------------------------
    async def ocpp_replaced(self, event):
        if event["channel"] != self.channel_name:
            logger.info("Station %s reconnected; closing the older connection", self.identity)
            await self.close(code=CLOSE_REPLACED)

    async def ocpp_command(self, event):
        # Never awaited here: the station's answer arrives through receive(), which must stay free.
        self.start_command(event["command_id"])

    def start_command(self, command_id: int) -> None:
        task = asyncio.create_task(self.handler.perform_command(command_id))
        if not isinstance(self.command_tasks, set):
            self.command_tasks = set()
        self.command_tasks.add(task)
        task.add_done_callback(self.command_tasks.discard)
