"""Celery tasks of ad-hoc charging: settle a session once its charge record exists, e-mail the receipt, and
the beat sweep that releases holds of sessions that never started. All take ids and are idempotent."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from billing.models import AdHocSession, ChargeDetailRecord
from billing.payments.providers import ProviderUnavailable

from .receipts import receipt_send
from .services import adhoc_session_settle, adhoc_sessions_expire

logger = logging.getLogger(__name__)

RETRY = {"autoretry_for": (ProviderUnavailable, OperationalError), "retry_backoff": 30, "retry_backoff_max": 3600,
         "retry_jitter": True, "max_retries": 10, "soft_time_limit": 90, "time_limit": 120}


@shared_task(bind=True, name="billing.adhoc_settle", acks_late=True, **RETRY)
def adhoc_settle(self, cdr_id: int) -> str | None:
    """Capture the session's cost (at most the hold) and issue the receipt; returns the state."""
    cdr = ChargeDetailRecord.objects.filter(pk=cdr_id).first()
    if cdr is None:
        return None
    try:
        adhoc = adhoc_session_settle(cdr=cdr)
    except ProviderUnavailable:
        if not self.request.is_eager:
            raise
        # Inline (embedded default) this runs in the rating of a StopTransaction, which must not fail; the
        # capture key makes the next attempt safe: the sweep below settles it.
        logger.warning("Payment provider unavailable; ad-hoc capture of record %s waits for the sweep", cdr_id)
        return None
    return adhoc.state if adhoc else None


@shared_task(bind=True, name="billing.adhoc_send_receipt", acks_late=True, autoretry_for=(OSError,),
             retry_backoff=60, max_retries=5, soft_time_limit=60, time_limit=90)
def adhoc_send_receipt(self, adhoc_id: int) -> bool:
    adhoc = AdHocSession.objects.filter(pk=adhoc_id).first()
    return receipt_send(adhoc=adhoc) if adhoc else False


@shared_task(name="billing.adhoc_expire_holds", acks_late=True, soft_time_limit=270, time_limit=300)
def adhoc_expire_holds() -> int:
    """Release unused holds; also settles sessions whose capture failed earlier (rated, still open)."""
    canceled = adhoc_sessions_expire()
    unsettled = ChargeDetailRecord.objects.filter(
        kind=ChargeDetailRecord.Kind.CHARGE, id_token__adhoc_session__state=AdHocSession.State.CHARGING,
    ).values_list("pk", flat=True)[:100]
    for cdr_id in unsettled:
        try:
            adhoc_session_settle(cdr=ChargeDetailRecord.objects.get(pk=cdr_id))
        except ProviderUnavailable:
            logger.warning("Payment provider unavailable; the next sweep settles ad-hoc sessions")
            break
    return canceled
