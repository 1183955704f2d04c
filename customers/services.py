"""Writes to customer accounts, the people who sign in for them (a company's fleet) and their ID tokens, each
validated with the model's full_clean()."""

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from customers.models import Customer, IdToken, User


def _assign(obj: Customer | IdToken, data: Mapping[str, Any]) -> None:
    for field, value in data.items():
        setattr(obj, field, value)


@transaction.atomic
def customer_create(
    *,
    name: str,
    email: str,
    address_line1: str,
    postal_code: str,
    city: str,
    country: str,
    kind: str = Customer.Kind.PERSON,
    phone: str = "",
    address_line2: str = "",
    vat_id: str = "",
    currency: str = settings.DEFAULT_CURRENCY,
    language: str = "en",
    status: str = Customer.Status.ACTIVE,
    holder: User | None = None,
) -> Customer:
    """Opens an account; its number is generated, never chosen. With `holder`, the signed-in person who opened
    it is linked to it (as fleet manager of a company account); they must not belong to an account yet."""
    if holder is not None:
        holder = User.objects.select_for_update().get(pk=holder.pk)
        if holder.customer_id is not None:
            raise ValidationError(_("You already have a customer account."))
    customer = Customer(
        kind=kind, name=name, email=email, phone=phone, address_line1=address_line1,
        address_line2=address_line2, postal_code=postal_code, city=city, country=country, vat_id=vat_id,
        currency=currency, language=language, status=status,
    )
    customer.full_clean()
    customer.save()
    if holder is not None:
        holder.customer = customer
        holder.fleet_role = User.FleetRole.MANAGER if kind == Customer.Kind.COMPANY else User.FleetRole.DRIVER
        holder.save(update_fields=["customer", "fleet_role"])
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, data: Mapping[str, Any]) -> Customer:
    _assign(customer, data)
    customer.full_clean()
    customer.save()
    return customer


@transaction.atomic
def id_token_create(
    *,
    uid: str,
    customer: Customer,
    type: str = IdToken.Type.ISO14443,
    visual_number: str = "",
    contract_id: str = "",
    status: str = IdToken.Status.VALID,
    expires_at: datetime | None = None,
    group_id: str = "",
    user: User | None = None,
    label: str = "",
) -> IdToken:
    id_token = IdToken(
        uid=uid, customer=customer, type=type, visual_number=visual_number, contract_id=contract_id,
        status=status, expires_at=expires_at, group_id=group_id, user=user, label=label,
    )
    id_token.full_clean()
    id_token.save()
    return id_token


@transaction.atomic
def id_token_update(*, id_token: IdToken, data: Mapping[str, Any]) -> IdToken:
    _assign(id_token, data)
    id_token.full_clean()
    id_token.save()
    return id_token


@transaction.atomic
def user_profile_update(*, user: User, first_name: str, last_name: str) -> User:
    """A person's own name; e-mail addresses and the password are allauth's (verified changes)."""
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["first_name", "last_name"])
    return user


# --- a company's fleet: the people who drive for it and the cards they carry ---------------------------------
def _fleet_member(company: Customer, user: User) -> User:
    """The user, locked, if they belong to the company; anyone else is refused (never silently changed)."""
    member = User.objects.select_for_update().filter(pk=user.pk, customer=company).first()
    if member is None or company.kind != Customer.Kind.COMPANY:
        raise ValidationError(_("This person is not a driver of your company."))
    return member


def _refuse_self(member: User, by: User, message: str) -> None:
    if member.pk == by.pk:
        raise ValidationError(message)


@transaction.atomic
def fleet_driver_invite(
    *,
    company: Customer,
    invited_by: User,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = User.FleetRole.DRIVER,
    request: HttpRequest,
) -> User:
    """Adds a person to the company's fleet and e-mails them a link to choose their password.

    The address counts as verified: the fleet manager vouches for it, and only its owner receives the link
    that makes the login usable. An address that already has a login is refused: people are never moved
    between accounts without their consent.
    """
    from allauth.account.adapter import get_adapter
    from allauth.account.models import EmailAddress

    if company.kind != Customer.Kind.COMPANY or _fleet_member(company, invited_by).fleet_role != User.FleetRole.MANAGER:
        raise ValidationError(_("Only a fleet manager of a company account can invite drivers."))
    email = email.strip()
    if User.objects.filter(email__iexact=email).exists() or EmailAddress.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("This e-mail address already has a login. Ask the person to use another "
                                          "address, or contact support to move their login to your company.")})
    user = User(
        username=get_adapter(request).generate_unique_username([first_name, last_name, email, "driver"]), email=email,
        first_name=first_name.strip(), last_name=last_name.strip(), customer=company, fleet_role=role,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    transaction.on_commit(partial(_send_fleet_invitation, request, user, company, invited_by))
    return user


def _send_fleet_invitation(request: HttpRequest, user: User, company: Customer, invited_by: User) -> None:
    from allauth.account import app_settings as allauth_settings
    from allauth.account.adapter import get_adapter
    from allauth.account.utils import user_pk_to_url_str
    from allauth.core.context import request_context

    # allauth builds absolute links from the request it is given through its context (set by its middleware
    # while the request runs; set here too, as commit hooks may run after that).
    with request_context(request):
        adapter = get_adapter(request)
        token = allauth_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)
        url = adapter.get_reset_password_from_key_url(f"{user_pk_to_url_str(user)}-{token}")
        context = {"user": user, "company": company, "invited_by": invited_by, "password_set_url": url,
                   "request": request}
        adapter.render_mail("account/email/fleet_invitation", user.email, context).send()


@transaction.atomic
def fleet_driver_set_role(*, company: Customer, user: User, role: str, changed_by: User) -> User:
    """Makes a driver a fleet manager or back. Nobody changes their own role: a company always keeps the
    manager who is acting, so it cannot end up without one."""
    member = _fleet_member(company, user)
    _refuse_self(member, changed_by, _("You cannot change your own role; ask another fleet manager."))
    if role not in User.FleetRole.values:
        raise ValidationError({"role": _("Choose driver or fleet manager.")})
    member.fleet_role = role
    member.save(update_fields=["fleet_role"])
    return member


@transaction.atomic
def fleet_driver_remove(*, company: Customer, user: User, removed_by: User) -> User:
    """The person no longer drives for the company: their login loses access to it at once (they can still
    sign in and open an account of their own), and their cards stay with the company, unassigned."""
    member = _fleet_member(company, user)
    _refuse_self(member, removed_by, _("You cannot remove yourself; ask another fleet manager."))
    IdToken.objects.filter(customer=company, user=member).update(user=None)
    member.customer, member.fleet_role = None, User.FleetRole.DRIVER
    member.save(update_fields=["customer", "fleet_role"])
    return member


@transaction.atomic
def fleet_card_assign(*, company: Customer, token: IdToken, user: User | None) -> IdToken:
    """Gives a company card to one of its drivers (or takes it back: `user=None`)."""
    token = IdToken.objects.select_for_update().filter(pk=token.pk, customer=company).first()
    if token is None:
        raise ValidationError(_("This card does not belong to your company."))
    if user is not None:
        user = _fleet_member(company, user)
    return id_token_update(id_token=token, data={"user": user})
