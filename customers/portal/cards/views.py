"""Portal pages for RFID cards: the list, link a card by its printed number and activation code, order a
card, name a card, block a lost card. Every card is reached through visible_tokens: another account's card,
or a colleague's for a fleet driver, is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.models import CardOrder, IdToken, User
from customers.portal.access import customer_required, sees_whole_account, visible_tokens
from customers.tokens import (
    APP_TOKEN_PREFIX,
    CardLinkRefused,
    CardLinkThrottled,
    card_order_create,
    token_block,
    token_label,
    token_link_by_printed_number,
)

from .forms import CardBlockForm, CardLabelForm, CardLinkForm, CardOrderForm


def cards_of(user: User):
    """The user's visible RFID cards (the app token is not a card: it is managed by the portal)."""
    return (visible_tokens(user).exclude(type=IdToken.Type.CENTRAL, uid__startswith=APP_TOKEN_PREFIX)
            .select_related("user").order_by("status", "label", "visual_number", "uid"))


def _card_or_404(user: User, pk: int) -> IdToken:
    card = cards_of(user).filter(pk=pk).first()
    if card is None:
        raise Http404("No such card.")
    return card


def _drivers(user: User):
    """Whom a fleet manager may link a card for; None for everyone else (the card is theirs)."""
    if user.customer.kind != user.customer.Kind.COMPANY or not sees_whole_account(user):
        return None
    return User.objects.filter(customer_id=user.customer_id, is_active=True).order_by("first_name", "last_name",
                                                                                      "email")


def _orders_of(user: User):
    orders = CardOrder.objects.filter(customer_id=user.customer_id).exclude(state=CardOrder.State.CANCELLED)
    return orders if sees_whole_account(user) else orders.filter(user=user)


@customer_required
@require_GET
def card_list(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/cards/list.html", {
        "cards": cards_of(request.user), "whole_account": sees_whole_account(request.user),
        "orders": _orders_of(request.user).select_related("card")[:10],
        "link_form": CardLinkForm(drivers=_drivers(request.user)),
    })


@customer_required
@require_POST
def card_link(request: HttpRequest) -> HttpResponse:
    form = CardLinkForm(request.POST, drivers=_drivers(request.user))
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            card = token_link_by_printed_number(user=request.user, visual_number=data["visual_number"],
                                                activation_code=data["activation_code"],
                                                driver=data.get("driver"), label=data["label"])
        except CardLinkThrottled as refusal:
            form.add_error(None, refusal.message)
            status = 429
        except CardLinkRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Your card %(number)s is ready to charge.") % {"number": card.visual_number})
            return redirect("portal:cards")
    return render(request, "portal/cards/list.html", {
        "cards": cards_of(request.user), "whole_account": sees_whole_account(request.user),
        "orders": _orders_of(request.user).select_related("card")[:10], "link_form": form,
    }, status=status)


@customer_required
@require_http_methods(["GET", "POST"])
def card_order(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    if request.method == "POST":
        form = CardOrderForm(request.POST)
        if form.is_valid():
            card_order_create(user=request.user, **form.cleaned_data)
            messages.success(request, _("Thank you: your card is on its way. When it arrives, link it here with "
                                        "its printed number and activation code."))
            return redirect("portal:cards")
    else:
        form = CardOrderForm(initial={
            "recipient": request.user.get_full_name() or customer.name, "address_line1": customer.address_line1,
            "address_line2": customer.address_line2, "postal_code": customer.postal_code, "city": customer.city,
            "country": str(customer.country),
        })
    return render(request, "portal/cards/order.html", {"form": form}, status=400 if form.errors else 200)


@customer_required
@require_GET
def card_detail(request: HttpRequest, pk: int) -> HttpResponse:
    card = _card_or_404(request.user, pk)
    return render(request, "portal/cards/detail.html", {
        "card": card, "label_form": CardLabelForm(initial={"label": card.label}), "block_form": CardBlockForm(),
        "whole_account": sees_whole_account(request.user),
    })


@customer_required
@require_POST
def card_label(request: HttpRequest, pk: int) -> HttpResponse:
    card = _card_or_404(request.user, pk)
    form = CardLabelForm(request.POST)
    if form.is_valid():
        token_label(token=card, label=form.cleaned_data["label"])
        messages.success(request, _("The card's name was saved."))
        return redirect("portal:card", pk=card.pk)
    return render(request, "portal/cards/detail.html", {
        "card": card, "label_form": form, "block_form": CardBlockForm(),
        "whole_account": sees_whole_account(request.user)}, status=400)


@customer_required
@require_POST
def card_block(request: HttpRequest, pk: int) -> HttpResponse:
    card = _card_or_404(request.user, pk)
    form = CardBlockForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/cards/detail.html", {
            "card": card, "label_form": CardLabelForm(initial={"label": card.label}), "block_form": form,
            "whole_account": sees_whole_account(request.user)}, status=400)
    if card.status != IdToken.Status.BLOCKED:
        token_block(token=card, requested_by=request.user)
        messages.success(request, _("The card is blocked. It can no longer start charging anywhere."))
    return redirect("portal:card", pk=card.pk)
