"""The OCPP message journal: every frame in and out, with its type, unique id and action as known when it
was received or sent (frames are not parsed again to learn them).

Frames of a station's call and of our answer are written by the group writer in the same transaction as
what the call reported, before the answer is sent (stations.protocol.base); for calls that have nothing else
for it (their handler commits its own transaction, as sessions, boots and authorisations do), right after the
answer. Frames that answer nothing
(the station's results of our calls) go to the same writer without being waited for.
"""

from datetime import UTC, datetime

from stations.protocol.writer import group_writer
from stations.services.batch_reports import WriteItem


def journal_row(station_id: int, direction: str, frame: str, message_type: int | None = None,
                unique_id: str = "", action: str = "") -> tuple:
    """A row in batch_reports.JOURNAL_COLUMNS order, stamped now. A raw NUL (never valid JSON, refused with
    FormationViolation) is kept as U+FFFD: PostgreSQL's text cannot store it, and the frame must not be lost."""
    if "\x00" in frame:
        frame = frame.replace("\x00", "\ufffd")
    return (station_id, direction, message_type, unique_id[:36], action[:48], frame, datetime.now(UTC))


class Journal:
    def record(self, station_id: int, direction: str, *, raw: str, message_type: int | None = None,
               unique_id: str = "", action: str = "") -> None:
        """Queue one frame for the journal without waiting for it to be written."""
        row = journal_row(station_id, direction, raw, message_type, unique_id, action)
        group_writer().write_later(WriteItem(station_id, journal=[row]))

    async def flush(self) -> None:
        """Return once every frame recorded so far is written."""
        await group_writer().flush()


journal = Journal()
