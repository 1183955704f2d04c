"""Customer and token invariants: formats drivers and accountants rely on."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, IdToken
from tests.factories import CustomerFactory, IdTokenFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_customer_gets_its_own_account_number():
    numbers = {CustomerFactory().number for _ in range(20)}

    assert len(numbers) == 20
    assert all(n.startswith("C") and len(n) == 10 for n in numbers)


@pytest.mark.parametrize(
    ("country", "vat_id", "ok"),
    [("DE", "DE123456789", True), ("AT", "ATU12345678", True), ("GR", "EL123456789", True),
     ("DE", "AT123456789", False), ("DE", "123456789", False)],
)
def test_vat_id_must_carry_the_customer_countrys_prefix(country, vat_id, ok):
    customer = CustomerFactory.build(kind=Customer.Kind.COMPANY, country=country, vat_id=vat_id)

    if ok:
        customer.full_clean()
    else:
        with pytest.raises(ValidationError) as excinfo:
            customer.full_clean()
        assert "vat_id" in excinfo.value.message_dict


def test_vat_id_is_normalised_before_validation():
    customer = CustomerFactory.build(country="DE", vat_id="de 123-456-789")

    customer.full_clean()

    assert customer.vat_id == "DE123456789"


def test_token_uid_is_unique_across_the_network():
    IdTokenFactory(uid="04A2B3C4D5E6F7")

    with pytest.raises(IntegrityError), transaction.atomic():
        IdTokenFactory(uid="04A2B3C4D5E6F7")


@pytest.mark.parametrize("contract_id", ["DE-EVB-C12345678-9", "DEEVBC123456789", "NL-TNM-012204-5"])
def test_contract_id_must_be_an_emaid(contract_id):
    token = IdTokenFactory.build(customer=CustomerFactory(), contract_id=contract_id)

    if contract_id == "NL-TNM-012204-5":
        with pytest.raises(ValidationError):
            token.full_clean()
    else:
        token.full_clean()


def test_token_is_usable_only_while_valid_unexpired_and_owned_by_an_active_customer():
    now = timezone.now()
    token = IdTokenFactory()
    assert token.is_usable_at(now)

    token.expires_at = now - timedelta(seconds=1)
    assert not token.is_usable_at(now)

    token.expires_at = None
    token.status = IdToken.Status.BLOCKED
    assert not token.is_usable_at(now)

    token.status = IdToken.Status.VALID
    token.customer.status = Customer.Status.SUSPENDED
    assert not token.is_usable_at(now)


def test_two_users_cannot_share_an_email_address_in_any_case():
    UserFactory(email="Driver@Example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="driver@example.COM")
