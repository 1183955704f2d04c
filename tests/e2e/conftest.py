"""Fixtures for end-to-end OCPP tests: stations and cards in the committed test database, simulated stations
(stations.simulator) on real websockets, and real uvicorn server processes for the cross-process test.

Tests stay synchronous: each simulated station runs its event loop in a thread of its own, so the test body
can read the database with the ORM while the station talks to the server.
"""

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection

from stations.commands import command_request
from stations.simulator import SessionPlan, SimulatedStation, Vehicle
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory, IdTokenFactory
from tests.needs import missing

STATION_PASSWORD = "e2e-station-password"
BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def ocpp_url(live_asgi_server) -> str:
    """The in-thread server's OCPP endpoint (the identity is appended).

    pytest-django's SQLite test database lives in memory with a shared cache, where a write that meets
    another connection's lock fails at once ("database table is locked") instead of waiting as it does on a
    database file; so the test's polling reads take no table locks (read_uncommitted) and its writes are
    retried (request_command)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")
    return live_asgi_server.replace("http://", "ws://", 1) + "/ocpp/"


def request_command(*, service=command_request, **request):
    """stations.commands.command_request (or `service`) from the test's thread; on the in-memory SQLite test
    database a write can meet one of the server's and fail at once, so it is tried again."""
    for attempt in range(40):
        try:
            return service(**request)
        except OperationalError as error:
            if "locked" not in str(error) or attempt == 39:
                raise
            time.sleep(0.05)


@pytest.fixture
def registered_station(transactional_db):
    """An Accepted station with two 22 kW AC connectors; a fresh identity per test, because runs that
    share one Redis share its channel-layer groups. Its network has a tariff (0.39 EUR/kWh excl. 19 % VAT),
    so a stopped session is priced as it is in any configured network."""
    TariffAssignmentFactory(tariff=TariffFactory(), valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    charge_point = ChargePointFactory(identity=f"E2E-{uuid.uuid4().hex[:10]}", password=STATION_PASSWORD)
    for n in (1, 2):
        ConnectorFactory(evse=EvseFactory(charge_point=charge_point, ocpp_evse_id=n), max_power_w=22_000)
    return charge_point


@pytest.fixture
def valid_tag(transactional_db) -> str:
    return IdTokenFactory().uid


def four_minutes_at_11_kw(spec=None, rng=None) -> SessionPlan:
    """A driver whose car draws 11 kW and who stops the session (Local) after four minutes."""
    vehicle = Vehicle(battery_wh=60_000, soc=30.0, max_ac_w=11_000, max_dc_w=100_000, nominal_voltage_v=400)
    return SessionPlan(vehicle, dwell_s=240, stop_reason="Local", unplug_s=0)


def parked_for_hours(spec=None, rng=None) -> SessionPlan:
    """A driver who leaves the car plugged in far longer than any test runs (so only a command ends it)."""
    vehicle = Vehicle(battery_wh=80_000, soc=20.0, max_ac_w=11_000, max_dc_w=100_000, nominal_voltage_v=400)
    return SessionPlan(vehicle, dwell_s=8 * 3600, stop_reason="EVDisconnected", unplug_s=0)


class StationThread:
    """A SimulatedStation on an event loop in a thread of its own; connected on enter, closed on exit."""

    def __init__(self, station: SimulatedStation):
        self.station = station
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name=f"station {station.id}")

    def __enter__(self) -> "StationThread":
        self.thread.start()
        try:
            self.run(self.station.connect())
        except BaseException:
            self._stop_loop()
            raise
        return self

    def run(self, coro, timeout: float = 15):
        """Run a coroutine on the station's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc) -> None:
        try:
            self.run(self.station.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def station_thread():
    return StationThread


def wait_until(check, *, timeout: float = 10, what: str = "the condition"):
    """Poll `check` (it may use the ORM: this runs in the test's thread) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.05)


@pytest.fixture
def eventually():
    return wait_until


# --- real server processes -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(db: dict) -> str:
    """A DATABASE_URL for the database this test process uses (pytest-django's test database)."""
    credentials = urllib.parse.quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + urllib.parse.quote(db["PASSWORD"], safe="")
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{credentials}@{host}/{urllib.parse.quote(db['NAME'], safe='')}"


class ServerProcess:
    """`python -m uvicorn evbackoffice.asgi:application` in a process of its own, logging to a file."""

    def __init__(self, name: str, env: dict, log_dir: Path):
        self.name, self.port = name, free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"server-{name}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "evbackoffice.asgi:application", "--host", "127.0.0.1",
                 "--port", str(self.port), "--lifespan", "on", "--log-level", "warning"],
                cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_ready(self, timeout: float = 30) -> None:
        """Until /healthz answers 200, which also proves the process reaches the test database."""
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Server {self.name} did not become ready:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def process_env(**extra: str) -> dict:
    """The environment of a server or worker process on this test's database and Redis; skips the test
    where that cannot be (SQLite's in-memory test database is private to this process)."""
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL (DATABASE_URL=postgres://...): other processes cannot share the "
                    "test process's SQLite test database")
    if not settings.REDIS_URL:
        missing("needs REDIS_URL: processes hand work to each other through Redis")
    return {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "evbackoffice.settings", "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture
def server_processes(transactional_db, tmp_path):
    """Two real uvicorn processes, A and B, on the test database and one Redis channel layer; yields their
    base URLs. Data the test writes is committed (transactional_db), so both processes see it."""
    env = process_env()
    servers = []
    try:
        servers = [ServerProcess(name, env, tmp_path) for name in ("A", "B")]
        for server in servers:
            server.wait_ready()
        yield [server.base_url for server in servers]
    finally:
        for server in servers:
            server.stop()
