"""One middleware for staff requests, after authentication and django-otp's OTPMiddleware:

1. the audit scope: changes made while serving the request are attributed to its user, if staff;
2. session expiry for staff (idle and absolute), so that an unattended office browser does not stay signed in;
   drivers keep their long portal sessions;
3. the second factor: staff who have not verified a code this session are sent to enrol or verify before
   anything else (HTML pages), or refused (the session-authenticated API). Token-authenticated API clients
   are machines: they carry no session, DRF authenticates them inside the view, and nothing here applies.
"""

from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from staff import sessions
from staff.audit import acting
from staff.twofactor import has_confirmed_device

API_PREFIX = "/api/"


class StaffSecurityMiddleware:
    sync_capable = async_capable = True  # under ASGI no extra thread hop per request

    def __init__(self, get_response):
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self._is_async:
            return self.__acall__(request)
        with acting(request=request):
            refusal = self._check(request)
            return refusal if refusal is not None else self.get_response(request)

    async def __acall__(self, request):
        # The context variable set here is copied into the thread that runs the (sync) view.
        with acting(request=request):
            refusal = await sync_to_async(self._check, thread_sensitive=True)(request)
            return refusal if refusal is not None else await self.get_response(request)

    def _check(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff:
            return None
        expired = sessions.staff_session_expired(request.session)
        if expired:
            return self._expire(request, expired)
        sessions.staff_session_touch(request.session)
        if settings.STAFF_2FA_REQUIRED and not _verified(user) and not _exempt(request.path):
            return self._second_factor(request, user)
        return None

    def _expire(self, request, reason: str):
        auth.logout(request)
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"detail": _("Your staff session has expired. Sign in again.")}, status=401)
        messages.warning(request, _("You were signed out after %s. Sign in again.") % reason)
        return _redirect("admin:login", request)

    def _second_factor(self, request, user):
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"detail": _("Verify your second factor (sign in to the admin) first.")},
                                status=403)
        return _redirect("staff:2fa-verify" if has_confirmed_device(user) else "staff:2fa-setup", request)


def _verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)  # installed by django-otp's OTPMiddleware
    return bool(is_verified and is_verified())


def _exempt(path: str) -> bool:
    """Pages an unverified staff member may still reach: the 2FA pages, signing out, static files."""
    exempt = (reverse("staff:2fa-setup").rsplit("setup/", 1)[0], reverse("admin:logout"), "/accounts/logout/",
              "/" + settings.STATIC_URL.lstrip("/"), "/healthz", "/i18n/")
    return path.startswith(exempt)


def _redirect(url_name: str, request) -> HttpResponseRedirect:
    target = request.get_full_path() if request.method == "GET" else reverse("admin:index")
    return HttpResponseRedirect(f"{reverse(url_name)}?{urlencode({'next': target})}")
