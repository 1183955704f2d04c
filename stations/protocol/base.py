"""What every OCPP version's connection handler shares: routing frames to handlers with the right CALLERRORs,
journaling every frame, and performing operator commands one at a time.

Version classes (v16.py, later v201.py) mix this into the `ocpp` library's ChargePoint for their version.
"""

import asyncio
import logging
import time
import uuid

from ocpp.messages import Call, CallError, CallResult, MessageType
from ocpp.routing import create_route_map

from stations import commands as command_services
from stations.protocol.db import run_db
from stations.protocol.frames import FrameError, parse_frame, plain_json, result_frame, validate_payload
from stations.protocol.journal import journal, journal_row
from stations.protocol.writer import group_writer
from stations.services import batch_reports as batch
from stations.services import station_reports as reports
from stations.services.batch_reports import WriteItem
from stations.services.station_reports import SessionRef

logger = logging.getLogger(__name__)

LAST_SEEN_EVERY_S = 30  # write last_seen_at at most this often per connection; heartbeats always write
CACHED_SESSIONS = 16  # per connection: a station has a few connectors, so a few sessions matter at a time


class StationCallError(Exception):
    """The station answered an outbound call with a CALLERROR."""

    def __init__(self, code: str, description: str):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class StationSession:
    version: str
    subprotocol: str
    # The library's per-connection attributes, shared where they can be: its __init__ (not called) builds a
    # route map of bound methods for every connection, and a lock and a queue that most connections never use;
    # at 10,000 idle stations that is several KB each.
    logger = logging.getLogger("ocpp")
    _unique_id_generator = staticmethod(uuid.uuid4)
    _lock: asyncio.Lock | None = None
    _queue: asyncio.Queue | None = None
    _commands: asyncio.Lock | None = None
    _list_checked = False  # whether this connection's station was checked for local-list corrections

    def __init__(self, identity: str, connection, *, station_id: int, response_timeout: float):
        self.id = identity
        self._connection = connection
        self._response_timeout = response_timeout
        self.station_id = station_id
        self.current_unique_id = "-1"
        self.registration_status = None
        self._last_seen = 0.0
        self._staged: list | None = None  # what the call being answered reports, for the group writer
        self._seen_now = False
        self._calling: tuple[str, str] | None = None  # (unique id, action) of our call in flight
        # Created on first use: most connections are idle most of the time.
        self._connectors: dict[int, tuple[int, int]] | None = None
        self._sessions: dict[str, SessionRef] | None = None

    @classmethod
    def routes(cls) -> dict:
        """Action -> {"_on_action": handler function, ...}, built once per class (the library's route map)."""
        routes = cls.__dict__.get("_routes")
        if routes is None:
            routes = create_route_map(cls)
            cls._routes = routes
        return routes

    @property
    def _call_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    @property
    def _command_order(self) -> asyncio.Lock:
        """Operator commands go out in the order they arrived (asyncio locks are fair). Without it, two commands
        race through the database threads that mark them sent, and the later one can reach the station first."""
        if self._commands is None:
            self._commands = asyncio.Lock()
        return self._commands

    @property
    def _response_queue(self) -> asyncio.Queue:
        if self._queue is None:
            self._queue = asyncio.Queue()
        return self._queue

    # --- inbound ------------------------------------------------------------------------------------
    async def route_message(self, raw: str) -> None:
        """Answer one frame. Nothing here raises: every failure becomes a CALLERROR or a log line."""
        try:
            message = parse_frame(raw)
        except FrameError as error:
            unique_id = "" if error.unique_id == "-1" else error.unique_id
            if error.message_type in (MessageType.CallResult, MessageType.CallError):
                # An answer we cannot read. OCPP-J 1.6 answers only CALLs with a CALLERROR (2.0.1 added
                # CALLRESULTERROR for this), so the station is sent nothing; our call it answers fails now with
                # what was wrong, instead of timing out.
                logger.warning("Station %s sent an answer that could not be read (%s): %.500r", self.id,
                               error.description, raw)
                self._answer_received(raw, error.message_type, unique_id, CallError(
                    error.unique_id, error.code(self.version),
                    f"The station's answer could not be read: {error.description}", {}))
                return
            await self._commit_and_send(WriteItem(self.station_id, [
                journal_row(self.station_id, "in", raw, None, unique_id),
            ]), error.as_call_error(self.version).to_json(), 4, error.unique_id, "")
            return
        if isinstance(message, Call):
            row_in = journal_row(self.station_id, "in", raw, 2, message.unique_id, message.action)
            self._staged = []
            answer, answered = await self._answer(message)
            item = WriteItem(self.station_id, [row_in], self._staged if answered else [], self._is_seen())
            self._staged = None
            if answered and not item.reports and not item.seen:
                # Nothing for the batch but the frames: the handler committed what the call reports in its own
                # transaction (boot, authorisation, sessions, ...). The answer goes out now and the frames follow
                # in the next batch; waiting for that batch was a third of these calls' round trip under load
                # (benchmarks/README.md). Should the process die in between, the journal misses those two
                # frames; what the station reported is committed anyway. (A sign of life, a heartbeat's or the
                # first in LAST_SEEN_EVERY_S, is recorded before the answer, as a report is.)
                self._send_then_journal(item, answer, message.unique_id, message.action)
                await self._connection.send(answer)
            else:
                await self._commit_and_send(item, answer, 3 if answered else 4, message.unique_id,
                                            message.action)
            if not self._list_checked and answered:
                # After the station's first call on this connection (its BootNotification, or the first
                # heartbeat or status of a station that only reconnected), not at the handshake: a station
                # that has just booted does not take our calls before its boot is answered.
                self._list_checked = True
                await self._local_list_correct()
        else:
            self._answer_received(raw, message.message_type_id, message.unique_id, message)

    def _answer_received(self, raw: str, message_type: int, unique_id: str, answer: CallResult | CallError) -> None:
        """Journal an answer frame with the action of our call it answers, and hand it to that call (also one
        that timed out: the next call skips it). An answer to no call of ours is only journaled."""
        calling = self._calling
        ours = calling is not None and calling[0] == unique_id
        journal.record(self.station_id, "in", raw=raw, message_type=message_type, unique_id=unique_id,
                       action=calling[1] if ours else "")
        if ours:
            self._response_queue.put_nowait(answer)

    async def _local_list_correct(self) -> None:
        try:
            await run_db(reports.local_list_correct, charge_point_id=self.station_id)
        except Exception:  # nothing the station sent is at stake; the operator can still send the list
            logger.exception("Could not check the local list of station %s", self.id)

    async def _answer(self, call: Call) -> tuple[str, bool]:
        """The answer frame, and whether it is a CALLRESULT (whose reports are then to be written)."""
        self.current_unique_id = call.unique_id
        handlers = self.routes().get(call.action, {})
        try:
            if "_on_action" not in handlers:
                kind = "not_supported" if self.action_exists(call.action) else "not_implemented"
                raise FrameError(kind, f"{call.action} is not handled by this Central System.", call.unique_id)
            validate_payload(call, self.version)
            response = await handlers["_on_action"](self, **self.decode_request(call.payload))
            return result_frame(call.unique_id, self.encode_response(response)), True
        except FrameError as error:
            error.unique_id = call.unique_id
            return error.as_call_error(self.version).to_json(), False
        except Exception:
            logger.exception("Handler failed for station %s on frame %s", self.id, call.to_json())
            return self._internal_error(call.unique_id), False

    async def _commit_and_send(self, item: WriteItem, answer: str, message_type: int, unique_id: str,
                               action: str) -> None:
        """Send `answer` once the message's reports and both frames are committed: an answer means durable."""
        item.journal.append(journal_row(self.station_id, "out", answer, message_type, unique_id, action))
        try:
            await group_writer().write(item)
        except Exception:
            logger.exception("Could not write what station %s reported in message %s", self.id, unique_id)
            self.forget_lookups()  # the failure may come from a stale cached connector or session
            answer = self._internal_error(unique_id)
            await self._journal_only(item.journal[0], journal_row(self.station_id, "out", answer, 4, unique_id,
                                                                  action))
        await self._connection.send(answer)

    def _send_then_journal(self, item: WriteItem, answer: str, unique_id: str, action: str) -> None:
        """Queue the frames of an answered call that has nothing else for the batch; its answer does not wait."""
        item.journal.append(journal_row(self.station_id, "out", answer, 3, unique_id, action))
        group_writer().write_later(item)

    async def _journal_only(self, *rows: tuple) -> None:
        try:
            await group_writer().write(WriteItem(self.station_id, list(rows)))
        except Exception:  # the answer still goes out: a CALLERROR makes the station retry, nothing is lost
            logger.exception("Could not journal frames of station %s", self.id)

    def _internal_error(self, unique_id: str) -> str:
        return CallError(unique_id, "InternalError", "The Central System could not process this.", {}).to_json()

    def stage(self, report) -> None:
        """Hand a report of the call being answered to the group writer (committed before the answer)."""
        self._staged.append(report)

    def seen_now(self) -> None:
        self._seen_now = True

    def _is_seen(self) -> bool:
        now = time.monotonic()
        if self._seen_now or now - self._last_seen >= LAST_SEEN_EVERY_S:
            self._seen_now, self._last_seen = False, now
            return True
        return False

    async def send_journaled(self, frame: str, message_type: int | None, unique_id: str = "",
                             action: str = "") -> None:
        """Send a frame that answers no call of the station's (our calls, errors for unreadable frames)."""
        await self._journal_only(journal_row(self.station_id, "out", frame, message_type, unique_id, action))
        await self._connection.send(frame)

    # --- what this connection remembers ---------------------------------------------------------------
    async def connector_ref(self, number: int) -> tuple[int, int]:
        """(connector pk, EVSE pk) of the station's connector `number`, looked up once per connection."""
        if self._connectors is None:
            self._connectors = {}
        ref = self._connectors.get(number)
        if ref is None:
            ref = await run_db(batch.connector_ref, charge_point_id=self.station_id, connector_number=number)
            self._connectors[number] = ref
        return ref

    def cached_connector(self, number: int) -> tuple[int, int] | None:
        return self._connectors.get(number) if self._connectors else None

    async def session_ref(self, transaction_id: str | None, connector_pk: int | None) -> SessionRef | None:
        """The session a report belongs to: by transaction id, else the connector's active session."""
        cached = self._sessions or {}
        if transaction_id is not None:
            ref = cached.get(transaction_id)
        else:
            ref = next((s for s in cached.values() if s.active and s.connector_pk == connector_pk), None)
        if ref is None:
            ref = await run_db(batch.session_ref, charge_point_id=self.station_id, transaction_id=transaction_id,
                               connector_pk=connector_pk)
            if ref is not None:
                self._remember_session(ref)
        return ref

    def session_started(self, number: int, ref: SessionRef) -> None:
        if self._connectors is None:
            self._connectors = {}
        self._connectors[number] = ref.connector_pk, ref.evse_pk
        # Starting on a connector closes any session still open there (a lost StopTransaction).
        if self._sessions:
            for transaction_id, cached in list(self._sessions.items()):
                if cached.connector_pk == ref.connector_pk and transaction_id != ref.transaction_id:
                    del self._sessions[transaction_id]
        self._remember_session(ref)

    def session_stopped(self, transaction_id: str) -> None:
        if self._sessions:
            self._sessions.pop(transaction_id, None)

    def _remember_session(self, ref: SessionRef) -> None:
        if self._sessions is None or len(self._sessions) >= CACHED_SESSIONS:
            self._sessions = {}
        self._sessions[ref.transaction_id] = ref

    def forget_lookups(self) -> None:
        self._connectors = self._sessions = None

    # --- outbound -----------------------------------------------------------------------------------
    async def call_raw(self, action: str, payload: dict) -> dict:
        """Send one CALL and return the response payload; one call in flight per station (library lock)."""
        call = Call(str(uuid.uuid4()), action, payload)
        async with self._call_lock:
            self._calling = (call.unique_id, action)
            await self.send_journaled(call.to_json(), 2, call.unique_id, action)
            response = await self._get_specific_response(call.unique_id, self._response_timeout)
        if isinstance(response, CallError):
            raise StationCallError(response.error_code, response.error_description)
        assert isinstance(response, CallResult)
        response.action = action
        try:
            validate_payload(response, self.version)
        except FrameError as error:
            logger.warning("Station %s answered %s with an invalid payload: %s", self.id, action, error.description)
        return plain_json(response.payload)  # the command row stores it as JSON

    async def perform_command(self, command_id: int) -> None:
        """Carry out a queued operator command and record its outcome. Runs as its own task."""
        try:
            async with self._command_order:
                command = await run_db(command_services.command_mark_sent, command_id=command_id,
                                       channel_name=self._connection.channel_name)
                if command is None:
                    return  # already handled by another connection or cancelled
                response = await self.call_raw(command.action, command.payload)
        except TimeoutError:
            await run_db(command_services.command_record_result, command_id=command_id, outcome="timeout")
        except StationCallError as error:
            await run_db(command_services.command_record_result, command_id=command_id, outcome="failed",
                         error=str(error))
        except Exception as error:  # the connection went away mid-call, or a bug: record, never lose it
            logger.exception("Command %s to %s failed", command_id, self.id)
            await run_db(command_services.command_record_result, command_id=command_id, outcome="failed",
                         error=f"{error.__class__.__name__}: {error}")
        else:
            await run_db(command_services.command_record_result, command_id=command_id, outcome="answered",
                         response=response)
