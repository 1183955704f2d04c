"""Group commit for the OCPP server: handlers hand over what a message must persist and await it; one writer
per event loop commits everything waiting in ONE transaction (stations.services.batch_reports) in a thread of
its own with a connection that stays open, then releases all the waiting handlers at once, so that a station is
answered only once what its message reported is durable, at the cost of one transaction per batch instead of
one per message.

Batches form by themselves under load: while one commits, the next fills, and goes as soon as the previous one
is done. An idle writer waits OCPP_WRITE_BATCH_WAIT_MS for more; OCPP_WRITE_BATCH_MAX bounds a batch's size.
One batch commits at a time, so two batches never wait for each other's row locks (two at a time, measured,
used more CPU per message and answered no faster: benchmarks/README.md). Events for live pages are sent after
the commit, from the event loop, without holding up the answers.
"""

import asyncio
import logging

from django.conf import settings

from stations.events import send_committed
from stations.protocol.db import run_in_writer_thread
from stations.services.batch_reports import WriteItem, batch_commit

logger = logging.getLogger(__name__)

LIVE_ROUND_S = 0.1  # live events: the least time between two rounds of sending (GroupWriter.publish)


class GroupWriter:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._queue: list[tuple[WriteItem, asyncio.Future | None]] = []
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task | None = None
        self._outbox: list = []  # committed live events not sent yet
        self._sender: asyncio.Task | None = None

    async def write(self, item: WriteItem) -> None:
        """Return once `item` is committed; raise the error that kept it from committing."""
        future = self.loop.create_future()
        self._enqueue(item, future)
        await future

    def write_later(self, item: WriteItem) -> None:
        """Queue `item` without waiting for it (frames that answer nothing: our calls' results)."""
        self._enqueue(item, None)

    async def flush(self) -> None:
        """Return once everything queued so far is committed (tests, shutdown)."""
        while self._queue or not self._idle.is_set():
            await self._idle.wait()
            await asyncio.sleep(0)

    def _enqueue(self, item: WriteItem, future: asyncio.Future | None) -> None:
        self._queue.append((item, future))
        self._idle.clear()
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run(), name="ocpp-group-writer")

    async def _run(self) -> None:
        wait_s = settings.OCPP_WRITE_BATCH_WAIT_MS / 1000
        formed = False
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not formed:
                # The writer was idle: let the handlers that are ready right now join this batch (and, if
                # configured, wait a bit longer). After a commit, what queued meanwhile goes at once.
                await asyncio.sleep(wait_s)
            limit = settings.OCPP_WRITE_BATCH_MAX
            batch, self._queue = self._queue[:limit], self._queue[limit:]
            if self._queue:
                self._wakeup.set()
            if batch:
                await self._commit(batch)
            formed = bool(self._queue)
            if not formed:
                self._idle.set()

    async def _commit(self, batch: list[tuple[WriteItem, asyncio.Future | None]]) -> None:
        try:
            publications, errors = await run_in_writer_thread(batch_commit, [item for item, _ in batch])
        except Exception as error:  # the pool itself failed (shutdown): nobody's write is durable
            publications, errors = [], dict.fromkeys(range(len(batch)), error)
        for index, (item, future) in enumerate(batch):
            error = errors.get(index)
            if error is not None and future is None:
                logger.error("Could not write %d journal frames of station %s: %s", len(item.journal),
                             item.station_id, error)
            if future is None or future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
        self.publish(publications)

    def publish(self, publications: list) -> None:
        """Send live events of committed writes from this loop, without holding up anyone's answer.

        One sender per loop sends them in the order they were committed; what is committed while it sends, and
        for LIVE_ROUND_S after, goes together in its next round, so that a busy server asks Redis which groups
        have listeners a few times a second rather than once per batch and per session start or stop (at 60
        rounds a second the asking cost 4 % of the server's CPU). The first event after a quiet spell goes at
        once; under load a live page sees an event at most LIVE_ROUND_S later."""
        if not publications:
            return
        self._outbox += publications
        if self._sender is None or self._sender.done():
            self._sender = self.loop.create_task(self._send_outbox(), name="ocpp-live-events")

    async def _send_outbox(self) -> None:
        while self._outbox:
            publications, self._outbox = self._outbox, []
            await send_committed(publications)
            await asyncio.sleep(LIVE_ROUND_S)


_writer: GroupWriter | None = None


def group_writer() -> GroupWriter:
    """The writer of the running event loop (tests run each in a loop of its own)."""
    global _writer
    loop = asyncio.get_running_loop()
    if _writer is None or _writer.loop is not loop:
        _writer = GroupWriter(loop)
    return _writer
