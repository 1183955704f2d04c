"""A simulated OCPP 1.6J charging station: the `ocpp` library's ChargePoint on a `websockets` client.

This module is its connection: Basic auth, BootNotification until Accepted, a StatusNotification per
connector, heartbeats, reconnection and Reset. Charging is in sessions.py, the answers to the Central
System's operations in operations.py.

Timestamps are real UTC time, so the server orders history correctly; a Clock with a speed above 1 divides
every wait by that factor and the car charges as if the full time had passed (a demo shows motion in
seconds). Messages wait while the station is offline, as a station's queue would.
"""

import asyncio
import base64
import logging
import random
from collections import Counter
from collections.abc import Callable

from ocpp.exceptions import OCPPError
from ocpp.exceptions import ValidationError as OcppValidationError
from ocpp.v16 import ChargePoint, call
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from stations.simulator.charging import ConnectorSpec, SessionPlan
from stations.simulator.clock import Clock, iso
from stations.simulator.configuration import Configuration, default_keys
from stations.simulator.operations import CsmsOperations
from stations.simulator.sessions import Sessions
from stations.simulator.smart_charging import ChargingProfiles
from stations.simulator.state import ConnectorState, Reservation, Session
from stations.simulator.tokens import TokenPool

logger = logging.getLogger("stations.simulator")
frame_logger = logging.getLogger("stations.simulator.frames")  # the library logs every frame at INFO

SUBPROTOCOL = "ocpp1.6"
TRANSACTION_MESSAGES = {"StartTransaction", "StopTransaction", "MeterValues"}
REBOOT_S = 5  # station seconds from Reset to the new connection


class StationRefused(Exception):
    """The Central System refused the websocket (wrong password, unknown identity, no common subprotocol)."""


class ConnectionLost(Exception):
    """The websocket closed while a CALL waited for its answer."""


# What can go wrong while connecting and booting; a station keeps trying.
CONNECT_ERRORS = (StationRefused, OSError, InvalidHandshake, ConnectionClosed, ConnectionLost, TimeoutError, OCPPError)


class SimulatedStation(Sessions, CsmsOperations, ChargePoint):
    """One simulated station. Use `async with SimulatedStation(...)` (connect and boot, close on exit) and
    `charge()`, or `run()` for a station that lives on its own with drivers arriving from `tokens`."""

    def __init__(self, identity: str, url: str, password: str | None = None, *,
                 connectors: int | list[ConnectorSpec] = 2, clock: Clock | None = None,
                 tokens: TokenPool | None = None, vendor: str = "evbackoffice", model: str = "Simulated AC",
                 firmware_version: str = "1.0.0", serial_number: str | None = None, meter_type: str | None = None,
                 meter_interval_s: int = 60, heartbeat_interval_s: int = 300, rng: random.Random | None = None,
                 plans: Callable[[ConnectorSpec, random.Random], SessionPlan] = SessionPlan.random,
                 response_timeout: float = 30):
        super().__init__(identity, None, response_timeout=response_timeout, logger=frame_logger)
        self.url = f"{url.rstrip('/')}/{identity}"
        self.password = password
        self.clock = clock or Clock()
        self.tokens = tokens
        self.plans = plans  # what each arriving driver (or remote start) will do
        self.rng = rng or random.Random(identity)
        specs = [ConnectorSpec(n) for n in range(1, connectors + 1)] if isinstance(connectors, int) else connectors
        self.connectors = {s.connector_id: ConnectorState(s, float(self.rng.randrange(100_000, 5_000_000)))
                           for s in specs}
        self.vendor, self.model, self.firmware_version = vendor[:20], model[:20], firmware_version[:50]
        self.serial_number, self.meter_type = serial_number, meter_type
        self.config = Configuration(default_keys(
            connectors=len(specs), is_dc=any(s.is_dc for s in specs), heartbeat_interval_s=heartbeat_interval_s,
            meter_interval_s=meter_interval_s))
        self.profiles = ChargingProfiles()
        self.local_list: dict[str, dict] = {}
        self.local_list_version = 0
        self.auth_cache: dict[str, str] = {}
        self.station_reservation: Reservation | None = None  # ReserveNow on connector 0
        self.station_status = "Available"
        self.firmware_status, self.diagnostics_status = "Idle", "Idle"
        self.registration_status: str | None = None
        self.sessions: list[Session] = []  # finished, newest last
        self.stats: Counter = Counter()
        self._remote_claims: list[Session] = []
        self._tasks: set[asyncio.Task] = set()
        self._lost: asyncio.Future | None = None
        self._booted = asyncio.Event()
        self._heartbeat_task: asyncio.Task | None = None
        self._arrivals_task: asyncio.Task | None = None
        self._reboot_task: asyncio.Task | None = None
        self._closing = False

    async def __aenter__(self) -> "SimulatedStation":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def is_connected(self) -> bool:
        return self._lost is not None and not self._lost.done()

    # --- connection -----------------------------------------------------------------------------------
    async def connect(self) -> None:
        """Open the websocket, boot until Accepted, report every connector and start heartbeats."""
        self._connection = await self._open_socket()
        self._response_queue = asyncio.Queue()
        self._lost = asyncio.get_running_loop().create_future()
        self._spawn(self._read(self._connection, self._lost), "reader")
        try:
            await self._boot()
            await self._announce()
        except BaseException:
            await self._drop_connection()
            raise
        self._booted.set()
        self._heartbeat_task = self._spawn(self._heartbeat(), "heartbeat")
        logger.info("%s connected (%s %s, %s)", self.id, self.vendor, self.model,
                    ", ".join(c.spec.label for c in self.connectors.values()))

    async def _open_socket(self) -> ClientConnection:
        headers = {}
        if self.password is not None:
            credentials = base64.b64encode(f"{self.id}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {credentials}"
        try:
            connection = await websocket_connect(self.url, subprotocols=[SUBPROTOCOL], additional_headers=headers,
                                                 open_timeout=10, close_timeout=2)
        except InvalidStatus as error:
            raise StationRefused(f"HTTP {error.response.status_code}") from None
        if connection.subprotocol != SUBPROTOCOL:
            await connection.close()
            raise StationRefused("the server agreed on no OCPP 1.6 subprotocol")
        return connection

    async def _read(self, connection: ClientConnection, lost: asyncio.Future) -> None:
        try:
            async for frame in connection:
                self.logger.info("%s: receive %s", self.id, frame)
                await self.route_message(frame)
        except ConnectionClosed:
            pass
        finally:
            self._booted.clear()
            if self._heartbeat_task is not None:
                self._heartbeat_task.cancel()
            if not lost.done():
                lost.set_result(None)

    async def _get_specific_response(self, unique_id, timeout):
        """The library waits for an answer until its timeout; a closed connection ends the wait at once."""
        lost = self._lost
        if lost is None or lost.done():
            raise ConnectionLost(f"{self.id} is not connected")
        answer = asyncio.ensure_future(super()._get_specific_response(unique_id, timeout))
        try:
            await asyncio.wait({answer, lost}, return_when=asyncio.FIRST_COMPLETED)
            if answer.done():
                return answer.result()
            raise ConnectionLost(f"{self.id} lost its connection while waiting for an answer")
        finally:
            if not answer.done():
                answer.cancel()

    async def _drop_connection(self, *, wait_s: float = 5) -> None:
        """Close the websocket, but first let a CALL of ours that awaits its answer get it: hanging up on a
        server that is still answering is what a well-behaved station avoids."""
        self._booted.clear()
        quiet = False
        if self.is_connected:
            try:
                quiet = await asyncio.wait_for(self._call_lock.acquire(), wait_s)
            except TimeoutError:
                pass
        try:
            if self._heartbeat_task is not None:
                self._heartbeat_task.cancel()
            if self._connection is not None:
                await self._connection.close()
            if self._lost is not None:
                await asyncio.wait([self._lost], timeout=5)
        finally:
            if quiet:
                self._call_lock.release()

    def _boot_payload(self) -> call.BootNotification:
        return call.BootNotification(
            charge_point_vendor=self.vendor, charge_point_model=self.model, firmware_version=self.firmware_version,
            charge_point_serial_number=self.serial_number, meter_type=self.meter_type)

    async def _boot(self) -> None:
        while True:
            answer = await self.call(self._boot_payload(), suppress=False)
            self.registration_status = answer.status
            if answer.status == "Accepted":
                if answer.interval > 0:
                    self.config.set("HeartbeatInterval", answer.interval)
                return
            logger.info("%s: BootNotification answered %s; asking again in %s s", self.id, answer.status,
                        answer.interval or 60)
            await self.clock.sleep(answer.interval or 60)

    async def _announce(self) -> None:
        await self.send(self._status_payload(0, self.station_status), before_boot=True)
        for connector in self.connectors.values():
            await self.send(self._status_payload(connector.spec.connector_id, connector.status), before_boot=True)

    async def _heartbeat(self) -> None:
        while True:
            await self.clock.sleep(self.config.int("HeartbeatInterval") or 300)
            await self.send(call.Heartbeat())

    def restart_heartbeat(self) -> None:
        if self._heartbeat_task is not None and self.is_connected:
            self._heartbeat_task.cancel()
            self._heartbeat_task = self._spawn(self._heartbeat(), "heartbeat")

    async def close(self, *, stop_sessions: bool = True, grace_s: float = 10) -> None:
        """Stop running sessions (reason Other) while still connected, then disconnect."""
        if self._closing:
            return
        self._closing = True
        if self._arrivals_task is not None:
            self._arrivals_task.cancel()
        if stop_sessions and self.is_connected:
            await self.end_sessions("Other", timeout_s=grace_s)
        await self._drop_connection()
        pending = [task for task in self._tasks if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def run(self, *, duration_s: float | None = None, sessions: bool = True, start_delay_s: float = 0) -> None:
        """Live on its own: stay connected (reconnecting with backoff) and let drivers arrive, until
        `duration_s` real seconds have passed or the task is cancelled; then stop cleanly."""
        try:
            async with asyncio.timeout(duration_s) as deadline:
                await asyncio.sleep(start_delay_s)
                if sessions and self.tokens is not None:
                    self._arrivals_task = self._spawn(self._arrivals(), "arrivals")
                await self._stay_connected()
        except TimeoutError:
            if not deadline.expired():
                raise
        finally:
            await self.close()

    async def _stay_connected(self) -> None:
        backoff_s = 1.0
        while not self._closing:
            if not self.is_connected:
                try:
                    await self.connect()
                    backoff_s = 1.0
                except CONNECT_ERRORS as error:
                    logger.warning("%s cannot connect (%s); retrying in %.0f s", self.id,
                                   error or error.__class__.__name__, backoff_s)
                    await asyncio.sleep(backoff_s)
                    backoff_s = min(backoff_s * 2, 60)
                    continue
            await asyncio.shield(self._lost)
            if self._reboot_task is not None and not self._reboot_task.done():
                await asyncio.wait([self._reboot_task])
            elif not self._closing:
                logger.warning("%s lost its connection; reconnecting", self.id)

    def _spawn(self, coro, name: str) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.id} {name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: %s failed", self.id, task.get_name(), exc_info=task.exception())

    # --- messages to the Central System ---------------------------------------------------------------
    async def send(self, payload, *, before_boot: bool = False, unique_id: str | None = None):
        """Send one CALL and return the answer, or None when the Central System answered with a CALLERROR or
        the message was given up. Messages wait while the station is offline (a station's queue, with the
        original timestamps); a transaction message whose connection dropped before the answer is sent
        again, up to TransactionMessageAttempts times."""
        action = type(payload).__name__
        attempts = max(self.config.int("TransactionMessageAttempts"), 1) if action in TRANSACTION_MESSAGES else 1
        for attempt in range(1, attempts + 1):
            if not before_boot:
                await self._booted.wait()
            try:
                return await self.call(payload, suppress=False, unique_id=unique_id)
            except (OCPPError, OcppValidationError) as error:
                logger.warning("%s: %s was answered with an error: %s", self.id, action, error)
                return None
            except (ConnectionLost, ConnectionClosed, TimeoutError) as error:
                if before_boot:
                    raise
                if attempt == attempts:
                    logger.warning("%s: gave up %s after %d attempts (%s)", self.id, action, attempts,
                                   error.__class__.__name__)
                    return None
                if isinstance(error, TimeoutError):
                    await self.clock.sleep(self.config.int("TransactionMessageRetryInterval"))
        return None

    def _status_payload(self, connector_id: int, status: str, error_code: str = "NoError") -> call.StatusNotification:
        return call.StatusNotification(connector_id=connector_id, error_code=error_code, status=status,
                                       timestamp=iso(self.clock.now()))

    async def notify_status(self, connector_id: int, status: str, error_code: str = "NoError") -> None:
        if connector_id == 0:
            self.station_status = status
        else:
            self.connectors[connector_id].status = status
        await self.send(self._status_payload(connector_id, status, error_code))

    async def reboot(self, kind: str) -> None:
        """Reset: stop sessions, close the connection, come back after a while and boot again."""
        logger.info("%s: %s reset", self.id, kind.lower())
        await self.end_sessions("HardReset" if kind == "Hard" else "SoftReset")
        await self._drop_connection()
        await self.clock.sleep(REBOOT_S)
        if self._closing:
            return
        try:
            await self.connect()
        except CONNECT_ERRORS as error:  # run() keeps trying; a station driven by hand stays offline
            logger.warning("%s could not reconnect after the reset (%s)", self.id, error or error.__class__.__name__)
