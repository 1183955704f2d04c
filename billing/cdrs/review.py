"""Flagging a charging session for review when it cannot be priced: a person looks at it instead of a
driver being billed zero or a guess. Written here with a queryset update so that billing never goes through
the stations app's save() (and never triggers the session's post_save rating again)."""

from django.utils import timezone

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
