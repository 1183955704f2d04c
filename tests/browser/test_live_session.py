"""The live session page when the session ends at the station (the driver unplugs, or stops with the card): the
page, open on a desktop, follows the readings and then shows the end and the final price by itself, over its
websocket, without being reloaded. The portal's own stop is in the journey (test_driver_journey.py)."""

import asyncio
import re

import pytest
from django.urls import reverse

from stations.models import ChargingSession
from tests.browser.checks import assert_page_is_usable
from tests.browser.conftest import sign_in
from tests.browser.network import a_car_at_11_kw, amount, figure
from tests.browser.remote import expect
from tests.e2e.conftest import wait_until
from tests.factories import CustomerFactory, IdTokenFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_live_page_shows_the_end_and_the_final_price_when_the_car_is_unplugged(
        desktop, portal_server, network, station_online, screenshots, browser_log):
    customer = CustomerFactory()
    driver = UserFactory(customer=customer, email=customer.email)
    card = IdTokenFactory(customer=customer, user=driver, label="Blue card")
    sign_in(desktop, driver, portal_server)
    station = station_online.station
    # Six minutes at the station's pace (12 s; a reading every 2 s), then the car is unplugged.
    unplugged = asyncio.run_coroutine_threadsafe(
        station.charge(1, card.uid, plan=a_car_at_11_kw(dwell_s=6 * 60)), station_online.loop)
    session = wait_until(lambda: ChargingSession.objects.filter(id_tag=card.uid).first(), what="the session")

    desktop.goto(reverse("portal:session", args=[session.pk]))
    expect(desktop.get_by_text(re.compile(r"^live$", re.I))).to_be_visible()
    desktop.evaluate("() => { window.sameDocument = true; }")
    energy = figure(desktop, "Energy")
    first = amount(energy.inner_text())
    expect(energy).not_to_have_text(energy.inner_text(), timeout=15_000)
    assert amount(energy.inner_text()) > first
    assert_page_is_usable(desktop)
    screenshots(desktop, "charging")

    expect(desktop.get_by_role("heading", name=re.compile(r"^session ended$", re.I))).to_be_visible(timeout=30_000)
    unplugged.result(timeout=30)
    record = ChargingSession.objects.get(pk=session.pk).cdrs.get()
    final = desktop.get_by_text(re.compile(r"^final price\b", re.I))
    expect(final).to_contain_text(f"{record.total_cost_incl_vat:.2f}", timeout=20_000)
    expect(desktop.get_by_role("button", name=re.compile("stop charging", re.I))).to_be_hidden()
    assert desktop.evaluate("() => window.sameDocument") is True
    screenshots(desktop, "ended")
    assert not browser_log.errors and not browser_log.server_errors
