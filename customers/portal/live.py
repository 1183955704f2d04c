"""The live session page's websocket (ws/portal/sessions/<pk>/): a driver who can see the session (the portal's
visible_sessions rule) receives its meter readings with the cost so far, its connector's status, the outcome
of a stop request, its end, and then its final price. Nothing else of the customer's or the station's events
leaves the server: the consumer joins the groups and forwards only what concerns this one session.

Session events reach both groups (the customer's and the station's); the station's group adds the connector's
status and command outcomes. A session event that arrives twice is forwarded once.
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from customers.portal.access import visible_sessions
from stations.events import customer_group, station_group
from stations.models import ChargingSession

from .charging.sessions import (
    ended_json,
    live_figures,
    priced_json,
    reading_figures,
    session_with_relations,
    stop_command_is_for,
    stop_outcome_message,
)

logger = logging.getLogger(__name__)

#: The cost so far is priced at most this often per page (a station may send readings every few seconds).
COST_INTERVAL_S = 5.0
#: After the stop, how long to wait for the charge record before the page is left at "being priced".
PRICED_WAITS_S = (0.5, 1, 2, 4, 8, 15, 30)
CLOSE_FORBIDDEN = 4403


class SessionLiveConsumer(AsyncJsonWebsocketConsumer):
    session: ChargingSession | None = None
    groups_joined: tuple[str, ...] = ()

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        pk = self.scope["url_route"]["kwargs"]["pk"]
        self.session = await database_sync_to_async(self._visible_session)(user, pk)
        if self.session is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.groups_joined = (customer_group(self.session.customer_id),
                              station_group(self.session.charge_point.identity))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.last_cost_at = 0.0
        self.last_reading = None
        self.pricing_task = None
        await self.accept()
        await self.send_json(await self._snapshot())

    @staticmethod
    def _visible_session(user, pk) -> ChargingSession | None:
        return session_with_relations(visible_sessions(user), int(pk))

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        task = getattr(self, "pricing_task", None)
        if task is not None:
            task.cancel()

    async def receive_json(self, content, **kwargs):
        pass  # the page only listens

    async def dispatch(self, message):
        # The groups carry more kinds of events than this page shows (and may gain new ones): ignore those.
        if message["type"].startswith("websocket.") or hasattr(self, get_handler_name(message)):
            await super().dispatch(message)

    async def _snapshot(self) -> dict:
        if self.session.state == ChargingSession.State.ACTIVE:
            return await database_sync_to_async(live_figures)(self.session)
        return (await database_sync_to_async(priced_json)(self.session)
                or await database_sync_to_async(ended_json)(self.session))

    # --- events -------------------------------------------------------------------------------------------
    async def session_reading(self, event):
        if event.get("session_id") != self.session.pk or self.session.state != ChargingSession.State.ACTIVE:
            return
        key = (event.get("timestamp"), event.get("energy_wh"))
        if key == self.last_reading:
            return  # the same event through the station's group
        self.last_reading = key
        now = time.monotonic()
        with_cost = now - self.last_cost_at >= COST_INTERVAL_S
        if with_cost:
            self.last_cost_at = now
        await self.send_json(await database_sync_to_async(reading_figures)(self.session, event, with_cost=with_cost))

    async def station_status(self, event):
        if event.get("connector_pk") == self.session.connector_id:
            await self.send_json({"type": "status", "session_id": self.session.pk, "status": event.get("status"),
                                  "error_code": event.get("error_code", "")})

    async def station_connection(self, event):
        await self.send_json({"type": "connection", "session_id": self.session.pk,
                              "connected": bool(event.get("connected"))})

    async def station_command(self, event):
        if event.get("action") != "RemoteStopTransaction":
            return
        command = await database_sync_to_async(stop_command_is_for)(event["command_id"], self.session)
        if command is not None:
            level, message = stop_outcome_message(command)
            await self.send_json({"type": "stop", "session_id": self.session.pk, "state": command.state,
                                  "level": level, "message": message})

    async def session_stopped(self, event):
        if event.get("session_id") != self.session.pk or self.session.state != ChargingSession.State.ACTIVE:
            return  # another session, or this end again through the other group
        ended = await database_sync_to_async(ended_json)(self.session)
        self.session.state = ChargingSession.State.COMPLETED  # whatever was read: this end is handled once
        await self.send_json(ended)
        self.pricing_task = asyncio.create_task(self._send_price_when_rated())

    async def session_started(self, event):
        pass  # another session of the customer or the station

    async def _send_price_when_rated(self):
        """Rating runs after the stop commits (a task); tell the page the final price as soon as it exists."""
        for wait_s in PRICED_WAITS_S:
            await asyncio.sleep(wait_s)
            priced = await database_sync_to_async(priced_json)(self.session)
            if priced is not None:
                await self.send_json(priced)
                return
