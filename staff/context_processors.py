from django.conf import settings


def security(request) -> dict:
    """Lets the admin login page say whether a second factor follows."""
    return {"staff_2fa_required": settings.STAFF_2FA_REQUIRED}
