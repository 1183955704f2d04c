"""Flagging a charging session for review when it cannot be priced: a person looks at it instead of a
driver being billed zero or a guess. Written here with a queryset update so that billing never goes through
the stations app's save() (and never triggers the session's post_save rating again). Once staff fixed the cause,
`session_reprice` rates it again."""

from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from billing.models import ChargeDetailRecord
from stations.models import ChargingSession


def session_flag_for_review(*, session: ChargingSession, reason: str) -> ChargingSession:
    """Sets `needs_review` and appends `reason` to what the session's review reason already says. Call it in the
    caller's transaction (the rating's); the session in memory is updated too."""
    reasons = " ".join(part for part in (session.review_reason.strip(), reason.strip()) if part)
    ChargingSession.objects.filter(pk=session.pk).update(
        needs_review=True, review_reason=reasons, updated_at=timezone.now()
    )
    session.needs_review, session.review_reason = True, reasons
    return session


class Repricing(NamedTuple):
    """What pricing a flagged session again did: `outcome` is one of the REPRICE_* values."""

    outcome: str
    cdr: ChargeDetailRecord | None = None
    reason: str = ""


REPRICE_PRICED = "priced"
REPRICE_FLAGGED = "flagged"  # still cannot be priced: flagged again with the new reason
REPRICE_HAS_RECORD = "has_record"  # rated already: a record is corrected (cdr_correct), not re-rated
REPRICE_NOT_FLAGGED = "not_flagged"
REPRICE_NOT_STOPPED = "not_stopped"


def session_reprice(*, session_id: int) -> Repricing:
    """Rate a session flagged for review again, once staff fixed what stopped its pricing (a tariff assigned,
    readings corrected): it is priced and its flag cleared, or flagged again with the new reason only (the old
    one is what staff just dealt with). Sessions with a record, not flagged or still charging are left as they
    are. One transaction: the session is never seen unflagged without its record."""
    from .rating import cdr_create_for_session, session_locked  # rating flags through this module

    with transaction.atomic():
        session = session_locked(session_id)
        if session.cdrs.exists():
            return Repricing(REPRICE_HAS_RECORD)
        if not session.needs_review:
            return Repricing(REPRICE_NOT_FLAGGED)
        if session.state != ChargingSession.State.COMPLETED:
            return Repricing(REPRICE_NOT_STOPPED)
        ChargingSession.objects.filter(pk=session.pk).update(
            needs_review=False, review_reason="", updated_at=timezone.now()
        )
        cdr = cdr_create_for_session(session_id=session.pk)
        if cdr is not None:
            return Repricing(REPRICE_PRICED, cdr=cdr)
        session.refresh_from_db(fields=["needs_review", "review_reason"])
        return Repricing(REPRICE_FLAGGED, reason=session.review_reason)
