"""Staff sessions end after STAFF_SESSION_IDLE_MINUTES without a request and STAFF_SESSION_MAX_HOURS after
sign-in, whatever happens in between; drivers keep their portal sessions. The clock is moved, not waited for."""

import pytest

from staff import sessions
from staff.roles import OPERATOR
from tests.factories import UserFactory
from tests.staff.conftest import sign_in_verified, staff_member

MINUTE, HOUR = 60, 3600


class Clock:
    def __init__(self, start: float = 1_800_000_000):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch, settings):
    settings.STAFF_SESSION_IDLE_MINUTES, settings.STAFF_SESSION_MAX_HOURS = 30, 12
    fake = Clock()
    monkeypatch.setattr(sessions, "clock", fake)
    return fake


@pytest.fixture
def operator_client(client, db, clock):
    return sign_in_verified(client, staff_member(OPERATOR))


def test_a_staff_session_survives_an_idle_half_hour_less_a_minute(operator_client, clock):
    clock.advance(29 * MINUTE)

    assert operator_client.get("/admin/").status_code == 200


def test_a_staff_session_ends_after_thirty_idle_minutes(operator_client, clock):
    clock.advance(31 * MINUTE)

    response = operator_client.get("/admin/customers/idtoken/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in operator_client.session
    assert operator_client.get("/admin/").status_code == 302


def test_activity_keeps_a_staff_session_alive_until_its_absolute_end(operator_client, clock):
    for _ in range(28):  # a request every 25 minutes for 11 hours 40 minutes
        clock.advance(25 * MINUTE)
        assert operator_client.get("/admin/").status_code == 200

    clock.advance(21 * MINUTE)  # 12 hours and a minute after sign-in, 21 minutes idle
    response = operator_client.get("/admin/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_session_api_answers_401_once_a_staff_session_has_expired(operator_client, clock):
    clock.advance(31 * MINUTE)

    assert operator_client.get("/api/v1/charge-points/").status_code == 401


def test_drivers_keep_their_portal_session_however_long_they_are_idle(client, db, clock):
    driver = UserFactory()
    client.force_login(driver)
    clock.advance(13 * HOUR)

    client.get("/portal/")

    assert client.session["_auth_user_id"] == str(driver.pk)


def test_the_idle_and_absolute_limits_come_from_the_settings(operator_client, clock, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 5
    clock.advance(6 * MINUTE)

    assert operator_client.get("/admin/").status_code == 302
