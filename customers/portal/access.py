"""Who may see what in the portal.

A person's account: its one user sees everything of the customer. A company account: the fleet manager sees
everything of the company (all drivers, cards, sessions, invoices); a driver sees only their own cards and the
sessions charged with them, never the company's invoices or payment methods. Every portal view reads through
these functions, so an id changed in a URL or a form finds nothing (404) instead of someone else's data.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from customers.models import Customer, IdToken, User
from stations.models import ChargingSession


def sees_whole_account(user: User) -> bool:
    """The account holder of a private account, or the fleet manager of a company account."""
    customer = user.customer
    if customer is None:
        return False
    return customer.kind == Customer.Kind.PERSON or user.fleet_role == User.FleetRole.MANAGER


def visible_tokens(user: User) -> QuerySet[IdToken]:
    if user.customer_id is None:
        return IdToken.objects.none()
    tokens = IdToken.objects.filter(customer_id=user.customer_id)
    return tokens if sees_whole_account(user) else tokens.filter(user=user)


def visible_sessions(user: User) -> QuerySet[ChargingSession]:
    if user.customer_id is None:
        return ChargingSession.objects.none()
    sessions = ChargingSession.objects.filter(customer_id=user.customer_id)
    return sessions if sees_whole_account(user) else sessions.filter(id_token__user=user)


def customer_required(view):
    """Signed in, with a customer account. A new driver who has verified their e-mail but not yet given
    a billing address is sent to the profile page first and brought back afterwards."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.user.customer_id is None:
            return redirect(reverse("portal:profile") + "?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view):
    """Pages about the whole account (invoices, payment methods, the fleet): holder or fleet manager only.
    A driver of a company account gets a 404, as for anything else that is not theirs."""

    @customer_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not sees_whole_account(request.user):
            raise Http404("Only the account holder or fleet manager can see this page.")
        return view(request, *args, **kwargs)

    return wrapper
