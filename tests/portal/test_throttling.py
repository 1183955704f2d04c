"""Login throttling with django-axes: per account and address, through allauth's e-mail login and the admin's
username login; a lockout is a clear portal page (HTTP 429), never a server error."""

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import StaffUserFactory, UserFactory

RIGHT = "correct horse battery staple"


@pytest.fixture(autouse=True)
def clean_counters(settings):
    settings.AXES_FAILURE_LIMIT = 5
    cache.clear()


def verified_driver(email: str):
    user = UserFactory(email=email)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def sign_in(client: Client, login: str, password: str):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def test_five_wrong_passwords_lock_the_sixth_attempt_even_with_the_right_password(db):
    verified_driver("anna@example.com")
    client = Client()
    answers = [sign_in(client, "anna@example.com", "wrong").status_code for _ in range(4)]
    assert answers == [200] * 4  # the form again, with its error

    fifth = sign_in(client, "anna@example.com", "wrong")
    sixth = sign_in(client, "anna@example.com", RIGHT)

    assert fifth.status_code == 429
    assert sixth.status_code == 429
    assert "Too many sign-in attempts" in sixth.content.decode()
    assert "portal/portal.css" in sixth.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_for_any_spelling_of_the_address(db):
    verified_driver("anna@example.com")
    client = Client()
    for login in ["anna@example.com", "ANNA@example.com", "Anna@Example.com", "anna@EXAMPLE.com", "anna@example.COM"]:
        sign_in(client, login, "wrong")
    assert sign_in(client, "anna@example.com", RIGHT).status_code == 429
    assert AccessAttempt.objects.get().username == "anna@example.com"


def test_another_account_from_the_same_address_is_not_locked(db):
    verified_driver("anna@example.com")
    verified_driver("ben@example.com")
    client = Client()
    for _ in range(5):
        sign_in(client, "anna@example.com", "wrong")

    response = sign_in(client, "ben@example.com", RIGHT)

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_a_successful_sign_in_resets_the_count(db):
    verified_driver("anna@example.com")
    client = Client()
    for _ in range(4):
        sign_in(client, "anna@example.com", "wrong")
    assert sign_in(client, "anna@example.com", RIGHT).status_code == 302
    client.post(reverse("account_logout"))

    for _ in range(4):
        assert sign_in(client, "anna@example.com", "wrong").status_code == 200
    assert sign_in(client, "anna@example.com", RIGHT).status_code == 302


def test_the_admin_login_is_throttled_too(db):
    staff = StaffUserFactory(username="operator")
    client = Client()
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": staff.username, "password": "wrong"})

    response = client.post(url, {"username": staff.username, "password": RIGHT})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_says_when_to_try_again(db, settings):
    settings.AXES_COOLOFF_TIME = 0.25
    verified_driver("anna@example.com")
    client = Client()
    for _ in range(5):
        response = sign_in(client, "anna@example.com", "wrong")
    assert "Try again in 15 minutes." in response.content.decode()
