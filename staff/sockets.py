"""The staff rules for websockets (live board, dashboard, station view): a staff member whose session has
expired or who has not verified a second factor gets no live data, exactly as with the pages around them.
Consumers call `staff_socket_allowed(scope)` in connect() (scope["user"] and scope["session"] come from
Channels' AuthMiddlewareStack)."""

from channels.db import database_sync_to_async
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from staff import sessions


async def staff_socket_allowed(scope) -> bool:
    user, session = scope.get("user"), scope.get("session")
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff or session is None:
        return False
    return await database_sync_to_async(_session_valid)(user, session)


def _session_valid(user, session) -> bool:
    if sessions.staff_session_expired(session):
        return False
    if not settings.STAFF_2FA_REQUIRED:
        return True
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk and device.confirmed
