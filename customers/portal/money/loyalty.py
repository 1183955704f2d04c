"""Loyalty (holder or fleet manager only): membership plans (join, leave, what the membership saved), the
points balance and history, and promotion codes.

A membership joined today applies to sessions from today, unless the account already charged today: then it
starts tomorrow, so that no session that began before joining is discounted afterwards. Leaving ends it after
today (memberships run from day to day; fees are pro-rated by day)."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from billing.loyalty import membership_end, membership_start, points_balance, promo_code_redeem
from billing.loyalty.memberships import membership_day
from billing.models import MembershipPlan, PromoCode, PromoRedemption
from billing.portal_selectors import membership_current, membership_savings, plans_open_to, points_history
from customers.models import Customer
from customers.portal.access import manager_required
from stations.models import ChargingSession

from .common import page_of


class PromoForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Promotion code"), max_length=32,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}))


def _today() -> date:
    return membership_day(timezone.now())


def _loyalty_context(request: HttpRequest, promo_form: PromoForm | None = None) -> dict:
    customer = request.user.customer
    today = _today()
    return {
        "membership": membership_current(customer, today=today),
        "today": today,
        "plans": [_described(plan) for plan in plans_open_to(customer)],
        "savings": membership_savings(customer),
        "points": points_balance(customer=customer),
        "page": page_of(request, points_history(customer)),
        "promo_form": promo_form or PromoForm(),
        "redemptions": PromoRedemption.objects.filter(customer=customer, cdr__isnull=True)
        .select_related("promo_code").order_by("redeemed_at"),
    }


def _described(plan: MembershipPlan) -> MembershipPlan:
    """Per-kWh discounts keep up to 4 decimals (0.2 -> "0.20", 0.1234 -> "0.1234"), with the currency."""
    if plan.discount_per_kwh is not None:
        places = max(2, len(f"{plan.discount_per_kwh:.4f}".rstrip("0").split(".")[1]))
        plan.discount_text = f"{plan.discount_per_kwh:.{places}f} {plan.monthly_fee.currency}"
    return plan


@require_GET
@manager_required
def loyalty_page(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/money/loyalty.html", _loyalty_context(request))


def join_day(customer: Customer) -> date:
    """Today, unless a session of the account started today (it would be discounted retroactively): tomorrow."""
    today = _today()
    day_start = datetime.combine(today, time(0), tzinfo=timezone.get_current_timezone())
    charged_today = ChargingSession.objects.filter(customer=customer, started_at__gte=day_start).exists()
    return today + timedelta(days=1) if charged_today else today


@require_POST
@manager_required
def membership_join(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    plan_id = request.POST.get("plan", "")
    plan = plans_open_to(customer).filter(pk=int(plan_id)).first() if plan_id.isdigit() else None
    if plan is None:
        messages.error(request, _("Please choose one of the plans shown."))
        return redirect("portal:loyalty")
    starts_on = join_day(customer)
    try:
        membership_start(customer=customer, plan=plan, starts_on=starts_on)
    except ValidationError:
        current = membership_current(customer, today=_today())
        if current is not None:
            messages.error(request, _("You are already a member of %(plan)s. Leave it first to change plans.")
                           % {"plan": current.plan.name})
        else:
            messages.error(request, _("This plan cannot be joined right now. Please contact us."))
        return redirect("portal:loyalty")
    messages.success(request, _("Welcome to %(plan)s! Your membership starts on %(day)s.") % {
        "plan": plan.name, "day": date_format(starts_on, "DATE_FORMAT")})
    return redirect("portal:loyalty")


@require_POST
@manager_required
def membership_leave(request: HttpRequest) -> HttpResponse:
    """Ends the current membership after today; a membership that has not started yet ends after its first
    day (the shortest a membership can be). `stay` takes back a leave that has not taken effect."""
    customer = request.user.customer
    membership = membership_current(customer, today=_today())
    if membership is None:
        raise Http404("No membership to end.")
    stay = request.POST.get("stay") == "1"
    ends_on = None if stay else max(_today(), membership.starts_on) + timedelta(days=1)
    try:
        membership = membership_end(membership=membership, ends_on=ends_on)
    except ValidationError:
        messages.error(request, _("Your membership could not be changed. Please contact us."))
        return redirect("portal:loyalty")
    if stay:
        messages.success(request, _("You stay a member of %(plan)s.") % {"plan": membership.plan.name})
    else:
        last_day = membership.ends_on - timedelta(days=1)
        messages.success(request, _("Your membership of %(plan)s ends after %(day)s.") % {
            "plan": membership.plan.name, "day": date_format(last_day, "DATE_FORMAT")})
    return redirect("portal:loyalty")


@require_POST
@manager_required
def promo_redeem(request: HttpRequest) -> HttpResponse:
    form = PromoForm(request.POST)
    if form.is_valid():
        customer = request.user.customer
        try:
            redemption = promo_code_redeem(customer=customer, code=form.cleaned_data["code"])
        except ValidationError as refusal:
            form.add_error("code", promo_refusal(refusal, form.cleaned_data["code"]))
        else:
            messages.success(request, _("Code %(code)s is saved: it applies to your next charging session.") % {
                "code": redemption.promo_code.code})
            return redirect("portal:loyalty")
    return render(request, "portal/money/loyalty.html", _loyalty_context(request, form), status=400)


def promo_refusal(refusal: ValidationError, code: str) -> str:
    """Why promo_code_redeem refused (its error code: the rule stays in billing), in the driver's words."""
    reason = next((error.code for errors in refusal.error_dict.values() for error in errors), None)
    promo = PromoCode.objects.filter(code__iexact=code.strip()).first()
    if reason == "unknown" or promo is None:
        return _("There is no promotion code “%(code)s”. Please check the spelling.") % {"code": code.strip()}
    if reason == "not_yet_valid":
        return _("This code can be used from %(day)s.") % {
            "day": date_format(timezone.localtime(promo.valid_from), "DATETIME_FORMAT")}
    if reason == "expired":
        return _("This code expired on %(day)s.") % {
            "day": date_format(timezone.localtime(promo.valid_until), "DATETIME_FORMAT")}
    if reason == "currency":
        return _("This code is for payments in %(currency)s.") % {"currency": promo.currency}
    return {
        "closed": _("Your account is closed."),
        "inactive": _("This code is no longer valid."),
        "used_by_customer": _("You have already used this code."),
        "used_up": _("This code has been used up."),
    }.get(reason, _("This code cannot be used right now."))

urlpatterns = [
    path("loyalty/", loyalty_page, name="loyalty"),
    path("loyalty/join/", membership_join, name="membership-join"),
    path("loyalty/leave/", membership_leave, name="membership-leave"),
    path("loyalty/promo/", promo_redeem, name="promo-redeem"),
]
