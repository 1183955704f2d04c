"""Two-factor authentication of staff: enrolment at the first sign-in (QR code, one confirming code, backup
codes shown once), a code at every sign-in, the admin, staff pages and session API closed until then, machines
(API tokens) and drivers never asked, and the admin login throttled by django-axes."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from staff.models import AuditEntry
from staff.roles import OPERATOR
from tests.factories import UserFactory
from tests.staff.conftest import confirmed_device, current_code, sign_in_verified, staff_member

PASSWORD = "correct horse battery staple"
SETUP, VERIFY = "/staff/2fa/setup/", "/staff/2fa/verify/"


def _sign_in_with_password(client, user):
    return client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD,
                                                "next": "/admin/"})


@pytest.mark.parametrize("page", ["/admin/", "/stations/live/", "/accounting/", "/admin/customers/idtoken/"])
def test_a_staff_member_without_a_device_is_sent_to_set_one_up(client, db, page):
    client.force_login(staff_member(OPERATOR))

    response = client.get(page)

    assert response.status_code == 302
    assert response["Location"].startswith(SETUP) and "next=" in response["Location"]


def test_a_staff_member_with_a_device_is_asked_for_a_code(client, db):
    user = staff_member(OPERATOR)
    confirmed_device(user)
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_first_sign_in_enrols_an_app_and_shows_backup_codes_once(client, db):
    user = staff_member(OPERATOR)
    assert _sign_in_with_password(client, user).status_code == 302

    page = client.get(SETUP + "?next=/admin/")
    assert page.status_code == 200
    assert "<svg" in page.content.decode() and "otpauth" not in page.content.decode()  # the URI is only in the QR
    device = TOTPDevice.objects.get(user=user, confirmed=False)

    done = client.post(SETUP, {"code": current_code(device), "next": "/admin/"})
    assert done.status_code == 302 and done["Location"].startswith("/staff/2fa/backup-codes/")

    shown = client.get(done["Location"]).content.decode()
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", shown)
    assert len(codes) == 10 and set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    assert not re.findall(r"<li>([a-z2-7]{8})</li>", client.get(done["Location"]).content.decode())
    assert client.get("/admin/").status_code == 200
    assert AuditEntry.objects.filter(actor=user, action="security", summary="authenticator app enrolled").exists()


def test_a_wrong_code_at_enrolment_is_a_form_error_and_confirms_nothing(client, db):
    user = staff_member(OPERATOR)
    client.force_login(user)
    client.get(SETUP)

    response = client.post(SETUP, {"code": "000000"})

    assert response.status_code == 400 and "not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302


def test_the_code_opens_the_admin_and_a_wrong_code_does_not(client, db):
    user = staff_member(OPERATOR)
    device = confirmed_device(user)
    client.force_login(user)

    wrong = client.post(VERIFY, {"code": "123456", "next": "/admin/"})
    assert wrong.status_code == 400
    assert client.get("/admin/").status_code == 302

    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None  # no waiting in a test
    device.save()
    right = client.post(VERIFY, {"code": current_code(device), "next": "/admin/"})
    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_backup_code_works_once(client, db):
    user = staff_member(OPERATOR)
    device = confirmed_device(user)
    static = device.user.staticdevice_set.create(name="Backup codes")
    static.token_set.create(token="abcd2345")
    first, second = Client(), Client()
    first.force_login(user)
    second.force_login(user)

    assert first.post(VERIFY, {"code": "abcd2345"}).status_code == 302
    assert second.post(VERIFY, {"code": "abcd2345"}).status_code == 400


def test_a_password_alone_cannot_replace_the_app(client, db):
    user = staff_member(OPERATOR)
    confirmed_device(user)
    client.force_login(user)

    response = client.get(SETUP)

    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_the_verify_form_is_protected_against_cross_site_posts(db):
    user = staff_member(OPERATOR)
    device = confirmed_device(user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.post(VERIFY, {"code": current_code(device)}).status_code == 403


def test_the_session_authenticated_api_needs_the_second_factor(client, db):
    user = staff_member(OPERATOR)
    client.force_login(user)
    assert client.get("/api/v1/charge-points/").status_code == 403

    sign_in_verified(client, user)
    assert client.get("/api/v1/charge-points/").status_code == 200


def test_api_token_clients_are_machines_and_never_asked_for_a_code(db):
    token = Token.objects.create(user=staff_member(OPERATOR))

    response = Client().get("/api/v1/charge-points/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200


def test_drivers_are_never_asked_for_a_second_factor(client, db):
    client.force_login(UserFactory())

    response = client.get("/admin/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_with_the_requirement_off_staff_go_straight_in(client, db, settings):
    settings.STAFF_2FA_REQUIRED = False
    client.force_login(staff_member(OPERATOR))

    assert client.get("/admin/").status_code == 200


def test_the_admin_login_says_a_code_follows(client, db):
    assert "two-factor-note" in client.get(reverse("admin:login")).content.decode()


def test_the_admin_login_is_throttled_after_repeated_failures(client, db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = staff_member(OPERATOR)
    for _ in range(3):
        client.post(reverse("admin:login"), {"username": user.username, "password": "wrong"})

    locked = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_embedded_demo_may_install_a_known_authenticator_key_but_production_may_not(db, settings):
    from django.core.exceptions import ValidationError

    from staff.twofactor import second_factor_verify, totp_device_install

    user = staff_member(OPERATOR)
    settings.DEBUG = False
    with pytest.raises(ValidationError):
        totp_device_install(user=user, key_hex="3132333435363738393031323334353637383930")
    settings.DEBUG = True
    device = totp_device_install(user=user, key_hex="3132333435363738393031323334353637383930")

    assert second_factor_verify(user=user, code=current_code(device)) == device
