"""Staff browsers' websocket for live pages. Without parameters it joins the `dashboard` group (the live board
and the operator dashboard: station status, connection, session and command events); with
`?station=<identity>` it joins that station's group instead (the station view), which also carries the
session's meter readings. Staff with the view permission on stations only, whose staff session is valid (second
factor verified, not expired: staff.sockets), like any staff page."""

import re
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from staff.sockets import staff_socket_allowed
from stations.events import DASHBOARD_GROUP, station_group
from stations.models.network import IDENTITY_RE

FORWARDED = ("station.status", "station.connection", "session.started", "session.stopped", "station.command")
VIEW_PERMISSION = "stations.view_chargepoint"


@database_sync_to_async
def _may_watch(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_staff and user.has_perm(VIEW_PERMISSION))


class LiveBoardConsumer(AsyncJsonWebsocketConsumer):
    group = None

    async def connect(self):
        identity = parse_qs(self.scope.get("query_string", b"").decode()).get("station", [""])[0]
        if identity and not re.fullmatch(IDENTITY_RE, identity):
            await self.close(code=4400)
            return
        if not await staff_socket_allowed(self.scope) or not await _may_watch(self.scope.get("user")):
            await self.close(code=4403)
            return
        self.group = station_group(identity) if identity else DASHBOARD_GROUP
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        pass  # live pages only listen

    async def forward(self, event):
        await self.send_json(event)

    # Channels maps an event type "station.status" to the method station_status.
    station_status = station_connection = session_started = session_stopped = station_command = forward

    async def session_reading(self, event):
        # Meter readings are published to station groups only; the station view shows them.
        if self.group != DASHBOARD_GROUP:
            await self.send_json(event)
