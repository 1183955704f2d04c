"""ASGI entry point: HTTP goes to Django, websockets to the Channels routes (OCPP, live pages), and the
server's lifespan (start and stop) to `lifespan` below."""

import gc
import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evbackoffice.settings")

# Django must be set up before anything imports models (the websocket routes do).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from evbackoffice.routing import websocket_urlpatterns  # noqa: E402
from stations.protocol.writer import group_writer  # noqa: E402


def settle_garbage_collector(gen0_threshold: int) -> None:
    """Keep CPython's full collections from stalling every station of the process.

    A full collection walks every tracked object with the GIL held, so for its duration no frame is read,
    answered or committed. Under OCPP load with Python's defaults they came every two seconds and took about
    100 ms each, and they were most of the p99 latency (benchmarks/README.md). What startup made (Django, the
    URL and schema tables, the libraries) lives as long as the process, so it is frozen out of collections;
    and with a larger youngest generation, the objects that live only while a batch commits (frames, answers,
    futures) are freed as young garbage instead of being promoted, which is what set off the full collections.
    Cycles are still collected, only less often."""
    if gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


async def lifespan(scope, receive, send) -> None:
    """The ASGI lifespan protocol (uvicorn runs it unless told `--lifespan off`): once the server starts, the
    collector is settled for serving (not at import, which tests and management commands also do); when it
    stops, after its connections have closed, the OCPP group writer commits what it still holds (journal frames
    of calls that were answered before they were journaled)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            settle_garbage_collector(settings.SERVER_GC_GEN0_THRESHOLD)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await group_writer().flush()
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
        "lifespan": lifespan,
    }
)
