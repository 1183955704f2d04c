"""The fleet page of a company account (fleet managers only): its drivers, their roles and cards; inviting,
removing and re-assigning. Every id in a URL or a form is looked up within the manager's own company, so another
company's drivers and cards are a 404."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.models import Customer, IdToken, User
from customers.portal.access import manager_required
from customers.services import fleet_card_assign, fleet_driver_invite, fleet_driver_remove, fleet_driver_set_role

from .forms import InviteForm, RoleForm
from .profile import apply_errors


def fleet_manager_required(view):
    """A fleet manager of a company account; a private account has no fleet (404)."""

    @manager_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.user.customer.kind != Customer.Kind.COMPANY:
            raise Http404("A private account has no fleet.")
        return view(request, request.user.customer, *args, **kwargs)

    return wrapper


def _fleet_page(request: HttpRequest, company: Customer, invite_form: InviteForm, status: int = 200) -> HttpResponse:
    cards = IdToken.objects.filter(customer=company)
    people = list(company.users.order_by("last_name", "first_name", "email", "pk")
                  .prefetch_related(Prefetch("tokens", queryset=cards.order_by("pk"), to_attr="cards")))
    return render(request, "portal/account/fleet.html", {
        "company": company, "people": people, "invite_form": invite_form,
        "cards": cards.select_related("user").order_by("user__last_name", "label", "pk"),
        "roles": User.FleetRole.choices,
    }, status=status)


@fleet_manager_required
@require_http_methods(["GET"])
def fleet(request: HttpRequest, company: Customer) -> HttpResponse:
    return _fleet_page(request, company, InviteForm())


@fleet_manager_required
@require_POST
def fleet_invite(request: HttpRequest, company: Customer) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            person = fleet_driver_invite(company=company, invited_by=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s. They choose their password from the e-mail.")
                             % {"email": person.email})
            return redirect("portal:fleet")
    return _fleet_page(request, company, form, status=400)


@fleet_manager_required
@require_POST
def fleet_driver_role(request: HttpRequest, company: Customer, pk: int) -> HttpResponse:
    person = get_object_or_404(company.users, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose driver or fleet manager."))
        return redirect("portal:fleet")
    try:
        fleet_driver_set_role(company=company, user=person, role=form.cleaned_data["role"], changed_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s is now: %(role)s.") % {
            "name": person.get_full_name() or person.email, "role": User.FleetRole(form.cleaned_data["role"]).label})
    return redirect("portal:fleet")


@fleet_manager_required
@require_http_methods(["GET", "POST"])
def fleet_driver_remove_view(request: HttpRequest, company: Customer, pk: int) -> HttpResponse:
    person = get_object_or_404(company.users, pk=pk)
    if request.method == "POST":
        try:
            fleet_driver_remove(company=company, user=person, removed_by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(name)s no longer has access to the company account.") % {
                "name": person.get_full_name() or person.email})
        return redirect("portal:fleet")
    cards = IdToken.objects.filter(customer=company, user=person).order_by("pk")
    return render(request, "portal/account/fleet_remove.html", {"person": person, "cards": cards,
                                                                 "is_self": person.pk == request.user.pk})


@fleet_manager_required
@require_POST
def fleet_card_assign_view(request: HttpRequest, company: Customer, pk: int) -> HttpResponse:
    card = get_object_or_404(IdToken, pk=pk, customer=company)
    driver_id = request.POST.get("driver", "")
    if driver_id and not driver_id.isdigit():
        raise Http404("No such driver.")
    driver = get_object_or_404(company.users, pk=int(driver_id)) if driver_id else None
    try:
        fleet_card_assign(company=company, token=card, user=driver)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        label = card.label or card.visual_number or card.uid
        if driver is None:
            messages.success(request, _("Card %(card)s is no longer assigned to a driver.") % {"card": label})
        else:
            messages.success(request, _("Card %(card)s is now assigned to %(name)s.") % {
                "card": label, "name": driver.get_full_name() or driver.email})
    return redirect("portal:fleet")
