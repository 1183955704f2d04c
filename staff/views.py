"""The staff two-factor pages: enrol an authenticator app (first sign-in), verify a code (every sign-in), and
backup codes (shown once). StaffSecurityMiddleware sends unverified staff here before anything else."""

import functools

import django_otp
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from staff import twofactor
from staff.audit import audit_record
from staff.forms import CodeForm
from staff.models import AuditEntry

CODES_SESSION_KEY = "staff_backup_codes_once"


def _staff_signed_in(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_active and request.user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)
    return never_cache(wrapper)


def _verified(request) -> bool:
    return bool(getattr(request.user, "is_verified", None) and request.user.is_verified())


def _page(request, template: str, context: dict, status: int = 200):
    """The admin's look, without its navigation: nothing behind these pages is open yet."""
    site = {"site_header": admin.site.site_header, "site_title": admin.site.site_title}
    return render(request, template, site | context, status=status)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return reverse("admin:index")


def _signed_in_with(request, device) -> None:
    """The session now carries the verified device; a new session key, so a key seen before is worthless."""
    request.session.cycle_key()
    django_otp.login(request, device)


@require_http_methods(["GET", "POST"])
@_staff_signed_in
def setup_view(request):
    user = request.user
    if twofactor.has_confirmed_device(user) and not _verified(request):
        # Replacing the app needs the current one: a password alone must not be enough to take over the account.
        return redirect(f"{reverse('staff:2fa-verify')}?next={reverse('staff:2fa-setup')}")
    device = twofactor.totp_enrolment_start(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.totp_enrolment_confirm(user=user, device=device, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            device.refresh_from_db()
            _signed_in_with(request, device)
            request.session[CODES_SESSION_KEY] = codes
            return redirect(f"{reverse('staff:2fa-backup-codes')}?next={_next_url(request)}")
    context = {"title": _("Set up two-factor authentication"), "form": form, "next": _next_url(request),
               "qr_svg": twofactor.totp_qr_svg(device), "secret": twofactor.totp_secret_base32(device),
               "replacing": twofactor.has_confirmed_device(user)}
    return _page(request, "staff/2fa_setup.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@_staff_signed_in
def verify_view(request):
    user = request.user
    if not twofactor.has_confirmed_device(user):
        return redirect(f"{reverse('staff:2fa-setup')}?next={_next_url(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.second_factor_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            _signed_in_with(request, device)
            audit_record(actor=user, action=AuditEntry.Action.LOGIN, obj=user, request=request,
                         summary="second factor verified")
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not right, or too many wrong codes were tried: wait a moment."))
    context = {"title": _("Two-factor verification"), "form": form, "next": _next_url(request)}
    return _page(request, "staff/2fa_verify.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@_staff_signed_in
def backup_codes_view(request):
    if not _verified(request):
        return redirect(f"{reverse('staff:2fa-verify')}?next={request.path}")
    if request.method == "POST":
        codes = twofactor.backup_codes_replace(user=request.user)
    else:
        codes = request.session.pop(CODES_SESSION_KEY, None)
    context = {"title": _("Backup codes"), "codes": codes, "next": _next_url(request)}
    return _page(request, "staff/2fa_backup_codes.html", context)
