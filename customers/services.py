"""Writes to customer accounts and their ID tokens, each validated with the model's full_clean()."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

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
) -> Customer:
    """Opens an account; its number is generated, never chosen."""
    customer = Customer(
        kind=kind, name=name, email=email, phone=phone, address_line1=address_line1,
        address_line2=address_line2, postal_code=postal_code, city=city, country=country, vat_id=vat_id,
        currency=currency, language=language, status=status,
    )
    customer.full_clean()
    customer.save()
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
