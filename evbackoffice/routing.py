"""Websocket routes of the whole product: stations speak OCPP at /ocpp/<identity>."""

from django.urls import re_path

from stations.protocol.consumer import OcppConsumer

websocket_urlpatterns = [
    re_path(r"^ocpp/(?P<identity>[A-Za-z0-9._-]{1,48})/?$", OcppConsumer.as_asgi()),
]
