import pytest
from django.contrib.auth.models import Group
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def staff_second_factor(settings):
    """Overrides the suite-wide fixture: here staff must verify a second factor, as in production."""
    settings.STAFF_2FA_REQUIRED = True


def staff_member(role: str | None = None, **fields):
    """An active staff user in the role group `role` (Operators, Support, Accountants, Administrators)."""
    user = UserFactory(is_staff=True, **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def sign_in_verified(client, user):
    """Signed in with password and second factor, as after the 2FA page (without going through it)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or confirmed_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
