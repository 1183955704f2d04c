"""Rating requests go to the workers in rounds: one Celery message for all the sessions a process stops within
ROUND_S of each other (billing.rate_sessions), instead of one message per session.

An OCPP server stops sessions all the time, and publishing one message cost about 0.45 ms of CPU (Redis as the
broker: the message is built, the exchange's bindings read, a client made, two round trips), more than answering
a station's message; at 100 stops a second that was 5 % of the server's core, spent in the threads that answer
stations. A session is rated at most ROUND_S later than with a message of its own.

Requests still waiting when the process dies unexpectedly are rated by the sweep
(billing.rate_pending_sessions), as a message lost on the way always was; an orderly exit sends them first.
"""

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

ROUND_S = 0.1
MAX_PER_MESSAGE = 200  # sessions per message: a worker rates them one after the other


class RatingRounds:
    def __init__(self, publish: Callable[[list[int]], object]):
        self._publish = publish  # sends one list of session ids to the workers
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[int] = []
        self._round: threading.Thread | None = None

    def add(self, session_id: int) -> None:
        """Request the rating of a stopped session (after its stop committed); sent within ROUND_S."""
        with self._lock:
            self._pending.append(session_id)
            if self._round is None:
                self._round = threading.Thread(target=self._send_round, name="billing-rating-round", daemon=True)
                self._round.start()

    def flush(self) -> None:
        """Send what is waiting now (process exit, tests)."""
        with self._lock:
            pending, self._pending = self._pending, []
        self._send(pending)

    def _send_round(self) -> None:
        time.sleep(ROUND_S)  # the sessions stopped meanwhile join this round
        with self._lock:
            pending, self._pending, self._round = self._pending, [], None
        self._send(pending)

    def _send(self, session_ids: list[int]) -> None:
        for start in range(0, len(session_ids), MAX_PER_MESSAGE):
            chunk = session_ids[start:start + MAX_PER_MESSAGE]
            try:
                self._publish(chunk)
            except Exception:  # the broker is unreachable: nothing is lost, the sweep rates them
                logger.exception("Could not queue the rating of sessions %s; the sweep will rate them", chunk)


def _publish(session_ids: list[int]) -> None:
    from billing.tasks import rate_sessions

    rate_sessions.delay(session_ids)


rating_rounds = RatingRounds(_publish)
atexit.register(rating_rounds.flush)
# A forked child (a worker pool process) starts with nothing pending and a lock no thread of its holds.
os.register_at_fork(after_in_child=rating_rounds._reset)
