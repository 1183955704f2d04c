"""Saved payment methods (holder or fleet manager only): the list, adding a card through a Stripe SetupIntent,
choosing the default, removing one.

Adding a card: this server starts a SetupIntent and hands its client secret to Stripe.js, which collects the
card (the number never reaches us) and confirms the SetupIntent in the browser; the browser then posts only
the SetupIntent's id, and `payment_method_save` reads that SetupIntent back from Stripe and checks it belongs
to this customer and succeeded. Nothing the browser says about the card is trusted."""

import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.models import SavedPaymentMethod
from billing.payments import (
    payment_method_detach,
    payment_method_save,
    payment_method_set_default,
    payment_methods_of,
    setup_intent_start,
)
from billing.payments.providers import ProviderError, ProviderUnavailable
from customers.portal.access import manager_required

from .common import cards_configured, provider_trouble

SETUP_INTENT_ID = re.compile(r"^seti_[A-Za-z0-9_]{1,100}$")


def _own_method(request: HttpRequest, pk: int) -> SavedPaymentMethod:
    """A method of the signed-in account; another account's id is a 404, exactly like one that does not exist."""
    method = SavedPaymentMethod.objects.filter(pk=pk, account__customer_id=request.user.customer_id).first()
    if method is None:
        raise Http404("No such payment method.")
    return method


@require_GET
@manager_required
def method_list(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/money/payment_methods.html", {
        "methods": payment_methods_of(customer=request.user.customer),
        "configured": cards_configured(),
    })


@never_cache
@require_http_methods(["GET", "POST"])
@manager_required
def method_add(request: HttpRequest) -> HttpResponse:
    if not cards_configured():
        return render(request, "portal/money/payment_method_add.html", {"configured": False})
    if request.method == "POST":
        return _method_save(request)
    try:
        setup = setup_intent_start(customer=request.user.customer)
    except ValidationError:
        messages.error(request, _("Your account is not active, so no card can be added. Please contact us."))
        return redirect("portal:payment-methods")
    except (ProviderError, ProviderUnavailable) as error:
        messages.error(request, provider_trouble(error))
        return redirect("portal:payment-methods")
    return render(request, "portal/money/payment_method_add.html", {
        "configured": True,
        "client_secret": setup.client_secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "cardholder": request.user.customer.name,
    })


def _method_save(request: HttpRequest) -> HttpResponse:
    setup_intent_id = request.POST.get("setup_intent", "").strip()
    if not SETUP_INTENT_ID.match(setup_intent_id):
        messages.error(request, _("The card form was not completed. Please enter your card again."))
        return redirect("portal:payment-method-add")
    make_default = request.POST.get("make_default") == "on"
    try:
        method = payment_method_save(
            customer=request.user.customer, setup_intent_id=setup_intent_id, make_default=make_default
        )
    except ValidationError:
        messages.error(request, _("Your bank did not confirm the card, so it was not saved. Please try again or "
                                  "use another card."))
        return redirect("portal:payment-method-add")
    except (ProviderError, ProviderUnavailable) as error:
        messages.error(request, provider_trouble(error))
        return redirect("portal:payment-method-add")
    messages.success(request, _("%(method)s was saved.") % {"method": method})
    return redirect("portal:payment-methods")


@require_POST
@manager_required
def method_set_default(request: HttpRequest, pk: int) -> HttpResponse:
    method = payment_method_set_default(method=_own_method(request, pk))
    messages.success(request, _("%(method)s is now your default payment method.") % {"method": method})
    return redirect("portal:payment-methods")


@require_POST
@manager_required
def method_remove(request: HttpRequest, pk: int) -> HttpResponse:
    method = _own_method(request, pk)
    try:
        payment_method_detach(method=method)
    except (ProviderError, ProviderUnavailable) as error:
        messages.error(request, provider_trouble(error))
    else:
        messages.success(request, _("%(method)s was removed.") % {"method": method})
    return redirect("portal:payment-methods")


urlpatterns = [
    path("payments/methods/", method_list, name="payment-methods"),
    path("payments/methods/add/", method_add, name="payment-method-add"),
    path("payments/methods/<int:pk>/default/", method_set_default, name="payment-method-default"),
    path("payments/methods/<int:pk>/remove/", method_remove, name="payment-method-remove"),
]
