"""How django-axes names the account a login attempt is for, whichever login form sent it.

allauth's e-mail login authenticates with `email=...`, the admin's form with `username=...`; when axes builds
its lockout answer outside the authentication call it only has the POST data (`login` or `username`). The name
is lower-cased because e-mail addresses are matched case-insensitively: a different spelling must not buy an
attacker a fresh set of attempts.
"""

from django.http import HttpRequest


def axes_username(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """The account an attempt is for. allauth's POSTed `login` comes before a `username` credential: after a
    successful e-mail login axes asks with the user's internal username, and the count to reset is the e-mail's."""
    credentials = credentials or {}
    posted = getattr(request, "POST", None) or {}
    for value in (credentials.get("email"), posted.get("login"), credentials.get("username"), posted.get("username")):
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return None
