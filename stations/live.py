"""The live network board's websocket: staff browsers subscribe to the `dashboard` group and receive every
station status, connection and session event as JSON, published after commit by the station services."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from stations.events import DASHBOARD_GROUP

FORWARDED = ("station.status", "station.connection", "session.started", "session.stopped", "station.command")


class LiveBoardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(DASHBOARD_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(DASHBOARD_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        pass  # the board only listens

    async def forward(self, event):
        await self.send_json(event)

    # Channels maps an event type "station.status" to the method station_status.
    station_status = station_connection = session_started = session_stopped = station_command = forward

    async def session_reading(self, event):
        pass  # meter readings are for the session pages, not the network board
