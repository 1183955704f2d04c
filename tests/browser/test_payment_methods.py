"""Saving a card from the portal in a real browser: the card form of Stripe.js (localstripe's stand-in, served
by the localstripe server the payment tests use) confirms a SetupIntent, the portal saves the card and it
becomes the default payment method; removing it takes it off the account."""

import re

import pytest
from django.urls import reverse

from billing.models import SavedPaymentMethod
from tests.billing.payments_helpers import localstripe_server, stripe_settings  # noqa: F401  (fixtures)
from tests.browser.checks import assert_page_is_usable
from tests.browser.conftest import sign_in
from tests.browser.remote import expect
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# Two events of Stripe.js that localstripe's stand-in does not send as Stripe does: "ready" once the card field is
# mounted (never sent), and "change" with an event object (sent without one). This gives the stand-in both, so
# that the page is tested as it runs with the real library.
STRIPE_EVENTS_JS = """
(() => {
  let stripe;
  const withEvents = element => {
    const on = element.on, mount = element.mount;
    element.on = function (name, handler) {
      const wrapped = name === "change" ? event => handler(event || {elementType: "card", empty: false}) : handler;
      return on.call(this, name, wrapped);
    };
    element.mount = function (...target) {
      const result = mount.apply(this, target);
      setTimeout(() => (this.listeners.ready || []).forEach(handler => handler({elementType: "card"})));
      return result;
    };
    return element;
  };
  Object.defineProperty(window, "Stripe", {configurable: true, get: () => stripe, set(factory) {
    stripe = function (...args) {
      const instance = factory(...args);
      const elements = instance.elements;
      instance.elements = (...options) => {
        const group = elements(...options);
        const create = group.create;
        group.create = function (...spec) { return withEvents(create.apply(this, spec)); };
        return group;
      };
      return instance;
    };
  }});
})();
"""


@pytest.fixture
def card_payments(stripe_settings, localstripe_server):  # noqa: F811
    stripe_settings.STRIPE_PUBLISHABLE_KEY = "pk_test_evbackoffice_tests"
    stripe_settings.STRIPE_JS_URL = f"{localstripe_server}/js.stripe.com/v3/"
    return stripe_settings


def test_a_driver_saves_a_card_through_the_stripe_form_and_removes_it(
        card_payments, phone, portal_server, screenshots, browser_log):
    customer = CustomerFactory(name="Mara Jansen")
    sign_in(phone, UserFactory(customer=customer, email=customer.email), portal_server)
    phone.add_init_script(STRIPE_EVENTS_JS)

    phone.goto(reverse("portal:payment-methods"))
    phone.get_by_role("link", name=re.compile(r"^add a card$", re.I)).click()
    expect(phone.get_by_label(re.compile(r"name on the card", re.I))).to_have_value("Mara Jansen")
    card = phone.locator("#card-element")
    card.get_by_placeholder("number").fill("4242424242424242")
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")
    card.get_by_placeholder("cvc").fill("123")
    assert_page_is_usable(phone, ignore="#card-element")  # the card fields are the provider's
    screenshots(phone, "card-form")
    phone.get_by_role("button", name=re.compile(r"^save card$", re.I)).click()

    expect(phone).to_have_url(re.compile(re.escape(reverse("portal:payment-methods")) + "$"))
    saved = SavedPaymentMethod.objects.get(account__customer=customer)
    assert saved.is_default and saved.last4 == "4242"
    expect(phone.get_by_role("status")).to_contain_text(re.compile(r"4242 was saved", re.I))
    methods = phone.get_by_role("listitem").filter(has=phone.get_by_role("button", name=re.compile("^remove", re.I)))
    expect(methods).to_have_count(1)
    expect(methods).to_contain_text(re.compile(r"4242.*default.*12/2034", re.I | re.S))
    screenshots(phone, "card-saved")

    methods.get_by_role("button", name=re.compile(r"^remove", re.I)).click()
    expect(phone.get_by_role("status")).to_contain_text(re.compile(r"4242 was removed", re.I))
    expect(methods).to_have_count(0)
    assert not SavedPaymentMethod.objects.filter(account__customer=customer).exists()
    screenshots(phone, "card-removed")
    assert not browser_log.errors and not browser_log.server_errors
