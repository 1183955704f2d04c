"""Signing in, in a real browser: a driver who mistypes the password is told so and can try again; after too many
wrong passwords for one address the sign-in is locked (django-axes), even for the right password."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.urls import reverse

from tests.browser.checks import assert_page_is_usable
from tests.browser.remote import expect
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def sign_in_attempt(page, email: str, password: str):
    page.goto(reverse("account_login"))
    page.get_by_label(re.compile(r"e-?mail", re.I)).fill(email)
    page.get_by_label(re.compile(r"^password:?$", re.I)).fill(password)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=re.compile(r"^sign in$", re.I)).click()
    return answer.value


@pytest.fixture
def driver(portal_server):
    customer = CustomerFactory()
    user = UserFactory(customer=customer, email=customer.email)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def test_a_wrong_password_is_refused_with_a_message_and_the_right_one_signs_in(phone, driver, screenshots):
    refused = sign_in_attempt(phone, driver.email, "not my password")

    assert refused.status == 200
    expect(phone.get_by_role("alert").or_(phone.locator(".errorlist")).first).to_contain_text(
        re.compile(r"not correct|incorrect|invalid", re.I))
    assert_page_is_usable(phone)
    screenshots(phone, "refused")
    sign_in_attempt(phone, driver.email, PASSWORD)
    expect(phone).to_have_url(re.compile(re.escape(reverse("portal:home")) + "$"))


def test_sign_in_is_locked_after_too_many_wrong_passwords_even_with_the_right_one(phone, driver, screenshots):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in_attempt(phone, driver.email, "guessing wrong")

    locked = sign_in_attempt(phone, driver.email, PASSWORD)

    assert locked.status == 429
    expect(phone.get_by_role("heading", level=1)).to_contain_text(re.compile(r"locked|too many", re.I))
    assert_page_is_usable(phone)
    screenshots(phone, "locked")
    phone.goto(reverse("portal:home"))
    expect(phone).to_have_url(re.compile(re.escape(reverse("account_login"))))
