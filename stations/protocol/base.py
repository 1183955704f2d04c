"""What every OCPP version's connection handler shares: routing frames to handlers with the right CALLERRORs,
journaling every frame, and performing operator commands one at a time.

Version classes (v16.py, later v201.py) mix this into the `ocpp` library's ChargePoint for their version.
"""

import logging
import time
import uuid

from ocpp.messages import Call, CallError, CallResult

from stations import commands as command_services
from stations.protocol.db import run_db
from stations.protocol.frames import FrameError, parse_frame, plain_json, validate_payload
from stations.protocol.journal import journal
from stations.services import station_reports as reports

logger = logging.getLogger(__name__)

LAST_SEEN_EVERY_S = 30  # write last_seen_at at most this often per connection; heartbeats always write


class StationCallError(Exception):
    """The station answered an outbound call with a CALLERROR."""

    def __init__(self, code: str, description: str):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class StationSession:
    version: str
    subprotocol: str

    def __init__(self, identity: str, connection, *, station_id: int, response_timeout: float):
        super().__init__(identity, connection, response_timeout=response_timeout)
        self.station_id = station_id
        self.current_unique_id = "-1"
        self.registration_status = None
        self._last_touch = 0.0

    # --- inbound ------------------------------------------------------------------------------------
    async def route_message(self, raw: str) -> None:
        """Answer one frame. Nothing here raises: every failure becomes a CALLERROR or a log line."""
        try:
            message = parse_frame(raw)
        except FrameError as error:
            journal.record(self.station_id, "in", raw=raw, unique_id=error.unique_id)
            await self._send(error.as_call_error(self.version).to_json())
            return
        journal.record(self.station_id, "in", message=message)
        if isinstance(message, Call):
            await self.touch()
            await self._send(await self._answer(message))
        else:
            self._response_queue.put_nowait(message)

    async def _answer(self, call: Call) -> str:
        self.current_unique_id = call.unique_id
        handlers = self.route_map.get(call.action, {})
        try:
            if "_on_action" not in handlers:
                kind = "not_supported" if self.action_exists(call.action) else "not_implemented"
                raise FrameError(kind, f"{call.action} is not handled by this Central System.", call.unique_id)
            validate_payload(call, self.version)
            response = await handlers["_on_action"](**self.decode_request(call.payload))
            return call.create_call_result(self.encode_response(response)).to_json()
        except FrameError as error:
            error.unique_id = call.unique_id
            return error.as_call_error(self.version).to_json()
        except Exception:
            logger.exception("Handler failed for station %s on frame %s", self.id, call.to_json())
            return CallError(call.unique_id, "InternalError", "The Central System could not process this.",
                             {}).to_json()

    async def touch(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_touch >= LAST_SEEN_EVERY_S:
            self._last_touch = now
            await run_db(reports.station_seen, charge_point_id=self.station_id)

    async def _send(self, message: str) -> None:
        journal.record(self.station_id, "out", raw=message)
        await self._connection.send(message)

    # --- outbound -----------------------------------------------------------------------------------
    async def call_raw(self, action: str, payload: dict) -> dict:
        """Send one CALL and return the response payload; one call in flight per station (library lock)."""
        call = Call(str(uuid.uuid4()), action, payload)
        async with self._call_lock:
            await self._send(call.to_json())
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
        command = await run_db(command_services.command_mark_sent, command_id=command_id,
                               channel_name=self._connection.channel_name)
        if command is None:
            return  # already handled by another connection or cancelled
        try:
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
