"""Session to money across processes: a station charges through a real uvicorn server, whose stop handler
queues the rating on Redis after commit; a real Celery worker process takes it and writes the charge record."""

import subprocess
import sys
import uuid
from decimal import Decimal

import pytest

from billing.models import ChargeDetailRecord
from stations.models import ChargingSession
from stations.simulator import Clock, SimulatedStation
from tests.e2e.conftest import BASE_DIR, STATION_PASSWORD, ServerProcess, four_minutes_at_11_kw, process_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def server_and_worker(transactional_db, tmp_path):
    """One server and one worker sharing a broker queue of their own, so no other test's tasks reach it."""
    queue = f"e2e-{uuid.uuid4().hex[:8]}"
    env = process_env(CELERY_TASK_DEFAULT_QUEUE=queue, CELERY_TASK_ALWAYS_EAGER="false")
    server = ServerProcess("server", env, tmp_path)
    worker_log = tmp_path / "worker.log"
    with open(worker_log, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "evbackoffice", "worker", "--pool", "solo", "--queues", queue,
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        server.wait_ready()
        yield server.base_url, worker_log
    finally:
        server.stop()
        worker.terminate()
        worker.wait(timeout=20)


def test_a_session_stopped_on_the_server_is_priced_by_a_separate_worker(
        server_and_worker, registered_station, valid_tag, station_thread, eventually):
    base_url, worker_log = server_and_worker
    station = SimulatedStation(registered_station.identity, base_url.replace("http://", "ws://") + "/ocpp/",
                               STATION_PASSWORD, connectors=2, clock=Clock(120), plans=four_minutes_at_11_kw)

    with station_thread(station) as running:
        running.run(station.charge(1, valid_tag), timeout=30)

    session = ChargingSession.objects.get(charge_point=registered_station)
    record = eventually(lambda: ChargeDetailRecord.objects.filter(session=session).first(), timeout=30,
                        what=f"the worker to price the session (worker log: {worker_log})")
    assert session.state == ChargingSession.State.COMPLETED and not session.needs_review
    assert (record.total_energy_wh, record.total_cost_excl_vat, record.total_cost_incl_vat) == (
        733, Decimal("0.29"), Decimal("0.34"))
    assert "billing.rate_sessions" in worker_log.read_text(errors="replace")
