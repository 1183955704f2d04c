"""Fixtures and steps of the operator browser tests (test_operator_dashboard.py): staff members in their role
groups with a confirmed authenticator app, signed in through the real admin login and the second-factor page,
with the second factor required as in production; and how to read the station view.

The live server (tests/browser/conftest.py: `portal_server`) runs in a thread of the test process, so the
`settings` fixture reaches it: the `operator` and `accountant` fixtures turn STAFF_2FA_REQUIRED back on.
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.models import User
from staff.roles import ACCOUNTANT, OPERATOR, roles_ensure
from tests.browser.remote import Remote, expect
from tests.factories import UserFactory

STAFF_PASSWORD = "Schaltschrank-Gruen-7!"


@dataclass
class StaffMember:
    """A staff user, their password and their authenticator app (the TOTP device whose key the test knows)."""

    user: User
    password: str
    device: TOTPDevice

    def current_code(self) -> str:
        """The code the authenticator app shows now, computed from the device's key like any TOTP app."""
        device = self.device
        return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


@pytest.fixture
def operator(settings, portal_server) -> StaffMember:
    """An Operators member with an authenticator app; staff must use it on this live server."""
    return enrolled_with_second_factor_required(settings, OPERATOR, username="olga")


@pytest.fixture
def accountant(settings, portal_server) -> StaffMember:
    """An Accountants member with an authenticator app; staff must use it on this live server."""
    return enrolled_with_second_factor_required(settings, ACCOUNTANT, username="anton")


def enrolled_with_second_factor_required(settings, role: str, *, username: str) -> StaffMember:
    # The pages and the live websockets ask for the second factor, as in production (tests/conftest.py turns
    # it off for the rest of the suite). The role groups are made again: a transactional test starts from an
    # emptied database.
    settings.STAFF_2FA_REQUIRED = True
    roles_ensure()
    return staff_member_with_app(role, username=username)


def staff_member_with_app(role: str, *, username: str) -> StaffMember:
    """An active staff member (not a superuser) in the group `role`, with a confirmed authenticator app."""
    user = UserFactory(username=username, email=f"{username}@evb-operator.example", is_staff=True,
                       first_name=username.capitalize(), password=STAFF_PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return StaffMember(user=user, password=STAFF_PASSWORD, device=device)


def sign_in_with_second_factor(page: Remote, member: StaffMember, *, next_url: str, screenshots=None) -> None:
    """Through the real forms: the admin login (username and password), then the code of the app on
    /staff/2fa/verify/; ends on `next_url`."""
    page.goto(f"{reverse('admin:login')}?next={next_url}")
    page.get_by_label(re.compile(r"^username:?$", re.I)).fill(member.user.username)
    page.get_by_label(re.compile(r"^password:?$", re.I)).fill(member.password)
    if screenshots:
        screenshots(page, "sign-in")
    page.get_by_role("button", name=re.compile(r"log in", re.I)).click()
    expect(page).to_have_url(re.compile(re.escape(reverse("staff:2fa-verify"))))
    page.get_by_label(re.compile(r"^code:?$", re.I)).fill(member.current_code())
    if screenshots:
        screenshots(page, "second-factor")
    page.get_by_role("button", name=re.compile(r"^verify$", re.I)).click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))


# --- the station view --------------------------------------------------------------------------------------------
def connector_status(page: Remote, evse: int) -> Remote:
    """The status text of the `evse`-th row of the station view's connector table (EVSE numbers from 1)."""
    return page.locator("#station-connectors tbody tr").nth(evse - 1).locator(".status-text")


def command_state(page: Remote, action: str) -> Remote:
    """The state cell of the newest command `action` in the station view's recent commands."""
    row = page.locator("#station-commands tbody tr").filter(has=page.get_by_role("cell", name=action, exact=True))
    return row.first.locator(".command-state")


def mark_document(page: Remote) -> None:
    """Marks the page's document; `same_document` then tells whether the page was left or reloaded since."""
    page.evaluate("() => { window.evbSameDocument = true; }")


def same_document(page: Remote) -> bool:
    return page.evaluate("() => window.evbSameDocument === true")
