"""Live websockets follow the staff rules of the pages: verified second factor and an unexpired session.
(transactional_db: the check runs through Channels' database_sync_to_async, which closes old connections.)"""

from asgiref.sync import async_to_sync
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY

from staff import sessions
from staff.roles import OPERATOR
from staff.sockets import staff_socket_allowed
from tests.factories import UserFactory
from tests.staff.conftest import confirmed_device, staff_member


def _scope(user, *, device=None, signed_in_at=None):
    session = SessionStore()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = int(sessions.clock())
    session[sessions.SIGNED_IN_AT] = signed_in_at if signed_in_at is not None else now
    session[sessions.SEEN_AT] = now
    return {"user": user, "session": session}


def test_a_verified_staff_member_may_open_a_live_socket(transactional_db):
    user = staff_member(OPERATOR)

    assert async_to_sync(staff_socket_allowed)(_scope(user, device=confirmed_device(user)))


def test_an_unverified_staff_member_or_a_driver_may_not(transactional_db):
    user = staff_member(OPERATOR)
    confirmed_device(user)

    assert not async_to_sync(staff_socket_allowed)(_scope(user))
    assert not async_to_sync(staff_socket_allowed)(_scope(UserFactory()))


def test_someone_elses_device_does_not_verify_a_socket(transactional_db):
    user, other = staff_member(OPERATOR), staff_member(OPERATOR)

    assert not async_to_sync(staff_socket_allowed)(_scope(user, device=confirmed_device(other)))


def test_an_expired_staff_session_may_not_open_a_socket(transactional_db, settings):
    user = staff_member(OPERATOR)
    old = int(sessions.clock()) - (settings.STAFF_SESSION_MAX_HOURS * 3600 + 60)

    assert not async_to_sync(staff_socket_allowed)(_scope(user, device=confirmed_device(user), signed_in_at=old))


def test_the_live_board_refuses_a_staff_member_who_has_not_verified_the_second_factor(transactional_db):
    from channels.testing import WebsocketCommunicator

    from stations.live import LiveBoardConsumer

    user = staff_member(OPERATOR)
    device = confirmed_device(user)

    async def opened(scope) -> bool:
        communicator = WebsocketCommunicator(LiveBoardConsumer.as_asgi(), "/ws/live/")
        communicator.scope.update(scope)
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    assert not async_to_sync(opened)(_scope(user))
    assert async_to_sync(opened)(_scope(user, device=device))
