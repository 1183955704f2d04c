"""Rating requests in rounds: with workers, the sessions a process stops close together go to them in one
message (billing.rate_sessions), which rates each of them; with tasks run inline, each is rated on commit."""

import threading
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.db import OperationalError

from billing import rating_rounds, signals, tasks
from billing.models import ChargeDetailRecord
from billing.rating_rounds import RatingRounds
from tests.billing.test_cdr_rating import (
    BERLIN_EVENING,
    METER_START,
    plain_tariff,
    rating_fails_for,
    session_started,
    stop,
    stopped_quietly,
)


def wait_for(condition, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return result


class Broker:
    """What the rounds publish, as the workers would receive it."""

    def __init__(self, fail_first: int = 0):
        self.messages: list[list[int]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def publish(self, session_ids: list[int]) -> None:
        with self.lock:
            if self.fail_first:
                self.fail_first -= 1
                raise ConnectionError("broker unreachable")
            self.messages.append(list(session_ids))


def test_sessions_stopped_within_a_round_go_in_one_message_and_later_ones_in_the_next():
    broker = Broker()
    rounds = RatingRounds(broker.publish)
    for session_id in (11, 12, 13):
        rounds.add(session_id)
    assert broker.messages == [], "a round waits for the sessions stopped meanwhile"
    assert wait_for(lambda: broker.messages)
    rounds.add(14)
    assert wait_for(lambda: len(broker.messages) == 2)
    assert broker.messages == [[11, 12, 13], [14]]


def test_a_large_round_is_split_into_messages_a_worker_can_take(monkeypatch):
    monkeypatch.setattr(rating_rounds, "MAX_PER_MESSAGE", 2)
    broker = Broker()
    rounds = RatingRounds(broker.publish)
    for session_id in (1, 2, 3, 4, 5):
        rounds.add(session_id)
    assert wait_for(lambda: len(broker.messages) == 3)
    assert broker.messages == [[1, 2], [3, 4], [5]]


def test_an_unreachable_broker_loses_only_that_round_to_the_sweep_and_later_rounds_go(caplog):
    broker = Broker(fail_first=1)
    rounds = RatingRounds(broker.publish)
    rounds.add(21)
    assert wait_for(lambda: "the sweep will rate them" in caplog.text)
    rounds.add(22)
    assert wait_for(lambda: broker.messages) == [[22]]


def test_flush_sends_what_is_waiting_at_once():
    broker = Broker()
    rounds = RatingRounds(broker.publish)
    rounds.add(31)
    rounds.flush()
    assert broker.messages == [[31]]
    time.sleep(rating_rounds.ROUND_S * 2)
    assert broker.messages == [[31]], "nothing is sent twice"


@pytest.fixture
def with_workers():
    """Tasks go to workers, as deployed (tests/conftest.py runs them inline otherwise)."""
    current_app.conf.task_always_eager = False
    yield
    current_app.conf.task_always_eager = True


@pytest.mark.django_db
def test_with_workers_a_stop_requests_its_rating_in_a_round_after_the_commit(
        monkeypatch, with_workers, django_capture_on_commit_callbacks):
    plain_tariff()
    session = session_started()
    broker = Broker()
    monkeypatch.setattr(signals, "rating_rounds", RatingRounds(broker.publish))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stop(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)
    time.sleep(rating_rounds.ROUND_S * 2)
    assert broker.messages == [], "nothing is requested before the stop commits"
    for callback in callbacks:
        callback()

    assert wait_for(lambda: broker.messages) == [[session.pk]]
    assert not ChargeDetailRecord.objects.exists(), "rated by a worker, not in the process that stopped it"
    [record_id] = tasks.rate_sessions(*broker.messages)  # what the worker then does
    assert ChargeDetailRecord.objects.get(pk=record_id).session_id == session.pk


@pytest.mark.django_db
def test_rate_sessions_rates_each_and_a_failing_one_does_not_hold_up_the_others(monkeypatch, caplog):
    plain_tariff()
    sessions = [stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)
                for _ in range(3)]
    rating_fails_for(monkeypatch, sessions[1])
    ids = [session.pk for session in sessions]
    records = tasks.rate_sessions(ids)

    assert sorted(ChargeDetailRecord.objects.filter(pk__in=records).values_list("session_id", flat=True)) == [
        sessions[0].pk, sessions[2].pk]
    assert f"Rating session {sessions[1].pk} failed" in caplog.text
    assert tasks.rate_sessions(ids[:1]) == records[:1], "rating again returns the record it has"


@pytest.mark.django_db
def test_rate_sessions_leaves_a_database_error_to_the_retry_of_the_whole_list(monkeypatch):
    def locked(*, session_id):
        raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "cdr_create_for_session", locked)
    with pytest.raises(OperationalError):
        tasks.rate_sessions([1, 2])
    task = tasks.rate_sessions
    assert task.name == "billing.rate_sessions" and OperationalError in task.autoretry_for
    assert task.retry_backoff and task.acks_late and task.soft_time_limit < task.time_limit
