"""OCPP 1.6J load benchmark: simulated stations over real websockets against ONE evbackoffice server
process pinned to one core, with PostgreSQL (and Redis as the channel layer), and the same load against a
bare `websockets` server (benchmarks/echo_server.py) as the ceiling. Then an idle-connections phase.

    python benchmarks/ocpp_load.py --stations 200 500 --duration 30 --idle 10000 \\
        --database-url postgres://postgres@127.0.0.1:5432/evbackoffice_bench

See benchmarks/README.md for what each figure means. Only 127.0.0.1 is ever contacted; every phase stops
by itself (load phases after --warmup + --duration seconds, the idle phase after --idle-hold seconds, each
with a hard time limit).
"""

import argparse
import array
import asyncio
import base64
import contextlib
import json
import math
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDENTITY = "BENCH-{:05d}"
STATION_PASSWORD = "bench-station-password-0001"  # 16-40 characters (security profile 1)
TOKEN_UID = "BE{:08X}"
ACTIONS = ["BootNotification", "Heartbeat", "StatusNotification", "Authorize", "StartTransaction",
           "MeterValues", "StopTransaction"]
A_BOOT, A_HEARTBEAT, A_STATUS, A_AUTHORIZE, A_START, A_METER, A_STOP = range(len(ACTIONS))
TOKENS_PER_CUSTOMER = 4


# =====================================================================================================
# Load generator (runs in its own process, pinned to the client core): no Django, pre-serialised frames.
# =====================================================================================================
class Clock:
    """The station's wall clock as an RFC 3339 string, refreshed every 100 ms instead of per frame."""

    now = ""

    @classmethod
    def tick(cls) -> None:
        cls.now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    @classmethod
    async def run(cls) -> None:
        while True:
            cls.tick()
            await asyncio.sleep(0.1)


# Frame templates, filled with % formatting. Compact JSON as stations send it.
F_BOOT = ('[2,"%s","BootNotification",{"chargePointVendor":"BenchVendor","chargePointModel":"LoadGen",'
          '"chargePointSerialNumber":"%s","firmwareVersion":"1.0.0","meterType":"SDM630"}]')
F_HEARTBEAT = '[2,"%s","Heartbeat",{}]'
F_STATUS = '[2,"%s","StatusNotification",{"connectorId":%d,"errorCode":"NoError","status":"%s","timestamp":"%s"}]'
F_AUTHORIZE = '[2,"%s","Authorize",{"idTag":"%s"}]'
F_START = ('[2,"%s","StartTransaction",{"connectorId":%d,"idTag":"%s","meterStart":%d,'
           '"timestamp":"%s"}]')
F_METER = ('[2,"%s","MeterValues",{"connectorId":%d,"transactionId":%d,"meterValue":[{"timestamp":"%s",'
           '"sampledValue":[%s]}]}]')
F_STOP = ('[2,"%s","StopTransaction",{"meterStop":%d,"timestamp":"%s","transactionId":%d,"reason":"Local",'
          '"idTag":"%s","transactionData":[{"timestamp":"%s","sampledValue":[{"value":"%d",'
          '"context":"Transaction.Begin","measurand":"Energy.Active.Import.Register","unit":"Wh"}]},'
          '{"timestamp":"%s","sampledValue":[{"value":"%d","context":"Transaction.End",'
          '"measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}]')
SV_ENERGY = ('{"value":"%d","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register",'
             '"location":"Outlet","unit":"Wh"}')
# The other sampled values a station sends (4-8 in all with the energy register), fixed per station.
SV_OTHERS = [
    '{"value":"11040","context":"Sample.Periodic","measurand":"Power.Active.Import","unit":"W"}',
    '{"value":"16.0","context":"Sample.Periodic","measurand":"Current.Import","phase":"L1","unit":"A"}',
    '{"value":"16.1","context":"Sample.Periodic","measurand":"Current.Import","phase":"L2","unit":"A"}',
    '{"value":"15.9","context":"Sample.Periodic","measurand":"Current.Import","phase":"L3","unit":"A"}',
    '{"value":"230.4","context":"Sample.Periodic","measurand":"Voltage","phase":"L1-N","unit":"V"}',
    '{"value":"231.0","context":"Sample.Periodic","measurand":"Voltage","phase":"L2-N","unit":"V"}',
    '{"value":"54","context":"Sample.Periodic","measurand":"SoC","location":"EV","unit":"Percent"}',
]
# One cycle per station: Authorize, Start, 14 MeterValues, 2 Heartbeats, 2 StatusNotifications, Stop.
# That is 21 calls: MeterValues 67%, Heartbeat 10%, StatusNotification 10%, Start/Stop/Authorize 5% each.
CYCLE = ([A_AUTHORIZE, A_START, A_STATUS] + [A_METER] * 7 + [A_HEARTBEAT] + [A_METER] * 7
         + [A_HEARTBEAT, A_STOP, A_STATUS])


def basic_auth_header(identity: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{identity}:{password}".encode()).decode()


class CallFailed(Exception):
    pass


@dataclass
class Stats:
    latencies_ms: array.array = field(default_factory=lambda: array.array("d"))
    actions: array.array = field(default_factory=lambda: array.array("b"))
    answered_s: array.array = field(default_factory=lambda: array.array("d"))  # when, in seconds into the window
    completed_in_window: int = 0
    sent_total: int = 0
    call_errors: dict = field(default_factory=dict)
    timeouts: int = 0
    disconnects: int = 0
    connect_failures: dict = field(default_factory=dict)
    error_samples: list = field(default_factory=list)


class SimStation:
    def __init__(self, number: int, config: dict, stats: Stats, rng: random.Random):
        self.number = number
        self.identity = IDENTITY.format(number)
        self.id_tag = TOKEN_UID.format(number)
        self.url = f"ws://{config['host']}:{config['port']}/ocpp/{self.identity}"
        self.config = config
        self.stats = stats
        self.rng = rng
        self.ws = None
        self.seq = 0
        self.energy_wh = rng.randrange(100_000, 5_000_000)
        self.transaction_id = 0
        self.meter_start = 0
        self.connector = 1
        others = rng.sample(SV_OTHERS, rng.randint(3, 7))  # 4-8 sampled values with the energy register
        self.sampled_tail = "".join("," + s for s in others)

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        headers = {"Authorization": basic_auth_header(self.identity, STATION_PASSWORD)}
        self.ws = await connect(self.url, subprotocols=["ocpp1.6"], additional_headers=headers,
                                compression=None, ping_interval=None, proxy=None,
                                open_timeout=self.config["open_timeout"], close_timeout=2,
                                user_agent_header=None)
        if self.ws.subprotocol != "ocpp1.6":
            raise CallFailed(f"subprotocol {self.ws.subprotocol!r}")

    def next_id(self) -> str:
        self.seq += 1
        return str(self.seq)

    async def call(self, frame: str, unique_id: str) -> str:
        """Send one CALL and wait for its answer (one call in flight); returns the raw answer frame."""
        ws = self.ws
        await ws.send(frame)
        needle = f',"{unique_id}",'
        async with asyncio.timeout(self.config["call_timeout"]):
            while True:
                answer = await ws.recv()
                if answer[1] == "2":  # the server called us (a command): answer it so it is not left waiting
                    incoming = json.loads(answer)
                    await ws.send(json.dumps([3, incoming[1], {}]))
                    continue
                if needle in answer[:60]:
                    return answer
                # a late answer to a call that timed out earlier: ignore it

    async def boot(self) -> None:
        for frame in (F_BOOT % (self.next_id(), f"SN{self.number:08d}"),
                      F_STATUS % (self.next_id(), 1, "Available", Clock.now),
                      F_STATUS % (self.next_id(), 2, "Available", Clock.now)):
            uid = frame.split('"', 2)[1]
            answer = await self.call(frame, uid)
            if answer[1] != "3":
                raise CallFailed(f"boot answered {answer[:200]}")

    def frame_for(self, action: int, uid: str) -> str:
        now = Clock.now
        if action == A_METER:
            self.energy_wh += self.rng.randrange(20, 120)
            sampled = (SV_ENERGY % self.energy_wh) + self.sampled_tail
            return F_METER % (uid, self.connector, self.transaction_id, now, sampled)
        if action == A_HEARTBEAT:
            return F_HEARTBEAT % uid
        if action == A_AUTHORIZE:
            return F_AUTHORIZE % (uid, self.id_tag)
        if action == A_START:
            self.connector = 3 - self.connector  # alternate between the station's two connectors
            self.meter_start = self.energy_wh
            self.start_time = now
            return F_START % (uid, self.connector, self.id_tag, self.energy_wh, now)
        if action == A_STATUS:
            status = "Charging" if self.transaction_id else "Available"
            return F_STATUS % (uid, self.connector, status, now)
        if action == A_STOP:
            self.energy_wh += self.rng.randrange(20, 120)
            tx, self.transaction_id = self.transaction_id, 0
            return F_STOP % (uid, self.energy_wh, now, tx, self.id_tag, self.start_time, self.meter_start, now,
                             self.energy_wh)
        raise ValueError(action)

    async def run(self, go_at: float, window_start: float, window_end: float) -> None:
        """Loop the message mix from go_at until window_end, recording what was sent in the window."""
        stats, perf = self.stats, time.perf_counter
        interval = self.config["interval_s"]  # 0: closed loop (next call as soon as the answer is in)
        # Stations start at different points of the cycle; one that starts inside a session first opens it.
        position = self.rng.randrange(len(CYCLE))
        pending = [A_AUTHORIZE, A_START] if 2 <= position <= len(CYCLE) - 2 else []
        next_send = go_at + (self.rng.random() * interval if interval else 0)
        await asyncio.sleep(max(0.0, next_send - time.time()))
        mono_offset = time.time() - perf()
        while True:
            now = perf()
            if now + mono_offset >= window_end:
                return
            if pending:
                action = pending.pop(0)
            else:
                action = CYCLE[position]
                position = (position + 1) % len(CYCLE)
            uid = self.next_id()
            frame = self.frame_for(action, uid)
            stats.sent_total += 1
            started = perf()
            try:
                answer = await self.call(frame, uid)
            except TimeoutError:
                stats.timeouts += 1
                self.record_error("Timeout", action, frame)
                answer = None
            except Exception as error:  # connection closed by the server
                stats.disconnects += 1
                self.record_error(f"Disconnected: {error.__class__.__name__}: {error}", action, frame)
                return
            done = perf()
            in_window = window_start <= started + mono_offset < window_end
            if answer is not None:
                if answer[1] == "4":
                    code = json.loads(answer)[2]
                    stats.call_errors[code] = stats.call_errors.get(code, 0) + 1
                    self.record_error(answer[:300], action, frame)
                elif action == A_START:
                    self.transaction_id = int(json.loads(answer)[2]["transactionId"])
                if in_window:
                    stats.latencies_ms.append((done - started) * 1000.0)
                    stats.actions.append(action)
                    stats.answered_s.append(done + mono_offset - window_start)
                if window_start <= done + mono_offset < window_end:
                    stats.completed_in_window += 1
            if action == A_STOP or (action == A_START and answer is None):
                self.transaction_id = 0
            if interval:
                next_send += interval
                now = perf() + mono_offset
                if next_send < now:
                    # Behind schedule: the message that fell due while waiting for the answer goes at once,
                    # slots missed entirely are skipped (no burst to catch up), and the station keeps its own
                    # slot grid, as a station's meter and heartbeat timers do.
                    next_send += (now - next_send) // interval * interval
                delay = next_send - now
                if delay > 0:
                    await asyncio.sleep(delay)

    def record_error(self, what: str, action: int, frame: str) -> None:
        if len(self.stats.error_samples) < 20:
            self.stats.error_samples.append({"station": self.identity, "action": ACTIONS[action],
                                             "error": what, "frame": frame[:300]})


async def connect_all(stations: list[SimStation], concurrency: int, boot: bool,
                      limit: float | None = None) -> tuple[list, float]:
    """Open (and boot) every station, `concurrency` handshakes at a time, giving up on those not connected
    within `limit` seconds; returns those that made it and the time taken."""
    gate = asyncio.Semaphore(concurrency)
    ok = []

    async def one(station: SimStation) -> None:
        async with gate:
            try:
                await station.connect()
                if boot:
                    await station.boot()
                ok.append(station)
            except Exception as error:
                reason = f"{error.__class__.__name__}: {str(error)[:120]}"
                station.stats.connect_failures[reason] = station.stats.connect_failures.get(reason, 0) + 1

    started = time.time()
    tasks = [asyncio.ensure_future(one(s)) for s in stations]
    _, pending = await asyncio.wait(tasks, timeout=limit)
    if pending:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        reason = f"not connected and booted within {limit:g}s"
        stations[0].stats.connect_failures[reason] = len(pending)
    return ok, time.time() - started


async def read_line(reader: asyncio.StreamReader | None = None) -> str:
    return (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def worker_main(config: dict) -> None:
    """One load-generator process: connect and boot its stations, report READY, wait for GO, run, report."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    Clock.tick()
    clock = asyncio.create_task(Clock.run())
    stats = Stats()
    rng = random.Random(config["seed"])
    stations = [SimStation(n, config, stats, random.Random(rng.random())) for n in config["numbers"]]
    ok, connect_s = await connect_all(stations, config["connect_concurrency"], boot=True,
                                      limit=config["connect_limit"])
    print("READY " + json.dumps({"connected": len(ok), "connect_s": connect_s,
                                 "connect_failures": stats.connect_failures}), flush=True)
    command = await read_line()
    result = {"connected": len(ok), "connect_s": connect_s, "connect_failures": stats.connect_failures}
    if command.startswith("GO "):
        go_at, window_start, window_end = (float(x) for x in command.split()[1:4])
        cpu_before = None

        async def cpu_mark():
            nonlocal cpu_before
            await asyncio.sleep(max(0.0, window_start - time.time()))
            cpu_before = cpu_seconds()

        marker = asyncio.create_task(cpu_mark())
        await asyncio.gather(*(s.run(go_at, window_start, window_end) for s in ok))
        await marker
        result.update(
            client_cpu_s=cpu_seconds() - (cpu_before or 0.0), sent_total=stats.sent_total,
            completed_in_window=stats.completed_in_window, call_errors=stats.call_errors,
            timeouts=stats.timeouts, disconnects=stats.disconnects, error_samples=stats.error_samples,
            latencies_ms=list(stats.latencies_ms), actions=list(stats.actions), answered_s=list(stats.answered_s),
        )
    elif command == "HOLD":  # idle phase: keep the connections open until told otherwise
        await read_line()
        result["still_open"] = sum(1 for s in ok if s.ws.state.name == "OPEN")
        print("COUNTED " + json.dumps({"still_open": result["still_open"]}), flush=True)
        await read_line()
    Path(config["result_path"]).write_text(json.dumps(result))
    clock.cancel()
    print("DONE", flush=True)
    os._exit(0)  # no orderly close of thousands of sockets: the phase is over


def run_worker(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    try:
        import uvloop
    except ImportError:
        asyncio.run(worker_main(config))
    else:
        uvloop.run(worker_main(config))


# =====================================================================================================
# Database preparation (in-process Django, the server's own settings).
# =====================================================================================================
def prepare_database(database_url: str, count: int, reset: bool) -> dict:
    """Migrate; create the bench location, `count` stations BENCH-00001... with two EVSEs (one Type 2
    socket each) and a Basic-auth password, and one RFID token per station for TOKENS_PER_CUSTOMER-token
    customers. Idempotent: a second run only adds what is missing."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "evbackoffice.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from customers.models import Customer, IdToken
    from stations.models import ChargePoint, Connector, Evse, Location

    started = time.time()
    call_command("migrate", verbosity=0, interactive=False)
    db_name = connection.settings_dict["NAME"]
    if reset and "bench" not in db_name:
        sys.exit(f"Refusing to empty tables of {db_name!r}: its name must contain 'bench' (or use --keep-data).")
    with transaction.atomic():
        location, _ = Location.objects.get_or_create(
            code="bench-site", defaults=dict(name="Benchmark car park", address="Benchstraße 1",
                                             postal_code="10115", city="Berlin", country="DE",
                                             latitude="52.530000", longitude="13.380000",
                                             time_zone="Europe/Berlin"))
        existing = set(ChargePoint.objects.filter(identity__startswith="BENCH-").values_list("identity", flat=True))
        template = ChargePoint(identity="BENCH-TEMPLATE")
        template.set_password(STATION_PASSWORD)  # one hash (20k PBKDF2 rounds), shared by all bench stations
        new = [ChargePoint(location=location, identity=IDENTITY.format(n), password_hash=template.password_hash,
                           security_profile=ChargePoint.SecurityProfile.BASIC,
                           registration_status=ChargePoint.RegistrationStatus.ACCEPTED)
               for n in range(1, count + 1) if IDENTITY.format(n) not in existing]
        ChargePoint.objects.bulk_create(new, batch_size=2000)
        stations = {cp.identity: cp.pk for cp in ChargePoint.objects.filter(identity__startswith="BENCH-")}
        have_evse = set(Evse.objects.filter(charge_point_id__in=stations.values()).values_list(
            "charge_point_id", "ocpp_evse_id"))
        evses = [Evse(charge_point_id=pk, ocpp_evse_id=e, evse_id=f"DE*EVB*EBENCH{n:05d}*{e}")
                 for n in range(1, count + 1) for e in (1, 2)
                 if (pk := stations[IDENTITY.format(n)]) and (pk, e) not in have_evse]
        Evse.objects.bulk_create(evses, batch_size=2000)
        Connector.objects.bulk_create(
            [Connector(evse=evse, ocpp_connector_id=1, standard=Connector.Standard.TYPE2,
                       format=Connector.Format.SOCKET, power_type=Connector.PowerType.AC_3_PHASE,
                       max_voltage_v=400, max_amperage_a=32, max_power_w=22_000)
             for evse in Evse.objects.filter(charge_point_id__in=stations.values(), connectors__isnull=True)],
            batch_size=2000)
        # One RFID token per station, TOKENS_PER_CUSTOMER tokens per customer.
        have_tokens = set(IdToken.objects.filter(uid__startswith="BE").values_list("uid", flat=True))
        customers = {c.name: c for c in Customer.objects.filter(name__startswith="Bench customer ")}
        tokens = []
        for n in range(1, count + 1):
            uid = TOKEN_UID.format(n)
            if uid in have_tokens:
                continue
            name = f"Bench customer {(n - 1) // TOKENS_PER_CUSTOMER + 1:05d}"
            if name not in customers:
                customers[name] = Customer.objects.create(
                    name=name, email=f"bench{n}@example.com", address_line1="Benchstraße 1",
                    postal_code="10115", city="Berlin", country="DE")
            tokens.append(IdToken(uid=uid, customer=customers[name], label=f"Bench card {n}"))
        IdToken.objects.bulk_create(tokens, batch_size=2000)
    summary = {"database": db_name, "stations": len(stations), "new_stations": len(new),
               "tokens": IdToken.objects.filter(uid__startswith="BE").count(),
               "customers": len(customers), "seconds": round(time.time() - started, 1)}
    connection.close()
    return summary


def reset_data(db_name: str) -> None:
    """Empty what a load phase writes (meter values, journal, sessions, status history, station events) and
    mark the bench stations offline, so each phase starts from the same table sizes. Bench databases only."""
    from django.db import connection

    from stations.models import (
        ChargePoint,
        ChargingSession,
        Connector,
        MeterValue,
        OcppMessage,
        StationCommand,
        StationEvent,
        StatusEvent,
    )

    assert "bench" in db_name
    tables = [m._meta.db_table for m in (MeterValue, OcppMessage, StatusEvent, StationEvent, StationCommand,
                                         ChargingSession)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    ChargePoint.objects.filter(identity__startswith="BENCH-").update(
        is_connected=False, connection_channel="", last_transaction_id=0)
    Connector.objects.filter(evse__charge_point__identity__startswith="BENCH-").update(
        status="Available", status_changed_at=None)
    connection.close()


# =====================================================================================================
# Orchestration: processes, sampling, phases.
# =====================================================================================================
def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"Server exited with {process.returncode}; log {log}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"Server did not listen on {port} within {timeout}s; log {log}")


def stop_process(process: subprocess.Popen, grace: float = 15) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class Server:
    """One server process (evbackoffice under uvicorn, or the echo server) pinned to the server core."""

    def __init__(self, kind: str, args, out: Path, label: str):
        import psutil

        self.kind, self.port = kind, free_port()
        self.log = out / f"server-{label}.log"
        # As deployed with a broker: the server queues the rating of stopped sessions for a Celery worker (not
        # part of this measurement; the queue is dropped afterwards). Without Redis there is no broker, and the
        # embedded default rates inline, in the server's database threads.
        self.redis_url, self.task_queue = args.redis_url, f"evb-bench-tasks-{os.getpid()}-{label}"
        celery = ({"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_TASK_DEFAULT_QUEUE": self.task_queue}
                  if args.redis_url else {"CELERY_TASK_ALWAYS_EAGER": "true"})
        env = dict(os.environ)
        python = sys.executable
        if kind == "django":
            env.update(
                DJANGO_SETTINGS_MODULE="evbackoffice.settings", DATABASE_URL=args.database_url,
                REDIS_URL=args.redis_url, CHANNEL_LAYER_PREFIX=f"evb-bench-{os.getpid()}",
                DEBUG="true" if args.debug else "false", LOG_LEVEL="WARNING",
                SECRET_KEY=env.get("SECRET_KEY") or secrets.token_urlsafe(50), PYTHONPATH=str(args.app_dir),
                **celery,
            )
            for item in args.server_env:
                key, _, value = item.partition("=")
                env[key] = value
            command = [python, "-m", "uvicorn", "evbackoffice.asgi:application", "--host", "127.0.0.1",
                       "--port", str(self.port), "--ws-ping-interval", "30", "--lifespan", "on",
                       "--log-level", "warning", "--no-access-log", *args.uvicorn_arg]
        else:
            command = [python, str(ROOT / "benchmarks" / "echo_server.py"), "--port", str(self.port)]
        self.command = ["taskset", "-c", args.server_cpu, *command]
        self.env_shown = {k: env[k] for k in ("DEBUG", "LOG_LEVEL", "REDIS_URL", "OCPP_DB_THREADS") if k in env}
        with self.log.open("w") as log:
            cwd = args.app_dir if kind == "django" else ROOT
            self.process = subprocess.Popen(self.command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=raise_fd_limit)
        wait_for_port(self.port, self.process, self.log)
        self.ps = psutil.Process(self.process.pid)

    def rss(self) -> int:
        return self.ps.memory_info().rss

    def cpu(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def counters(self) -> dict:
        times, switches = self.ps.cpu_times(), self.ps.num_ctx_switches()
        return {"user": times.user, "system": times.system, "voluntary": switches.voluntary,
                "involuntary": switches.involuntary, "threads": self.ps.num_threads()}

    def stop(self) -> None:
        stop_process(self.process)
        if self.kind == "django" and self.redis_url:
            import redis

            redis.Redis.from_url(self.redis_url).delete(self.task_queue)


def warm_up(port: int, count: int = 2) -> None:
    """Connect, boot and charge briefly with a couple of stations so lazy imports and schema caches are loaded
    before the baseline RSS is taken (those stations are then disconnected)."""
    from websockets.sync.client import connect

    for n in range(1, count + 1):
        identity = IDENTITY.format(n)
        with connect(f"ws://127.0.0.1:{port}/ocpp/{identity}", subprotocols=["ocpp1.6"], compression=None,
                     additional_headers={"Authorization": basic_auth_header(identity, STATION_PASSWORD)},
                     proxy=None, open_timeout=30) as ws:
            Clock.tick()
            station = SimStation(n, {"host": "127.0.0.1", "port": port}, Stats(), random.Random(n))
            frames = [F_BOOT % ("b", "SN"), F_STATUS % ("s", 1, "Available", Clock.now)]
            for i, action in enumerate(CYCLE):
                frames.append(station.frame_for(action, f"w{i}"))
            for frame in frames:
                ws.send(frame)
                answer = ws.recv(timeout=30)
                if '"StartTransaction"' in frame and answer[1] == "3":
                    station.transaction_id = int(json.loads(answer)[2]["transactionId"])
    time.sleep(1.0)  # let the disconnects' database work finish


class SystemSampler:
    """CPU use of the machine, PostgreSQL (this database's backends and its helpers) and Redis over a window."""

    def __init__(self, db_name: str):
        import psutil

        self.psutil, self.db_name = psutil, db_name

    def _groups(self) -> dict:
        groups = {"postgres": {}, "redis": {}}
        for proc in self.psutil.process_iter(["name", "cmdline", "cpu_times"]):
            name, times = proc.info["name"] or "", proc.info["cpu_times"]
            if times is None:
                continue
            cmdline = " ".join(proc.info["cmdline"] or [])
            if name.startswith("postgres") and (self.db_name in cmdline or any(
                    w in cmdline for w in ("walwriter", "checkpointer", "background writer"))):
                groups["postgres"][proc.pid] = times.user + times.system
            elif name.startswith("redis-server"):
                groups["redis"][proc.pid] = times.user + times.system
        return groups

    def start(self) -> None:
        self.t0, self.cores0, self.groups0 = time.time(), self.psutil.cpu_times(percpu=True), self._groups()

    def stop(self) -> dict:
        wall = time.time() - self.t0
        cores1, groups1 = self.psutil.cpu_times(percpu=True), self._groups()
        busy = []
        for a, b in zip(self.cores0, cores1, strict=True):
            total = sum(b) - sum(a)
            idle = (b.idle + getattr(b, "iowait", 0)) - (a.idle + getattr(a, "iowait", 0))
            busy.append(100.0 * (total - idle) / total if total > 0 else 0.0)
        result = {"core_busy_pct": [round(x, 1) for x in busy]}
        for group, after in groups1.items():
            before = self.groups0[group]
            used = sum(t - before.get(pid, 0.0) for pid, t in after.items())
            result[f"{group}_cpu_pct"] = round(100.0 * used / wall, 1)
        return result


def spawn_workers(args, server: Server, numbers: list[int], clients: int, out: Path, label: str,
                  interval_s: float, connect_limit: float) -> list[tuple[subprocess.Popen, Path]]:
    workers = []
    for i in range(clients):
        mine = numbers[i::clients]
        if not mine:
            continue
        result_path = out / f"worker-{label}-{i}.json"
        config = {"host": "127.0.0.1", "port": server.port, "numbers": mine, "seed": args.seed + i,
                  "call_timeout": args.call_timeout, "open_timeout": args.open_timeout,
                  "connect_concurrency": args.connect_concurrency, "interval_s": interval_s,
                  "connect_limit": connect_limit, "result_path": str(result_path)}
        config_path = out / f"worker-{label}-{i}.config.json"
        config_path.write_text(json.dumps(config))
        process = subprocess.Popen(
            ["taskset", "-c", args.client_cpu, sys.executable, str(Path(__file__).resolve()),
             "--worker-config", str(config_path)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=raise_fd_limit)
        workers.append((process, result_path))
    return workers


def read_tagged(process: subprocess.Popen, tag: str, timeout: float) -> dict:
    """Read the worker's stdout until a line starting with `tag` (the workers print nothing else)."""
    import selectors

    deadline = time.time() + timeout
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        while time.time() < deadline:
            if not selector.select(timeout=max(0.0, min(1.0, deadline - time.time()))):
                if process.poll() is not None:
                    raise RuntimeError(f"worker exited with {process.returncode} before {tag}")
                continue
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"worker exited with {process.poll()} before {tag}")
            if line.startswith(tag):
                rest = line[len(tag):].strip()
                return json.loads(rest) if rest else {}
        raise TimeoutError(f"no {tag} from worker within {timeout:.0f}s")
    finally:
        selector.close()


def tell(workers, line: str) -> None:
    for process, _ in workers:
        process.stdin.write(line + "\n")
        process.stdin.flush()


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1))  # nearest rank
    return sorted_values[index]


def run_load_phase(args, kind: str, stations: int, out: Path, db_name: str) -> dict:
    label = f"{kind}-{stations}"
    print(f"\n== load: {kind} server, {stations} stations, {args.warmup:g}s warm-up + {args.duration:g}s"
          + (f", paced at {args.rate:g} msg/s" if args.rate else ", closed loop") + " ==", flush=True)
    server = Server(kind, args, out, label)
    try:
        if kind == "django":
            warm_up(server.port)
        rss_base = server.rss()
        interval_s = stations / args.rate if args.rate else 0.0
        workers = spawn_workers(args, server, list(range(1, stations + 1)), args.clients, out, label, interval_s,
                                args.connect_limit)
        connected, connect_failures, connect_s = 0, {}, 0.0
        for process, _ in workers:
            ready = read_tagged(process, "READY", timeout=args.connect_limit + 60)
            connected += ready["connected"]
            connect_s = max(connect_s, ready["connect_s"])
            for reason, n in ready["connect_failures"].items():
                connect_failures[reason] = connect_failures.get(reason, 0) + n
        print(f"   {connected}/{stations} stations connected and booted in {connect_s:.1f}s", flush=True)
        rss_connected = server.rss()
        go_at = time.time() + 0.5
        window_start, window_end = go_at + args.warmup, go_at + args.warmup + args.duration
        tell(workers, f"GO {go_at} {window_start} {window_end}")
        sampler = SystemSampler(db_name)
        time.sleep(max(0.0, window_start - time.time()))
        cpu0, counters0 = server.cpu(), server.counters()
        sampler.start()
        profiler = None
        if args.profile and kind == "django":
            profile_path = out / f"profile-{label}.txt"
            profiler = subprocess.Popen(
                ["taskset", "-c", args.client_cpu, py_spy(), "record", "--pid", str(server.process.pid),
                 "--duration", str(int(args.duration)), "--rate", "200", "--nonblocking", "--threads", "--gil",
                 "--format", "raw", "--output", str(profile_path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rss_peak = rss_connected
        while time.time() < window_end:
            rss_peak = max(rss_peak, server.rss())
            time.sleep(min(0.5, max(0.0, window_end - time.time())))
        server_cpu_pct = 100.0 * (server.cpu() - cpu0) / args.duration
        counters1 = server.counters()
        system = sampler.stop()
        rss_end = server.rss()
        results = []
        for process, result_path in workers:
            read_tagged(process, "DONE", timeout=args.call_timeout + 30)
            process.wait(30)
            results.append(json.loads(result_path.read_text()))
        if profiler is not None:
            profiler.wait(args.duration + 60)
    finally:
        for process, _ in locals().get("workers", []):
            if process.poll() is None:
                process.kill()
        server.stop()

    latencies, per_action = [], {}
    for result in results:
        latencies.extend(result["latencies_ms"])
        for action, latency in zip(result["actions"], result["latencies_ms"], strict=True):
            per_action.setdefault(ACTIONS[action], []).append(latency)
    latencies.sort()
    # The p99 of each second of the window: whether slow answers are spread out or come in episodes.
    by_second: dict[int, list[float]] = {}
    for result in results:
        for latency, moment in zip(result["latencies_ms"], result["answered_s"], strict=True):
            by_second.setdefault(min(max(int(moment), 0), int(args.duration) - 1), []).append(latency)
    p99_by_second = [round(percentile(sorted(by_second[k]), 99), 1) for k in sorted(by_second)]
    call_errors = {}
    for result in results:
        for code, n in result["call_errors"].items():
            call_errors[code] = call_errors.get(code, 0) + n
    completed = sum(r["completed_in_window"] for r in results)
    client_cpu_pct = 100.0 * sum(r["client_cpu_s"] for r in results) / args.duration
    summary = {
        "kind": kind, "stations": stations, "connected": connected, "connect_s": round(connect_s, 1),
        "connect_failures": connect_failures, "duration_s": args.duration, "rate": args.rate,
        "messages": completed, "msg_per_s": round(completed / args.duration, 1),
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99), "max_ms": latencies[-1] if latencies else float("nan"),
        "p99_by_second_ms": p99_by_second,
        "call_errors": call_errors, "timeouts": sum(r["timeouts"] for r in results),
        "disconnects": sum(r["disconnects"] for r in results),
        "error_samples": [e for r in results for e in r["error_samples"]][:10],
        "server_cpu_pct": round(server_cpu_pct, 1),
        "server_user_pct": round(100.0 * (counters1["user"] - counters0["user"]) / args.duration, 1),
        "server_system_pct": round(100.0 * (counters1["system"] - counters0["system"]) / args.duration, 1),
        "server_ctx_switches_per_msg": round(
            (counters1["voluntary"] + counters1["involuntary"] - counters0["voluntary"] - counters0["involuntary"])
            / max(completed, 1), 1),
        "server_cpu_ms_per_msg": round(10.0 * server_cpu_pct * args.duration / max(completed, 1), 3),
        "server_threads": counters1["threads"],
        "client_cpu_pct": round(client_cpu_pct, 1),
        "rss_base_mb": rss_base / 2**20, "rss_connected_mb": rss_connected / 2**20, "rss_end_mb": rss_end / 2**20,
        "rss_peak_mb": rss_peak / 2**20,
        "rss_per_connection_kb": (rss_end - rss_base) / 1024 / max(connected, 1),
        "per_action": {a: {"n": len(v), "p50_ms": percentile(sorted(v), 50), "p99_ms": percentile(sorted(v), 99)}
                       for a, v in sorted(per_action.items())},
        **system,
        # Core time used by processes that are not part of the benchmark (others' work on a shared machine).
        "other_cpu_pct": round(sum(system["core_busy_pct"]) - server_cpu_pct - client_cpu_pct
                               - system["postgres_cpu_pct"] - system["redis_cpu_pct"], 1),
        "server_command": " ".join(server.command), "server_env": server.env_shown,
    }
    print(f"   {summary['msg_per_s']:.0f} msg/s, p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, "
          f"server CPU {summary['server_cpu_pct']:.0f}%, client CPU {summary['client_cpu_pct']:.0f}%, "
          f"errors {sum(call_errors.values())}, timeouts {summary['timeouts']}", flush=True)
    if p99_by_second:
        ranked = sorted(p99_by_second)
        print(f"   p99 of each second: best {ranked[0]:.0f}, median {ranked[len(ranked) // 2]:.0f}, worst "
              f"{ranked[-1]:.0f} ms; {sum(v >= 100 for v in ranked)} of {len(ranked)} seconds at 100 ms or more",
              flush=True)
    s = summary
    print(f"   server: {s['server_cpu_ms_per_msg']:.2f} ms CPU per message (user {s['server_user_pct']:.0f}% + system "
          f"{s['server_system_pct']:.0f}%), {s['server_ctx_switches_per_msg']:.1f} context switches per message, "
          f"{s['server_threads']} threads; PostgreSQL {s['postgres_cpu_pct']:.0f}%, Redis {s['redis_cpu_pct']:.0f}%, "
          f"cores busy {s['core_busy_pct']}, other processes {s['other_cpu_pct']:.0f}%", flush=True)
    return summary


def idle_sample(server: Server, started: float) -> dict:
    try:
        sockets = sum(1 for c in server.ps.net_connections("tcp") if c.status == "ESTABLISHED")
    except Exception:  # noqa: BLE001 - the count is informative only
        sockets = None
    return {"t": round(time.time() - started, 1), "sockets": sockets, "rss_mb": round(server.rss() / 2**20, 1),
            "cpu_s": round(server.cpu(), 1)}


def run_idle_phase(args, kind: str, out: Path, db_name: str) -> dict:
    label = f"{kind}-idle-{args.idle}"
    print(f"\n== idle: {kind} server, {args.idle} stations connect, boot and stay idle ==", flush=True)
    server = Server(kind, args, out, label)
    workers = []
    try:
        if kind == "django":
            warm_up(server.port)
        time.sleep(1.0)
        rss_before = server.rss()
        cpu0 = server.cpu()
        started = time.time()
        workers = spawn_workers(args, server, list(range(1, args.idle + 1)), args.idle_clients, out, label, 0.0,
                                args.idle_limit)
        # While they connect: open sockets, RSS and CPU of the server every few seconds.
        import selectors

        selector = selectors.DefaultSelector()
        for process, _ in workers:
            selector.register(process.stdout, selectors.EVENT_READ, process)
        timeline, waiting, readies = [], {p for p, _ in workers}, []
        next_sample = time.time()
        while waiting and time.time() < started + args.idle_limit + 90:
            if time.time() >= next_sample:
                timeline.append(idle_sample(server, started))
                next_sample += args.idle_sample_every
            for key, _ in selector.select(timeout=max(0.0, min(1.0, next_sample - time.time()))):
                line = key.data.stdout.readline()
                if line.startswith("READY"):
                    readies.append(json.loads(line[len("READY"):]))
                    waiting.discard(key.data)
                    selector.unregister(key.data.stdout)
                elif not line:
                    raise RuntimeError("an idle client exited before READY")
        selector.close()
        if waiting:
            raise TimeoutError("idle clients did not report within their limit")
        timeline.append(idle_sample(server, started))
        connected, failures = 0, {}
        for ready in readies:
            connected += ready["connected"]
            for reason, n in ready["connect_failures"].items():
                failures[reason] = failures.get(reason, 0) + n
        connect_s = time.time() - started
        connect_cpu_s = server.cpu() - cpu0
        print(f"   {connected}/{args.idle} connected and booted in {connect_s:.1f}s", flush=True)
        step = max(1, len(timeline) // 12)
        for point in timeline[::step] + ([timeline[-1]] if (len(timeline) - 1) % step else []):
            print(f"     t={point['t']:>6.1f}s  open sockets {point['sockets']}  RSS {point['rss_mb']:.0f} MB  "
                  f"server CPU {point['cpu_s']:.0f}s", flush=True)
        tell(workers, "HOLD")
        time.sleep(args.idle_hold)
        rss_after = server.rss()
        cpu1, t1 = server.cpu(), time.time()
        time.sleep(min(5.0, args.idle_hold))
        idle_cpu_pct = 100.0 * (server.cpu() - cpu1) / (time.time() - t1)
        tell(workers, "COUNT")
        still_open = sum(read_tagged(p, "COUNTED", timeout=60)["still_open"] for p, _ in workers)
        rss_after = max(rss_after, server.rss())
    finally:
        server.process.kill()  # an orderly close of thousands of sockets is not what this phase measures
        server.process.wait(30)
        for process, _ in workers:
            if process.poll() is None:
                try:
                    process.stdin.write("STOP\n")
                    process.stdin.flush()
                    process.wait(30)
                except (BrokenPipeError, subprocess.TimeoutExpired):
                    process.kill()
    summary = {
        "kind": kind, "target": args.idle, "connected": connected, "still_open": still_open,
        "connect_failures": failures, "connect_s": round(connect_s, 1),
        "connect_per_s": round(connected / connect_s, 1) if connect_s else None,
        "connect_server_cpu_s": round(connect_cpu_s, 1),
        "server_ms_cpu_per_connect": round(1000 * connect_cpu_s / max(connected, 1), 2),
        "idle_server_cpu_pct": round(idle_cpu_pct, 1),
        "rss_before_mb": rss_before / 2**20, "rss_after_mb": rss_after / 2**20,
        "rss_per_connection_kb": (rss_after - rss_before) / 1024 / max(connected, 1),
        "server_command": " ".join(server.command), "timeline": timeline,
    }
    print(f"   RSS {summary['rss_before_mb']:.0f} -> {summary['rss_after_mb']:.0f} MB "
          f"({summary['rss_per_connection_kb']:.1f} KB per connection), {still_open} still open", flush=True)
    return summary


def print_summary(args, prep: dict, loads: list[dict], idles: list[dict]) -> None:
    mode = f"paced at {args.rate:g} msg/s offered" if args.rate else "closed loop: next call right after the answer"
    print("\n" + "=" * 100)
    print(f"OCPP 1.6J load benchmark - {mode}; {args.duration:g}s measured after {args.warmup:g}s warm-up")
    print(f"server core {args.server_cpu}, load generator core {args.client_cpu} ({args.clients} process(es)); "
          f"DEBUG={'true' if args.debug else 'false'}; channel layer "
          f"{'Redis ' + args.redis_url if args.redis_url else 'in-memory'}; database {prep['database']}")
    if loads:
        print("\nLoad phase (msg/s = answered calls per second; latency = station-side round trip)")
        header = (f"{'server':<8}{'stations':>9}{'msg/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
                  f"{'errors':>8}{'tmo':>5}{'srv CPU':>9}{'cli CPU':>9}{'PG CPU':>8}{'RSS MB':>8}{'KB/conn':>9}")
        print(header)
        print("-" * len(header))
        for s in loads:
            print(f"{s['kind']:<8}{s['stations']:>9}{s['msg_per_s']:>9.0f}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}"
                  f"{s['p99_ms']:>9.1f}{s['max_ms']:>9.1f}{sum(s['call_errors'].values()):>8}{s['timeouts']:>5}"
                  f"{s['server_cpu_pct']:>8.0f}%{s['client_cpu_pct']:>8.0f}%{s['postgres_cpu_pct']:>7.0f}%"
                  f"{s['rss_end_mb']:>8.0f}{s['rss_per_connection_kb']:>9.1f}")
        by = {(s["kind"], s["stations"]): s for s in loads}
        print()
        for n in args.stations:
            django, echo = by.get(("django", n)), by.get(("echo", n))
            if django and echo and echo["msg_per_s"]:
                print(f"{n} stations: evbackoffice {django['msg_per_s']:.0f} msg/s vs bare websockets "
                      f"{echo['msg_per_s']:.0f} msg/s = {100 * django['msg_per_s'] / echo['msg_per_s']:.1f}% of the "
                      f"ceiling; p99 {django['p99_ms']:.1f} ms vs {echo['p99_ms']:.1f} ms")
        for s in loads:
            if s["kind"] == "django":
                per_action = ", ".join(f"{a} p50 {v['p50_ms']:.1f}/p99 {v['p99_ms']:.1f}"
                                       for a, v in s["per_action"].items())
                print(f"   django {s['stations']}: {per_action} ms")
                print(f"   django {s['stations']}: {s['server_cpu_ms_per_msg']:.2f} ms server CPU per message; cores "
                      f"busy {s['core_busy_pct']}; Redis {s['redis_cpu_pct']:.0f}%; processes outside the benchmark "
                      f"{s['other_cpu_pct']:.0f}% of a core")
                if s["call_errors"] or s["timeouts"] or s["disconnects"] or s["connect_failures"]:
                    print(f"   django {s['stations']}: CALLERRORs {s['call_errors']}, timeouts {s['timeouts']}, "
                          f"disconnects {s['disconnects']}, connect failures {s['connect_failures']}")
                    for sample in s["error_samples"][:3]:
                        print(f"      e.g. {sample}")
    for s in idles:
        print(f"\nIdle phase ({s['kind']}): {s['connected']}/{s['target']} stations connected and booted in "
              f"{s['connect_s']:.1f}s ({s['connect_per_s']}/s, {s['server_ms_cpu_per_connect']} ms server CPU "
              f"each); {s['still_open']} still open after {args.idle_hold:g}s")
        print(f"   server RSS {s['rss_before_mb']:.0f} MB -> {s['rss_after_mb']:.0f} MB = "
              f"{s['rss_per_connection_kb']:.1f} KB per idle connection; idle CPU {s['idle_server_cpu_pct']:.1f}%")
        if s["connect_failures"]:
            print(f"   connect failures: {s['connect_failures']}")
    print("\nTargets (one process, one core): >= 2,000 msg/s with p99 < 100 ms; 10,000 idle stations < 500 MB")
    for s in loads:
        if s["kind"] == "django":
            # A paced run answers a little less than it offers (a station whose answer comes after its next
            # slot skips that slot): within 0.5 % of an offered rate of at least 2,000 counts as that rate.
            sustained = s["msg_per_s"] >= 2000 or (args.rate >= 2000 and s["msg_per_s"] >= 0.995 * args.rate)
            ok = sustained and s["p99_ms"] < 100
            offered = f" ({100 * s['msg_per_s'] / args.rate:.1f} % of {args.rate:g} offered)" if args.rate else ""
            print(f"   {s['stations']} stations: {s['msg_per_s']:.0f} msg/s{offered}, p99 {s['p99_ms']:.1f} ms -> "
                  f"{'MET' if ok else 'MISSED'}")
    for s in idles:
        if s["kind"] == "django":
            ok = s["connected"] >= 10_000 and s["rss_after_mb"] < 500
            print(f"   idle: {s['connected']} stations in {s['rss_after_mb']:.0f} MB -> {'MET' if ok else 'MISSED'}")
    print("=" * 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--stations", type=int, nargs="*", default=[200],
                        help="simulated stations in the load phase; several values run one phase each; none: skip it")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds per load phase")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds of load before measuring")
    parser.add_argument("--rate", type=float, default=0,
                        help="offered msg/s over all stations (each waits for its answer, then for its next "
                             "slot); 0 = closed loop, each station sends its next call as soon as answered")
    parser.add_argument("--idle", type=int, default=10_000, help="stations in the idle phase (0: skip it)")
    parser.add_argument("--idle-hold", type=float, default=10, help="seconds the idle stations stay connected")
    parser.add_argument("--idle-limit", type=float, default=900,
                        help="seconds after which stations not yet connected in the idle phase are given up")
    parser.add_argument("--idle-sample-every", type=float, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required="DATABASE_URL" not in
                        os.environ, help="PostgreSQL URL of a database used only for benchmarks")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="channel layer; '' for the in-memory layer")
    parser.add_argument("--debug", action="store_true", help="run the server with DEBUG=true (otherwise DEBUG=false)")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the server, e.g. OCPP_DB_THREADS=16")
    parser.add_argument("--uvicorn-arg", action="append", default=[], metavar="ARG",
                        help="an extra uvicorn argument, e.g. --uvicorn-arg=--ws=websockets (repeat for more)")
    parser.add_argument("--server-cpu", default="1", help="taskset CPU list for the server process")
    parser.add_argument("--client-cpu", default="0", help="taskset CPU list for the load generator")
    parser.add_argument("--database-cpu", default="",
                        help="taskset CPU list for the local PostgreSQL server during the run (e.g. the load "
                             "generator's core, so that the server's core is its own, as with a database on "
                             "another host); its affinity is restored afterwards. Empty: leave it alone")
    parser.add_argument("--clients", type=int, default=1, help="load-generator processes in the load phase")
    parser.add_argument("--idle-clients", type=int, default=2, help="client processes in the idle phase")
    parser.add_argument("--connect-concurrency", type=int, default=100, help="handshakes in flight per client")
    parser.add_argument("--call-timeout", type=float, default=30, help="seconds to wait for an answer")
    parser.add_argument("--open-timeout", type=float, default=120, help="seconds to wait for a handshake")
    parser.add_argument("--connect-limit", type=float, default=300,
                        help="seconds after which stations not yet connected in a load phase are given up")
    parser.add_argument("--no-echo", action="store_true", help="skip the bare websockets ceiling")
    parser.add_argument("--no-django", action="store_true", help="only the echo server (checks the load generator)")
    parser.add_argument("--keep-data", action="store_true", help="do not empty meter values, journal, sessions first")
    parser.add_argument("--profile", action="store_true", help="py-spy the server during each django load phase")
    parser.add_argument("--output", help="directory for logs, worker results, profiles and summary.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--app-dir", type=Path, default=ROOT,
                        help="where the server's code is (a patched copy, to measure a change); the database "
                             "is prepared with this checkout's models")
    parser.add_argument("--worker-config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_config:
        return run_worker(args.worker_config)

    raise_fd_limit()
    out = Path(args.output or tempfile.mkdtemp(prefix="ocpp-load-"))
    out.mkdir(parents=True, exist_ok=True)
    if args.profile and not py_spy():
        sys.exit("--profile needs py-spy (pip install py-spy)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if args.idle and hard < args.idle + 1000:
        print(f"warning: the open-file limit is {hard}; {args.idle} idle connections need about {args.idle + 1000} "
              f"in the server process", file=sys.stderr)
    print(f"machine: {os.cpu_count()} cores, open files {soft}/{hard}, ephemeral ports "
          f"{Path('/proc/sys/net/ipv4/ip_local_port_range').read_text().split()}; output in {out}", flush=True)
    count = max([*args.stations, args.idle, 2])
    prep = prepare_database(args.database_url, count, reset=not args.keep_data)
    print(f"database ready: {prep}", flush=True)
    loads, idles = [], []
    kinds = [k for k, skip in (("django", args.no_django), ("echo", args.no_echo)) if not skip]
    with database_pinned(args.database_url, args.database_cpu):
        for stations in args.stations:
            for kind in kinds:
                if kind == "django" and not args.keep_data:
                    reset_data(prep["database"])  # every phase starts from the same (empty) tables
                loads.append(run_load_phase(args, kind, stations, out, prep["database"]))
        if args.idle:
            for kind in kinds:
                idles.append(run_idle_phase(args, kind, out, prep["database"]))
    (out / "summary.json").write_text(json.dumps({"args": vars(args), "prepare": prep, "load": loads,
                                                  "idle": idles}, indent=2, default=str))
    print_summary(args, prep, loads, idles)
    print(f"details: {out / 'summary.json'}")


@contextlib.contextmanager
def database_pinned(database_url: str, cpus: str):
    """Pin the local PostgreSQL server (its postmaster, whose new backends inherit the affinity, and the processes
    it has already started) to `cpus` for the run; afterwards give them back the affinity they had."""
    if not cpus:
        yield
        return
    import psutil
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        postmaster = psutil.Process(backend).parent()
    wanted = sorted({cpu for part in cpus.split(",") for cpu in (
        range(int(part.split("-")[0]), int(part.split("-")[-1]) + 1))})
    before = {}
    try:
        for proc in [postmaster, *postmaster.children()]:
            try:
                before[proc.pid] = proc.cpu_affinity()
                proc.cpu_affinity(wanted)
            except psutil.NoSuchProcess:
                continue  # a backend that ended meanwhile
            except psutil.AccessDenied as error:
                sys.exit(f"--database-cpu: cannot pin PostgreSQL process {proc.pid} ({error}); run as its user "
                         "or root")
        print(f"PostgreSQL (postmaster {postmaster.pid} and {len(before) - 1} processes) pinned to CPU {cpus}",
              flush=True)
        yield
    finally:
        for proc in [postmaster, *postmaster.children()]:
            try:
                proc.cpu_affinity(before.get(proc.pid, before.get(postmaster.pid, proc.cpu_affinity())))
            except psutil.Error:
                pass  # a backend that ended meanwhile


if __name__ == "__main__":
    main()
