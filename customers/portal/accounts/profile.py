"""The account page: the signed-in person's name, and the account's billing details. A new driver (signed up,
e-mail verified, no account yet) opens their account here; a company's driver edits only their own name."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from customers.portal.access import sees_whole_account
from customers.services import customer_create, customer_update, user_profile_update

from .forms import BillingForm, PersonalForm


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return ""


def apply_errors(form, error: ValidationError) -> None:
    """A service's ValidationError, shown beside the field it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _billing_form(request: HttpRequest, data=None) -> BillingForm | None:
    user = request.user
    if user.customer_id is None:
        initial = {"email": user.email, "name": user.get_full_name(), "kind": Customer.Kind.PERSON,
                   "language": translation.get_language()}
        return BillingForm(data, opening=True, initial=initial, prefix="billing")
    if sees_whole_account(user):
        return BillingForm(data, opening=False, instance=Customer.objects.get(pk=user.customer_id), prefix="billing")
    return None  # a company's driver: the company's details are the fleet manager's


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    personal = PersonalForm(instance=request.user, prefix="personal")
    billing = _billing_form(request)
    if request.method == "POST":
        if request.POST.get("form") == "personal":
            personal = PersonalForm(request.POST, instance=request.user, prefix="personal")
            if personal.is_valid():
                user_profile_update(user=request.user, first_name=personal.cleaned_data["first_name"],
                                    last_name=personal.cleaned_data["last_name"])
                messages.success(request, _("Your name is saved."))
                return redirect("portal:profile")
        elif billing is not None:
            billing = _billing_form(request, request.POST)
            response = _save_billing(request, billing)
            if response is not None:
                return response
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/account/profile.html", {
        "personal_form": personal, "billing_form": billing, "customer": request.user.customer,
        "whole_account": sees_whole_account(request.user), "next": _safe_next(request),
    }, status=status)


def _save_billing(request: HttpRequest, form: BillingForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    data = dict(form.cleaned_data)
    try:
        if request.user.customer_id is None:
            customer_create(**data, holder=request.user)
            messages.success(request, _("Your account is open. Welcome!"))
            destination = "portal:home"
        else:
            customer_update(customer=Customer.objects.get(pk=request.user.customer_id), data=data)
            messages.success(request, _("Your billing details are saved."))
            destination = "portal:profile"
    except ValidationError as error:
        apply_errors(form, error)
        return None
    translation.activate(data["language"])
    response = redirect(_safe_next(request) or destination)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, data["language"], max_age=settings.LANGUAGE_COOKIE_AGE,
                        samesite="Lax", secure=request.is_secure())
    return response
