"""Billing's Celery tasks: rating a stopped session into a charge record, and the sweep that rates any session a
lost message or a crashed worker left unrated. Both are idempotent: a session has at most one original record
(a database constraint), and rating returns the existing one."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from billing.adhoc import tasks as adhoc_tasks  # noqa: F401  (registers billing.adhoc_settle, ...)
from billing.cdrs import cdr_create_for_session, sessions_to_rate
from billing.invoicing import rendering as invoicing_rendering  # noqa: F401  (render_invoice_pdf, send_invoice_email)
from billing.invoicing import tasks as invoicing_tasks  # noqa: F401  (registers billing.close_billing_period)
from billing.payments import tasks as payments_tasks  # noqa: F401  (registers billing.collect_invoice, ...)
from stations.models import ChargingSession

logger = logging.getLogger(__name__)

#: The message sent when a session stops has had this long to be handled before the sweep takes over.
SETTLE_TIME = timedelta(minutes=1)
SWEEP_BATCH = 200
#: The sweep stops starting new sessions after this many seconds, well inside its soft time limit.
SWEEP_BUDGET_S = 240


@shared_task(
    bind=True, name="billing.rate_session", acks_late=True, autoretry_for=(OperationalError,),
    retry_backoff=5, retry_backoff_max=300, retry_jitter=True, max_retries=8, soft_time_limit=60, time_limit=90,
)
def rate_session(self, session_id: int) -> int | None:
    """Rates the session; returns its charge record's id, or None (not stopped, flagged for review, gone).
    On a worker it retries when the database is unavailable or locked (OperationalError); a session that cannot
    be priced is a review flag, not an error."""
    try:
        cdr = cdr_create_for_session(session_id=session_id)
    except ChargingSession.DoesNotExist:
        logger.warning("Session %s to rate does not exist", session_id)
        return None
    except Exception:
        if not self.request.is_eager:
            raise  # a worker retries OperationalError with backoff; anything else fails visibly there
        # Run inline (the embedded default), this is the on-commit hook of whoever stopped the session, e.g. a
        # station's StopTransaction: billing must not fail that message. The sweep rates the session later.
        logger.exception("Rating session %s inline failed; the sweep will try again", session_id)
        return None
    return cdr.pk if cdr is not None else None


@shared_task(
    bind=True, name="billing.rate_sessions", acks_late=True, autoretry_for=(OperationalError,),
    retry_backoff=5, retry_backoff_max=300, retry_jitter=True, max_retries=8, soft_time_limit=240, time_limit=270,
)
def rate_sessions(self, session_ids: list[int]) -> list[int]:
    """Rates sessions stopped together (sent in rounds: billing.rating_rounds); returns their charge records' ids.
    When the database is unavailable or locked (OperationalError) the whole list is retried, rated ones included
    (rating is idempotent). A session that fails otherwise is logged and left to the sweep, so that it does not
    hold up the others."""
    records = []
    for session_id in session_ids:
        try:
            cdr = cdr_create_for_session(session_id=session_id)
        except ChargingSession.DoesNotExist:
            logger.warning("Session %s to rate does not exist", session_id)
            continue
        except (OperationalError, SoftTimeLimitExceeded):
            raise
        except Exception:
            logger.exception("Rating session %s failed; the sweep will try again", session_id)
            continue
        if cdr is not None:
            records.append(cdr.pk)
    return records


@shared_task(name="billing.rate_pending_sessions", acks_late=True, soft_time_limit=270, time_limit=300)
def rate_pending_sessions() -> int:
    """Rates stopped sessions that have no record and are not waiting for review, oldest id first, in batches,
    each in its own transaction. A session whose rating fails unexpectedly is logged and skipped (the next run
    tries it again), so one bad session never blocks the others. Returns how many records were created."""
    created, after_id, deadline = 0, 0, time.monotonic() + SWEEP_BUDGET_S
    while time.monotonic() < deadline:
        batch = sessions_to_rate(settled_for=SETTLE_TIME, after_id=after_id, limit=SWEEP_BATCH)
        if not batch:
            break
        for session_id in batch:
            if time.monotonic() >= deadline:
                break
            try:
                created += cdr_create_for_session(session_id=session_id) is not None
            except Exception:
                logger.exception("Rating session %s failed; the next sweep tries again", session_id)
            after_id = session_id
    if created:
        logger.info("The sweep rated %d sessions", created)
    return created
