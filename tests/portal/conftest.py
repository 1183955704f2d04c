"""Portal fixtures: a private driver, a company with a fleet manager and a driver, and signed-in clients."""

from dataclasses import dataclass

import pytest
from django.test import Client

from customers.models import Customer, User
from tests.factories import CustomerFactory, UserFactory


@dataclass
class Fleet:
    company: Customer
    manager: User
    driver: User


@pytest.fixture
def person(db) -> User:
    """A driver with a private account (they see everything of it)."""
    customer = CustomerFactory(kind=Customer.Kind.PERSON)
    return UserFactory(customer=customer, email=customer.email)


@pytest.fixture
def other_person(db) -> User:
    """Someone else's account, for the tests that must never see it."""
    customer = CustomerFactory(kind=Customer.Kind.PERSON)
    return UserFactory(customer=customer, email=customer.email)


@pytest.fixture
def fleet(db) -> Fleet:
    company = CustomerFactory(kind=Customer.Kind.COMPANY, name="Rheinfracht GmbH", vat_id="DE123456789")
    return Fleet(
        company=company,
        manager=UserFactory(customer=company, fleet_role=User.FleetRole.MANAGER),
        driver=UserFactory(customer=company, fleet_role=User.FleetRole.DRIVER),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def person_client(person) -> Client:
    return signed_in(person)
