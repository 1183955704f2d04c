"""The OCPP message journal: every frame in and out, written in batches off the receive path.

Recording a frame only appends to an in-memory buffer; a background task flushes the buffer with one
bulk insert every FLUSH_EVERY_S (or sooner when it fills), so the journal costs one database round trip per
batch rather than per frame. Frames are parsed for their type, id and action in the flush thread. If a
process dies, at most the last FLUSH_EVERY_S of journal is lost: the journal is a diagnostic record, and
everything with business meaning (sessions, meter values, statuses) is written by the handlers themselves.
"""

import asyncio
import json
import logging
from datetime import UTC, datetime

from stations.protocol.db import run_db

logger = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.5
FLUSH_AT_SIZE = 500


class Journal:
    def __init__(self) -> None:
        self._buffer: list[tuple] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        # Calls seen per (station, unique id), so results and errors can be journaled with their action.
        self._open_calls: dict[tuple[int, str], str] = {}

    def record(self, station_id: int, direction: str, *, raw: str | None = None, message=None,
               unique_id: str | None = None) -> None:
        frame = raw if raw is not None else message.to_json()
        self._buffer.append((station_id, direction, frame, datetime.now(UTC)))
        self._ensure_flusher()
        if len(self._buffer) >= FLUSH_AT_SIZE and self._wakeup is not None:
            self._wakeup.set()

    def _ensure_flusher(self) -> None:
        if self._task is None or self._task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # not in an event loop (a management command): flush() writes synchronously
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._run(), name="ocpp-journal-flusher")

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), FLUSH_EVERY_S)
            except TimeoutError:
                pass
            self._wakeup.clear()
            await self.flush()

    async def flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if batch:
            try:
                await run_db(self._write, batch)
            except Exception:
                logger.exception("Could not write %d journal entries", len(batch))

    def _write(self, batch: list[tuple]) -> None:
        from stations.models import ChargePoint, OcppMessage

        # A station deleted meanwhile (e.g. a refused onboarding) would fail the whole batch on its foreign key.
        live = set(ChargePoint.objects.filter(pk__in={entry[0] for entry in batch}).values_list("pk", flat=True))
        rows = []
        for station_id, direction, frame, at in batch:
            message_type, unique_id, action = self._describe(station_id, frame)
            if station_id not in live:
                continue
            rows.append(OcppMessage(
                charge_point_id=station_id, direction=direction, message_type=message_type,
                unique_id=unique_id[:36], action=action[:48], frame=frame, created_at=at,
            ))
        OcppMessage.objects.bulk_create(rows)

    def _describe(self, station_id: int, frame: str) -> tuple[int | None, str, str]:
        try:
            parsed = json.loads(frame)
            message_type, unique_id = int(parsed[0]), str(parsed[1])
        except (ValueError, TypeError, IndexError, KeyError):
            return None, "", ""
        key = (station_id, unique_id)
        if message_type == 2 and len(parsed) > 2:
            action = str(parsed[2])
            self._open_calls[key] = action
            if len(self._open_calls) > 100_000:  # answers that never came must not grow this for ever
                self._open_calls.clear()
            return message_type, unique_id, action
        return message_type, unique_id, self._open_calls.pop(key, "")


journal = Journal()
