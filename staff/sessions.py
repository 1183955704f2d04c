"""Staff session expiry: an idle timeout (STAFF_SESSION_IDLE_MINUTES since the last request) and an absolute
lifetime (STAFF_SESSION_MAX_HOURS since sign-in), kept as two timestamps in the session. The last-seen stamp
is written at most once a minute, so that a busy admin page does not write its session on every request."""

import time

from django.conf import settings
from django.utils.translation import gettext as _

SIGNED_IN_AT = "staff_signed_in_at"
SEEN_AT = "staff_seen_at"
TOUCH_EVERY_S = 60


def clock() -> float:
    """Seconds since the epoch; tests move it forward."""
    return time.time()


def staff_session_start(session) -> None:
    """Called at sign-in: the absolute lifetime counts from now."""
    now = int(clock())
    session[SIGNED_IN_AT] = session[SEEN_AT] = now


def staff_session_expired(session) -> str:
    """Why this staff session is over ("" while it is valid). A session from before these stamps existed
    starts counting now."""
    now = clock()
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if signed_in_at is None or seen_at is None:
        staff_session_start(session)
        return ""
    if now - seen_at > settings.STAFF_SESSION_IDLE_MINUTES * 60:
        return _("%(minutes)d minutes without activity") % {"minutes": settings.STAFF_SESSION_IDLE_MINUTES}
    if now - signed_in_at > settings.STAFF_SESSION_MAX_HOURS * 3600:
        return _("%(hours)d hours") % {"hours": settings.STAFF_SESSION_MAX_HOURS}
    return ""


def staff_session_touch(session) -> None:
    now = int(clock())
    if now - session.get(SEEN_AT, 0) >= TOUCH_EVERY_S:
        session[SEEN_AT] = now
