"""A new driver's whole journey through the portal, in headless Chromium on a phone-sized screen, against the
live server and a simulated OCPP 1.6 station: sign up, verify the e-mail from the mailbox, give a billing
address, link an RFID card, find the station and read its price, start charging from the portal, watch the
figures rise live (over the websocket, without reloading), stop, read the priced session, and after the billing
period is closed download the invoice PDF. Every page on the way must pass the usability checks (checks.py).
"""

import re
import time
import uuid
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse

from billing.invoicing import billing_today, customer_period_close, month_period
from billing.models import Invoice
from customers.models import User
from stations.models import ChargingSession
from tests.browser.checks import page_problems
from tests.browser.network import Network, amount, figure
from tests.browser.remote import expect
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "Ladekabel-Blau-2026!"


class Journey:
    """The driver's phone, and the checks of every page they pass."""

    def __init__(self, page, server, screenshots):
        self.page, self.server, self.screenshots = page, server, screenshots
        self.problems: dict[str, list[str]] = {}
        self.started = time.monotonic()

    def step(self, name: str) -> None:
        """A screenshot of the page now open, and its usability problems remembered for the end."""
        print(f"{time.monotonic() - self.started:6.1f} s  {name}")
        self.screenshots(self.page, name)
        problems = page_problems(self.page)
        if problems:
            self.problems[f"{name} ({self.page.url})"] = problems


# --- the steps ------------------------------------------------------------------------------------------------
def sign_up(journey: Journey, email: str) -> None:
    page = journey.page
    page.goto("/")
    page.get_by_role("link", name=re.compile(r"^sign up$", re.I)).first.click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/"))
    page.get_by_label(re.compile(r"e-?mail", re.I)).fill(email)
    page.get_by_label(re.compile(r"^password:?$", re.I)).fill(PASSWORD)
    page.get_by_label(re.compile(r"again|confirm|repeat", re.I)).fill(PASSWORD)
    journey.step("sign-up")
    page.get_by_role("button", name=re.compile(r"sign up", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"verify|confirm|check", re.I))
    journey.step("verify-your-e-mail")


def verify_email(journey: Journey, email: str) -> None:
    message = journey.server.mailbox.wait_for(to=email)
    links = [link for link in journey.server.mailbox.links(message) if "/accounts/confirm-email/" in link]
    assert links, f"no confirmation link in:\n{journey.server.mailbox.text(message)}"
    page = journey.page
    page.goto(links[0])
    journey.step("confirm-e-mail")
    page.get_by_role("button", name=re.compile(r"confirm", re.I)).click()


def complete_profile(journey: Journey) -> None:
    """Signed in after confirming; without a customer account yet, the portal asks for the billing address."""
    page = journey.page
    expect(page).to_have_url(re.compile(re.escape(reverse("portal:profile"))))
    page.get_by_label(re.compile(r"myself|private", re.I)).check()
    page.get_by_label(re.compile(r"^full name", re.I)).fill("Mara Jansen")
    page.get_by_label(re.compile(r"^street", re.I)).fill("Lange Reihe 12")
    page.get_by_label(re.compile(r"^postal code", re.I)).fill("20099")
    page.get_by_label(re.compile(r"^city", re.I)).fill("Hamburg")
    page.get_by_label(re.compile(r"^country", re.I)).select_option("DE")
    journey.step("profile")
    page.get_by_role("button", name=re.compile(r"open my account", re.I)).click()
    expect(page).to_have_url(re.compile(re.escape(reverse("portal:home")) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mara Jansen")
    journey.step("overview")


def link_card(journey: Journey, network: Network) -> None:
    """Link the card from stock with the printed number and the activation code from its carrier."""
    page = journey.page
    page.get_by_role("navigation").get_by_role("link", name=re.compile(r"^cards$", re.I)).click()
    link = page.get_by_role("region", name=re.compile(r"link a (new )?card", re.I))
    link.get_by_label(re.compile(r"printed (card )?number", re.I)).fill(network.card.visual_number.lower())
    link.get_by_label(re.compile(r"activation code", re.I)).fill(network.activation_code)
    journey.step("link-card")
    link.get_by_role("button", name=re.compile(r"^link card$", re.I)).click()
    expect(page.get_by_role("row").filter(has_text=network.card.visual_number)).to_contain_text(
        re.compile(r"valid|active", re.I))
    journey.step("card-linked")


def find_station(journey: Journey, network: Network) -> None:
    """Search the charger list, open the location: the price in plain language before charging starts."""
    page = journey.page
    page.get_by_role("navigation").get_by_role("link", name=re.compile(r"find a charger", re.I)).click()
    search = page.get_by_role("search")
    search.get_by_role("searchbox").or_(search.get_by_role("textbox")).first.fill("Hafenpark")
    search.get_by_role("button", name=re.compile(r"^search$", re.I)).click()
    result = page.get_by_role("link", name=network.location.name)
    expect(result).to_be_visible()
    # Chromium reaches no tile server here: the page says so, and the list still has every charger.
    expect(page.get_by_role("status").filter(has_text=re.compile(r"map", re.I))).to_be_visible()
    journey.step("charger-search")
    result.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(network.location.name)
    prices = page.get_by_role("region", name=re.compile(r"^prices$", re.I))
    expect(prices).to_contain_text(re.compile(r"0[.,]50.{0,30}kWh", re.S))
    expect(prices).to_contain_text(re.compile(r"1[.,]00.{0,30}session", re.S | re.I))
    journey.step("location")
    evse_id = network.evses[0].evse_id
    page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=evse_id)).get_by_role(
        "link", name=re.compile(r"start charging", re.I)).click()
    expect(page).to_have_url(re.compile(re.escape(reverse("portal:start", args=[evse_id])) + "$"))


def start_charging(journey: Journey, network: Network) -> ChargingSession:
    """Pick the linked card and start: the station accepts the remote start and the live page opens."""
    page = journey.page
    expect(page.locator(".price-lines")).to_contain_text(re.compile(r"kWh"))
    page.get_by_label(re.compile(network.card.visual_number[-4:])).check()
    journey.step("start")
    page.get_by_role("button", name=re.compile(r"start charging", re.I)).click()
    # The progress page opens the live session by itself; when the station answered before it was rendered,
    # the server sends the driver straight there.
    expect(page).to_have_url(re.compile(r"/portal/sessions/\d+/$"), timeout=20_000)
    session = ChargingSession.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert session.id_tag == network.card.uid and session.evse == network.evses[0]
    return session


def next_value(figure_value) -> Decimal:
    """Waits until the figure shows something else than now (pushed by the server), and returns its number."""
    expect(figure_value).not_to_have_text(figure_value.inner_text(), timeout=15_000)
    return amount(figure_value.inner_text())


def watch_live(journey: Journey) -> tuple[Decimal, Decimal]:
    """Energy and cost rise twice each on the page while it stays the same document: a marker set in it
    survives, so the figures came over the websocket, not from a reload."""
    page = journey.page
    expect(page.locator("#live-connection")).to_have_attribute("data-state", "live")
    page.evaluate("() => { window.journeyMarker = 'same document'; }")
    energy, cost = figure(page, "Energy"), figure(page, "Cost so far")
    seen_energy, seen_cost = [amount(energy.inner_text())], [amount(cost.inner_text())]
    seen_energy += [next_value(energy), next_value(energy)]
    seen_cost += [next_value(cost), next_value(cost)]  # priced at most every few seconds: the slowest step
    journey.step("charging-live")
    assert seen_energy == sorted(seen_energy) and len(set(seen_energy)) == 3, seen_energy
    assert seen_cost == sorted(seen_cost) and len(set(seen_cost)) == 3, seen_cost
    assert page.evaluate("() => window.journeyMarker") == "same document"
    return seen_energy[-1], seen_cost[-1]


def stop_and_read_the_price(journey: Journey, session: ChargingSession, last_cost: Decimal) -> None:
    """Stop from the portal: the page says the session ended and, once it is rated, shows the final price;
    opened again later, the session explains how the price was calculated."""
    page = journey.page
    page.get_by_role("button", name=re.compile(r"stop charging", re.I)).click()
    expect(page.get_by_role("heading", name=re.compile(r"^session ended$", re.I))).to_be_visible(timeout=20_000)
    record = wait_until(lambda: ChargingSession.objects.get(pk=session.pk).cdrs.first(), timeout=20,
                        what="the stopped session to be priced")
    total = f"{record.total_cost_incl_vat:.2f}"
    assert record.total_cost_incl_vat >= last_cost
    final_price = page.get_by_text(re.compile(r"^final price\b", re.I))
    if final_price.count():  # the live page stayed open: the price arrives over its websocket
        expect(final_price).to_contain_text(total)
        journey.step("session-ended-live")
    page.reload()
    expect(figure(page, "Price")).to_contain_text(total)
    assert amount(figure(page, "Energy").inner_text()) == Decimal(record.total_energy_wh) / 1000
    expect(page.get_by_role("heading", name=re.compile("how the price", re.I))).to_be_visible()
    expect(page.locator(".price-lines")).to_contain_text(re.compile(r"kWh"))
    journey.step("session-priced")


def sign_out_and_in_again(journey: Journey, email: str) -> None:
    """Back another day: sign out, and sign in with the e-mail address and password (django-axes counts)."""
    page = journey.page
    page.get_by_role("button", name=re.compile(r"^sign out$", re.I)).click()
    page.get_by_role("navigation").get_by_role("link", name=re.compile(r"^sign in$", re.I)).click()
    page.get_by_label(re.compile(r"e-?mail", re.I)).fill(email)
    page.get_by_label(re.compile(r"^password:?$", re.I)).fill(PASSWORD)
    journey.step("sign-in")
    page.get_by_role("button", name=re.compile(r"^sign in$", re.I)).click()
    expect(page).to_have_url(re.compile(re.escape(reverse("portal:home")) + "$"))


def download_invoice(journey: Journey, user: User, session: ChargingSession) -> None:
    """The operator closes the billing period (the PDF renders inline); the driver downloads it."""
    period_start, period_end = month_period(billing_today().strftime("%Y-%m"))
    made = customer_period_close(customer_id=user.customer_id, period_start=period_start, period_end=period_end)
    invoice = Invoice.objects.get(pk=made[0].pk)
    assert invoice.pdf_sha256 and invoice.lines.filter(cdr__session=session).exists()
    page = journey.page
    page.goto(reverse("portal:invoices"))
    row = page.get_by_role("row").filter(has_text=invoice.number)
    expect(row).to_be_visible()
    journey.step("invoices")
    with page.expect_download() as download_info:
        row.get_by_role("link", name=re.compile(rf"PDF.*{re.escape(invoice.number)}")).click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    content = open(download.path(), "rb").read()
    assert content.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(BytesIO(content)).pages)
    assert invoice.number in text


# --- the journey ----------------------------------------------------------------------------------------------
def test_a_new_driver_signs_up_charges_live_and_downloads_the_invoice(
        phone, portal_server, network, station_online, screenshots, browser_log):
    journey = Journey(phone, portal_server, screenshots)
    email = f"mara.{uuid.uuid4().hex[:6]}@example.com"

    sign_up(journey, email)
    verify_email(journey, email)
    complete_profile(journey)
    user = User.objects.get(email=email)
    assert user.customer is not None and user.customer.city == "Hamburg"
    link_card(journey, network)
    find_station(journey, network)
    session = start_charging(journey, network)
    _energy, cost = watch_live(journey)
    stop_and_read_the_price(journey, session, cost)
    sign_out_and_in_again(journey, email)
    download_invoice(journey, user, session)

    assert not journey.problems, "\n".join(f"{step}: {problems}" for step, problems in journey.problems.items())
    assert not browser_log.errors
