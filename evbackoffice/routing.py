"""Websocket routes of the whole product; each app contributes its own list."""

websocket_urlpatterns: list = []
