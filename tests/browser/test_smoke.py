"""The browser-test machinery itself: Chromium reaches the live server, pages get their stylesheet, the
screenshots land where the README says, and the language switcher works."""

import re

import pytest
from django.urls import reverse

from tests.browser.checks import assert_page_is_usable
from tests.browser.conftest import sign_in
from tests.browser.remote import expect
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_sign_in_page_renders_with_the_portal_stylesheet(phone, screenshots, browser_log):
    response = phone.goto(reverse("account_login"))

    assert response.status == 200
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    expect(phone.get_by_label(re.compile("e-?mail", re.I))).to_be_editable()
    shot = screenshots(phone, "sign-in")
    assert shot.read_bytes().startswith(b"\x89PNG")
    stylesheets = phone.evaluate("() => [...document.styleSheets].map(s => [s.href, s.cssRules.length])")
    assert any(href and href.endswith("/static/portal/portal.css") and rules for href, rules in stylesheets), (
        stylesheets)
    assert_page_is_usable(phone)
    assert not browser_log.errors


def test_the_language_switcher_switches_to_german_and_back(phone, portal_server, screenshots):
    customer = CustomerFactory()
    sign_in(phone, UserFactory(customer=customer, email=customer.email), portal_server)
    phone.goto(reverse("portal:home"))
    expect(phone.locator("html")).to_have_attribute("lang", "en")

    phone.get_by_label("Language").select_option("de")
    phone.locator("form.language").get_by_role("button").click()

    expect(phone.locator("html")).to_have_attribute("lang", "de")
    assert phone.url.endswith(reverse("portal:home"))
    screenshots(phone, "german")
    phone.locator("select[name=language]").select_option("en")  # its label is German now
    phone.locator("form.language").get_by_role("button").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.get_by_label("Language")).to_have_value("en")


def test_a_keyboard_user_skips_to_the_content_and_searches_without_a_mouse(phone, desktop):
    for page in (phone, desktop):
        page.goto(reverse("portal:chargers"))
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "main"
        search = page.get_by_role("search").get_by_role("searchbox").or_(
            page.get_by_role("search").get_by_role("textbox")).first
        search.focus()
        page.keyboard.type("no such place")
        page.keyboard.press("Enter")
        # The page before the search may show "0 locations" too: wait for the search's own page.
        expect(page).to_have_url(re.compile(r"[?&]q=no\+such\+place"))
        expect(page.get_by_role("heading", name="0 locations")).to_be_visible()
        assert_page_is_usable(page)
