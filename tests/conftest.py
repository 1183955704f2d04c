import pytest
from rest_framework.test import APIClient

from tests.factories import StaffUserFactory, UserFactory


@pytest.fixture
def staff_user(db):
    return StaffUserFactory()


@pytest.fixture
def driver_user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def staff_api_client(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client
