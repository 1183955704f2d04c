"""The operator's side in headless Chromium, against the live server and a simulated OCPP 1.6 station, with the
second factor required as in production: an operator signs in with password and authenticator code, finds the
station on the dashboard's live board, watches a session start on the station view without reloading it,
stops it remotely (confirming first), changes a configuration key from the station's listed keys, and finds
both commands in the audit log; an accountant signed in the same way reaches no station and no command.
Screenshots of each step go to test-artifacts/browser/<test>/ (tests/browser/conftest.py)."""

import asyncio
import re

import pytest
from django.urls import reverse

from staff.models import AuditEntry
from stations.models import ChargingSession, Connector, StationCommand
from tests.browser import operator_fixtures
from tests.browser.network import a_car_at_11_kw
from tests.browser.operator_fixtures import (
    command_state,
    connector_status,
    mark_document,
    same_document,
    sign_in_with_second_factor,
)
from tests.browser.remote import expect
from tests.e2e.conftest import wait_until
from tests.factories import CustomerFactory, IdTokenFactory

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

#: Live changes reach the page within this; a session's start takes an Authorize and a StartTransaction.
LIVE_MS = 15_000


# The staff members, signed up with an authenticator app and the second factor required (operator_fixtures.py).
operator, accountant = operator_fixtures.operator, operator_fixtures.accountant


def station_url(station) -> str:
    return reverse("admin:stations_chargepoint_change", args=[station.pk])


def command_url(station, action: str) -> str:
    return reverse("admin:stations_chargepoint_command", args=[station.pk]) + f"?action={action}"


def wait_for_connectors(station, status: str) -> None:
    wait_until(lambda: set(Connector.objects.filter(evse__charge_point=station).values_list("status", flat=True))
               == {status}, what=f"the station's connectors to be {status}")


# --- the operator's shift ------------------------------------------------------------------------------------
def test_operator_with_2fa_watches_a_session_start_live_stops_it_and_changes_a_key_all_audited(
        operator, desktop, portal_server, network, station_online, screenshots, browser_log):
    page, station = desktop, network.station
    wait_for_connectors(station, "Available")

    sign_in_with_second_factor(page, operator, next_url=reverse("stations:dashboard"), screenshots=screenshots)
    find_the_station_on_the_board(page, station, screenshots)
    session = watch_a_session_start(page, station_online, screenshots)
    stop_it_remotely(page, session, screenshots)
    change_the_heartbeat_interval(page, station_online, screenshots)
    find_both_commands_in_the_audit_log(page, operator, station, screenshots)
    assert not browser_log.errors and not browser_log.server_errors, browser_log


def find_the_station_on_the_board(page, station, screenshots) -> None:
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    tile = page.locator(f'#board a.tile[data-identity="{station.identity}"]')
    expect(tile).to_be_visible()
    screenshots(page, "dashboard")
    tile.click()
    expect(page).to_have_url(re.compile(re.escape(station_url(station))))


def watch_a_session_start(page, station_online, screenshots) -> ChargingSession:
    """A driver holds their card to the reader (Authorize, then StartTransaction); the open page follows."""
    expect(page.locator("#station-connection")).to_have_text("connected")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(connector_status(page, 1)).to_have_text("Available")
    expect(page.locator("#station-sessions")).to_contain_text("No session running")
    screenshots(page, "station-available")
    mark_document(page)

    card = IdTokenFactory(customer=CustomerFactory())
    station = station_online.station
    asyncio.run_coroutine_threadsafe(station.charge(1, card.uid, plan=a_car_at_11_kw(dwell_s=8 * 3600)),
                                     station_online.loop)

    expect(connector_status(page, 1)).to_have_text("Charging", timeout=LIVE_MS)
    session = wait_until(lambda: ChargingSession.objects.filter(id_tag=card.uid).first(), what="the session")
    row = page.locator(f'#station-sessions tr[data-session="{session.pk}"]')
    expect(row).to_contain_text(str(session.transaction_id))
    expect(row).to_contain_text(card.uid)
    # A meter reading every 2 s: the power column shows the car's kW, not the placeholder.
    expect(row.locator(".power")).to_have_text(re.compile(r"^\d+([.,]\d+)?$"), timeout=LIVE_MS)
    expect(connector_status(page, 2)).to_have_text("Available")
    assert same_document(page), "the station view was reloaded or left instead of updating live"
    screenshots(page, "station-charging-live")
    return session


def stop_it_remotely(page, session, screenshots) -> None:
    page.get_by_role("link", name=re.compile(r"^remote stop", re.I)).click()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Send"))
    expect(form.get_by_label(re.compile(r"^session:?$", re.I))).to_have_value(str(session.transaction_id))
    form.get_by_role("button", name="Send").click()
    expect(page.locator(".errorlist")).to_contain_text("tick the confirmation box")
    assert not StationCommand.objects.filter(action="RemoteStopTransaction").exists()
    screenshots(page, "remote-stop-needs-confirmation")

    form.get_by_label(re.compile(r"yes, i mean it", re.I)).check()
    form.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/change/#commands$"))
    expect(page.locator(".messagelist")).to_contain_text("RemoteStopTransaction")
    expect(command_state(page, "RemoteStopTransaction")).to_have_attribute("data-state", "accepted",
                                                                           timeout=LIVE_MS)
    expect(connector_status(page, 1)).to_have_text(re.compile(r"^(Finishing|Available)$"), timeout=LIVE_MS)
    stopped = wait_until(lambda: ChargingSession.objects.filter(pk=session.pk, stop_reason="Remote").first(),
                         what="the session to stop for the remote stop")
    assert stopped.state != ChargingSession.State.ACTIVE
    expect(connector_status(page, 1)).to_have_text("Available", timeout=LIVE_MS)
    screenshots(page, "remote-stop-accepted")


def change_the_heartbeat_interval(page, station_online, screenshots) -> None:
    """Ask the station for its keys, pick HeartbeatInterval from the listed ones, change it, see the answer."""
    current = station_online.station.config.int("HeartbeatInterval")
    wanted = str(current + 60)
    page.get_by_role("button", name="Get configuration").click()
    expect(page).to_have_url(re.compile(r"/change/#commands$"))
    mark_document(page)
    expect(command_state(page, "GetConfiguration")).to_have_attribute("data-state", "accepted", timeout=LIVE_MS)
    key_row = page.locator(".config-keys tr").filter(has=page.get_by_role("cell", name="HeartbeatInterval",
                                                                          exact=True))
    expect(key_row).to_contain_text(str(current), timeout=LIVE_MS)
    assert same_document(page), "the station's keys needed a reload"
    screenshots(page, "configuration-keys")

    key_row.get_by_role("link", name="change").click()
    expect(page.get_by_label(re.compile(r"^key:?$", re.I))).to_have_value("HeartbeatInterval")
    page.get_by_label(re.compile(r"^value:?$", re.I)).fill(wanted)
    screenshots(page, "change-configuration")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/change/#commands$"))
    expect(command_state(page, "ChangeConfiguration")).to_have_attribute("data-state", "accepted",
                                                                         timeout=LIVE_MS)
    assert station_online.station.config.int("HeartbeatInterval") == int(wanted)
    screenshots(page, "change-configuration-accepted")


def find_both_commands_in_the_audit_log(page, operator, station, screenshots) -> None:
    page.goto(reverse("admin:staff_auditentry_changelist") + "?action=command")
    rows = page.locator("#result_list tbody tr")
    for action in ("RemoteStopTransaction", "ChangeConfiguration"):
        entry = rows.filter(has_text=action)
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text(operator.user.username)
        expect(entry).to_contain_text(str(station))
    screenshots(page, "audit-log")

    recorded = AuditEntry.objects.get(action=AuditEntry.Action.COMMAND, summary="ChangeConfiguration")
    page.goto(reverse("admin:staff_auditentry_change", args=[recorded.pk]))
    details = page.locator("#content")
    expect(details).to_contain_text("HeartbeatInterval")
    expect(details).to_contain_text(operator.user.username)
    expect(page.get_by_role("button", name=re.compile("save|delete", re.I))).to_have_count(0)
    screenshots(page, "audit-entry")


# --- the accountant --------------------------------------------------------------------------------------------
def test_an_accountant_cannot_reach_station_commands(accountant, desktop, portal_server, network, screenshots,
                                                     browser_log):
    page, station = desktop, network.station
    sign_in_with_second_factor(page, accountant, next_url=reverse("accounting:invoice-list"),
                               screenshots=screenshots)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"invoices", re.I))
    screenshots(page, "accounting")
    assert page.goto(reverse("admin:billing_invoice_changelist")).status == 200

    page.goto(reverse("admin:index"))
    expect(page.locator("#content")).to_contain_text(re.compile("invoice", re.I))
    expect(page.get_by_role("link", name=re.compile(r"^charge points$", re.I))).to_have_count(0)
    screenshots(page, "admin-index")

    for url in (station_url(station), command_url(station, "RemoteStopTransaction"), reverse("stations:dashboard")):
        response = page.goto(url)
        assert response.status in (403, 404), (url, response.status)
        expect(page.get_by_role("button", name=re.compile(r"remote stop|send", re.I))).to_have_count(0)
    screenshots(page, "station-refused")

    # A hand-made POST with a valid CSRF token is refused by permission, not by the token.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(portal_server.url + command_url(station, "RemoteStopTransaction"),
                                 form={"transaction": "1", "confirm": "on"},
                                 headers={"X-CSRFToken": csrf, "Referer": portal_server.url + "/"})
    assert response.status in (403, 404)
    assert not StationCommand.objects.exists()

    assert live_socket_refused(page, station)
    assert not browser_log.errors


def live_socket_refused(page, station) -> bool:
    """Opens the station view's live websocket from the accountant's page: True if the server refuses it."""
    return page.evaluate("""identity => new Promise(resolve => {
        const socket = new WebSocket(`ws://${location.host}/ws/live/?station=${encodeURIComponent(identity)}`);
        socket.onopen = () => { socket.close(); resolve(false); };
        socket.onclose = () => resolve(true);
    })""", station.identity)
