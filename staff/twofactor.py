"""Two-factor authentication of staff with django-otp: one TOTP authenticator app per person, enrolled by
scanning a QR code and confirming one code, and ten single-use backup codes shown once. Codes are checked
against one person's devices only, with django-otp's own throttling (each failure doubles the wait)."""

import io

import segno
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.audit import audit_record
from staff.models import AuditEntry

APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10


def has_confirmed_device(user) -> bool:
    return next(devices_for_user(user, confirmed=True), None) is not None


def totp_enrolment_start(*, user) -> TOTPDevice:
    """The person's unconfirmed authenticator device, made once and kept until it is confirmed (so that a
    reload shows the same QR code their app may already hold)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def totp_provisioning_uri(device: TOTPDevice) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code; it carries the secret key."""
    return device.config_url


def totp_qr_svg(device: TOTPDevice) -> str:
    """The QR code of the provisioning URI as inline SVG (made here, never by a third-party service)."""
    out = io.BytesIO()
    segno.make(totp_provisioning_uri(device), error="m").save(out, kind="svg", scale=5, xmldecl=False, svgns=True,
                                                               title=_("QR code for your authenticator app"))
    return out.getvalue().decode()


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret for typing into an app by hand, in groups of four."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def totp_enrolment_confirm(*, user, device: TOTPDevice, code: str) -> list[str]:
    """Confirms the app with one code it shows; older app devices are removed, and a fresh set of backup codes
    is made. Returns the backup codes (the only time they can be read)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(_digits(code)):
        raise ValidationError(_("That code is not right. Check the time on your phone and enter the current code."))
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save()
    codes = _backup_codes_make(user)
    audit_record(actor=user, action=AuditEntry.Action.SECURITY, obj=user, summary="authenticator app enrolled")
    return codes


@transaction.atomic
def backup_codes_replace(*, user) -> list[str]:
    """A new set of backup codes; the old ones stop working."""
    codes = _backup_codes_make(user)
    audit_record(actor=user, action=AuditEntry.Action.SECURITY, obj=user, summary="backup codes replaced")
    return codes


def _backup_codes_make(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def second_factor_verify(*, user, code: str):
    """The device that accepts this code (a used backup code is spent), or None. Each device throttles its own
    failures, so guessing is slowed down per person."""
    code = code.strip().replace(" ", "")
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if not device.verify_is_allowed()[0]:
                continue
            if isinstance(device, TOTPDevice):
                if not (code.isdigit() and len(code) == device.digits):
                    continue  # a backup code: do not count it as a failed app code
                token = code
            else:
                token = code.lower()
            if device.verify_token(token):
                return device
    return None


def _digits(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())



def totp_device_install(*, user, key_hex: str) -> TOTPDevice:
    """A confirmed authenticator with a known key, for the embedded demo only (seed_demo under DEBUG), so that
    its published demo logins work with any authenticator app set up from the printed key. Refused otherwise:
    a key that is written down anywhere is no second factor."""
    from django.conf import settings

    if not settings.DEBUG:
        raise ValidationError("Known authenticator keys are for the embedded demo (DEBUG) only.")
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, name=APP_DEVICE_NAME, defaults={"key": key_hex, "confirmed": True})
    return device
