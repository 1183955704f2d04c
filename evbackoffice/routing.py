"""Websocket routes of the whole product.

Stations speak OCPP at /ocpp/<identity> and authenticate themselves (Basic auth in the consumer); they send
no browser Origin or session cookie. Browser pages connect under /ws/ with the staff session and an Origin
check, like any other page.
"""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path, re_path

from customers.portal.live import SessionLiveConsumer
from stations.live import LiveBoardConsumer
from stations.protocol.consumer import OcppConsumer

websocket_urlpatterns = [
    re_path(r"^ocpp/(?P<identity>[A-Za-z0-9._-]{1,48})/?$", OcppConsumer.as_asgi()),
    path("ws/live/", AllowedHostsOriginValidator(AuthMiddlewareStack(LiveBoardConsumer.as_asgi()))),
    path("ws/portal/sessions/<int:pk>/",
         AllowedHostsOriginValidator(AuthMiddlewareStack(SessionLiveConsumer.as_asgi()))),
]
