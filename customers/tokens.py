"""Token services of the driver portal: link a card from stock by its printed number and activation code,
order a card, label a card, block a lost card (and push the block to stations that hold it in their local
list), and the per-driver app token the portal starts sessions with.

Blocking for loss is final for the driver: only staff can reinstate a card (in the admin), because a found card
may have been copied in the meantime.
"""

from __future__ import annotations

import logging
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import CardOrder, CardStock, Customer, IdToken, User
from customers.services import id_token_create, id_token_update

logger = logging.getLogger(__name__)

#: Failed link attempts per user before linking is refused for LINK_FAILURE_WINDOW_S: a printed number and a
#: six-character code cannot be found by trying.
LINK_FAILURE_LIMIT = 5
LINK_FAILURE_WINDOW_S = 15 * 60
APP_TOKEN_PREFIX = "APP"  # OCPP 1.6 idTags are at most 20 characters: "APP" and 16 hex digits
ACTIVATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a card carrier
ACTIVATION_CODE_LENGTH = 8


class CardLinkRefused(Exception):
    """The number and code do not name a card that can be linked; one message for every reason, so that
    card numbers cannot be probed."""

    message = _("That printed number and activation code do not match a card that can be linked. "
                "Check both and try again.")


class CardLinkThrottled(Exception):
    message = _("Too many attempts. Please wait 15 minutes before trying again.")


# --- stock (staff) ----------------------------------------------------------------------------------------
def activation_code_new() -> str:
    return "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_CODE_LENGTH))


def normalise_code(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def normalise_visual_number(value: str) -> str:
    return " ".join((value or "").split()).upper()


@transaction.atomic
def card_stock_create(*, uid: str, visual_number: str, type: str = IdToken.Type.ISO14443) -> tuple[CardStock, str]:
    """A produced card; returns it with its activation code in clear, which is shown once and never stored."""
    code = activation_code_new()
    card = CardStock(uid=uid.strip().upper(), visual_number=normalise_visual_number(visual_number), type=type,
                     activation_code_hash=make_password(code))
    card.full_clean()
    card.save()
    return card, code


@transaction.atomic
def card_stock_new_code(*, card: CardStock) -> str:
    """A new activation code for a card not linked yet (a carrier lost in the post); shown once."""
    card = CardStock.objects.select_for_update().get(pk=card.pk)
    if card.linked_token_id is not None:
        raise ValueError(f"Card {card.visual_number} is linked already.")
    code = activation_code_new()
    card.activation_code_hash = make_password(code)
    card.save(update_fields=["activation_code_hash"])
    return code


# --- linking a card ---------------------------------------------------------------------------------------
def _failure_key(user: User) -> str:
    return f"portal:card-link-failures:{user.pk}"


def token_link_by_printed_number(*, user: User, visual_number: str, activation_code: str,
                                 driver: User | None = None, label: str = "") -> IdToken:
    """Link a stock card to the user's account, carried by `driver` (default: the user; a fleet manager may
    name a driver of the company). Raises CardLinkThrottled or CardLinkRefused."""
    if user.customer_id is None:
        raise CardLinkRefused
    if cache.get(_failure_key(user), 0) >= LINK_FAILURE_LIMIT:
        raise CardLinkThrottled
    driver = driver or user
    if driver.customer_id != user.customer_id:
        raise CardLinkRefused
    try:
        return _link(user=user, driver=driver, visual_number=normalise_visual_number(visual_number),
                     code=normalise_code(activation_code), label=label)
    except CardLinkRefused:
        _count_failure(user)
        raise


def _count_failure(user: User) -> None:
    key = _failure_key(user)
    if not cache.add(key, 1, LINK_FAILURE_WINDOW_S):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, LINK_FAILURE_WINDOW_S)
    logger.info("Card link refused for user %s", user.pk)


@transaction.atomic
def _link(*, user: User, driver: User, visual_number: str, code: str, label: str) -> IdToken:
    card = CardStock.objects.select_for_update().filter(visual_number=visual_number).first()
    if card is None:
        make_password(code)  # the same work as a real check: the answer time does not tell numbers apart
        raise CardLinkRefused
    if not check_password(code, card.activation_code_hash) or card.linked_token_id is not None:
        raise CardLinkRefused
    if IdToken.objects.filter(uid=card.uid).exists():
        raise CardLinkRefused
    token = id_token_create(uid=card.uid, type=card.type, visual_number=card.visual_number,
                            customer=Customer.objects.get(pk=user.customer_id), user=driver, label=label[:100])
    card.linked_token, card.linked_at = token, timezone.now()
    card.save(update_fields=["linked_token", "linked_at"])
    cache.delete(_failure_key(user))
    return token


# --- ordering, labelling, blocking ------------------------------------------------------------------------
@transaction.atomic
def card_order_create(*, user: User, recipient: str, address_line1: str, postal_code: str, city: str,
                      country: str, address_line2: str = "") -> CardOrder:
    order = CardOrder(customer_id=user.customer_id, user=user, recipient=recipient, address_line1=address_line1,
                      address_line2=address_line2, postal_code=postal_code, city=city, country=country)
    order.full_clean()
    order.save()
    return order


@transaction.atomic
def card_order_mark_sent(*, order: CardOrder, card: CardStock) -> CardOrder:
    """Staff sent `card` for `order`: the driver links it with its printed number and activation code."""
    order = CardOrder.objects.select_for_update().get(pk=order.pk)
    if order.state != CardOrder.State.REQUESTED:
        raise ValueError(f"Order {order.pk} is {order.state}, not requested.")
    if card.linked_token_id is not None or CardOrder.objects.filter(card=card).exclude(pk=order.pk).exists():
        raise ValueError(f"Card {card.visual_number} is already linked or sent for another order.")
    order.card, order.state = card, CardOrder.State.SENT
    order.save(update_fields=["card", "state", "updated_at"])
    return order


@transaction.atomic
def token_label(*, token: IdToken, label: str) -> IdToken:
    return id_token_update(id_token=token, data={"label": label.strip()[:100]})


def token_block(*, token: IdToken, requested_by: User | None = None) -> IdToken:
    """Block a lost card at once: the next Authorize answers Blocked, and every connected station whose local
    authorisation list holds the card is sent a differential SendLocalList marking it Blocked (after commit).
    Blocking a blocked card changes nothing."""
    from stations.commands import command_request
    from stations.models import ChargePoint

    with transaction.atomic():
        token = IdToken.objects.select_for_update().get(pk=token.pk)
        if token.status == IdToken.Status.BLOCKED:
            return token
        token = id_token_update(id_token=token, data={"status": IdToken.Status.BLOCKED})
        holding = ChargePoint.objects.filter(local_list__id_tag=token.uid).distinct().order_by("pk")
        for station in holding:
            entry = {"idTag": token.uid, "idTagInfo": {"status": "Blocked",
                                                       **({"parentIdTag": token.group_id} if token.group_id else {})}}
            command_request(charge_point=station, action="SendLocalList", requested_by=requested_by, payload={
                "listVersion": station.local_list_version + 1, "updateType": "Differential",
                "localAuthorizationList": [entry]})
    return token


# --- the app token ----------------------------------------------------------------------------------------
@transaction.atomic
def app_token_for(*, user: User) -> IdToken:
    """The Central token the portal starts this driver's sessions with ("the app"), created on first use.
    One per driver, so that a fleet driver sees the sessions they started from the app as their own."""
    Customer.objects.select_for_update().filter(pk=user.customer_id).first()  # one creation per account at a time
    existing = (IdToken.objects.filter(customer_id=user.customer_id, user=user, type=IdToken.Type.CENTRAL,
                                       uid__startswith=APP_TOKEN_PREFIX).order_by("pk").first())
    if existing is not None:
        return existing
    return id_token_create(uid=f"{APP_TOKEN_PREFIX}{secrets.token_hex(8).upper()}", type=IdToken.Type.CENTRAL,
                           customer=Customer.objects.get(pk=user.customer_id), user=user, label="App")
