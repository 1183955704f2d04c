# ruff: noqa: F811  (pytest fixtures imported from payments_helpers are parameters of the tests)
"""Ad-hoc charging without an account, with the real `stripe` library against localstripe: the public page's
price, the hold and the remote start, capture of a session cheaper than the hold and of one that exceeds it,
an unused hold released, the receipt PDF and the QR code."""

import io
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import segno
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from billing.adhoc import adhoc_sessions_expire
from billing.invoicing import billing_period_close, billing_today
from billing.models import AdHocSession, ChargeDetailRecord, InvoiceLine, Payment
from customers.models import IdToken
from stations.models import ChargePoint, ChargingSession, ConnectorStatus, MeterValue, StationCommand
from stations.services.station_reports import transaction_start, transaction_stop
from tests.billing.factories import TariffAssignmentFactory
from tests.billing.invoice_factories import OperatorProfileFactory
from tests.billing.payments_helpers import (
    browser_card,
    localstripe_server,  # noqa: F401  (session fixture)
    raw_client,
    stripe_settings,  # noqa: F401
)
from tests.factories import ConnectorFactory, CustomerFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]

METER_START = 1_000_000
DECLINED = "4000000000000341"  # every charge is declined


@pytest.fixture
def connector(settings):
    settings.ADHOC_HOLD_AMOUNT = "50.00"
    OperatorProfileFactory()
    TariffAssignmentFactory()  # 0.39 EUR/kWh + 19 % VAT for everyone
    connector = ConnectorFactory(status=ConnectorStatus.AVAILABLE)
    ChargePoint.objects.filter(pk=connector.evse.charge_point_id).update(is_connected=True)
    return connector


def start(client, base, connector, number="4242424242424242", email="guest@example.com"):
    evse_id = connector.evse.evse_id
    return client.post(f"/charge/{evse_id}/start/", {"payment_method": browser_card(base, number), "email": email})


def intent(base, adhoc):
    return raw_client(base).v1.payment_intents.retrieve(adhoc.hold.provider_intent_id)


def captured(base, adhoc) -> tuple[str, int]:
    """The intent's status and what its charge kept (localstripe captures partially by refunding the rest)."""
    at_stripe = intent(base, adhoc)
    latest = at_stripe.latest_charge
    charge = latest if hasattr(latest, "amount") else raw_client(base).v1.charges.retrieve(latest)
    return at_stripe.status, charge.amount - charge.amount_refunded


def charge(connector, adhoc, energy_wh, capture):
    """The station does what the remote start asked for, charges `energy_wh` in an hour and stops."""
    begin = timezone.now() - timedelta(hours=1)
    cp = connector.evse.charge_point
    started = transaction_start(charge_point_id=cp.pk, connector_id=connector.evse.ocpp_evse_id,
                                id_tag=adhoc.id_token.uid, meter_start_wh=METER_START, timestamp=begin,
                                reservation_id=None)
    session = ChargingSession.objects.get(charge_point=cp, transaction_id=started.transaction_id)
    MeterValue.objects.create(session=session, charge_point=cp, connector=connector,
                              timestamp=begin + timedelta(minutes=30), location="Outlet", unit="Wh",
                              value=METER_START + energy_wh // 2)
    with capture(execute=True):
        transaction_stop(charge_point_id=cp.pk, transaction_id=session.transaction_id,
                         meter_stop_wh=METER_START + energy_wh, timestamp=begin + timedelta(hours=1),
                         reason="Local", id_tag=adhoc.id_token.uid, meter_values=[])
    adhoc.refresh_from_db()
    return adhoc


def test_the_page_shows_the_price_incl_vat_and_the_hold_without_login(client, connector, settings):
    response = client.get(f"/charge/{connector.evse.evse_id}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "0.4641 EUR/kWh" in page and "incl. 19 % VAT" in page
    assert "50.00" in page and connector.evse.evse_id in page
    assert "js.stripe.com" not in page  # no publishable key configured

    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_evbackoffice"
    page = client.get(f"/charge/{connector.evse.evse_id}/").content.decode()
    assert '<script src="https://js.stripe.com/v3/">' in page and 'data-key="pk_test_evbackoffice"' in page


def test_the_qr_page_sends_drivers_with_an_account_to_the_portal_start(client, connector):
    portal_start = f"/portal/charge/{connector.evse.evse_id}/"
    visitor_page = client.get(f"/charge/{connector.evse.evse_id}/").content.decode()
    assert "/accounts/login/?" + urlencode({"next": portal_start}) in visitor_page

    client.force_login(UserFactory(customer=CustomerFactory()), backend="django.contrib.auth.backends.ModelBackend")
    driver_page = client.get(f"/charge/{connector.evse.evse_id}/").content.decode()
    assert f'href="{portal_start}"' in driver_page


def test_the_hold_is_authorized_for_manual_capture_and_the_station_is_asked_to_start(
    client, connector, localstripe_server
):
    response = start(client, localstripe_server, connector)

    assert response.status_code == 201, response.content
    adhoc = AdHocSession.objects.get(uuid=response.json()["id"])
    assert adhoc.state == AdHocSession.State.AUTHORIZED and response.json()["state"] == "authorized"
    assert adhoc.id_token.type == IdToken.Type.CENTRAL and adhoc.id_token.customer.number == "ADHOC-GUESTS"
    assert adhoc.hold.purpose == Payment.Purpose.HOLD and adhoc.hold.idempotency_key == f"evb-adhoc-{adhoc.uuid}"
    at_stripe = intent(localstripe_server, adhoc)
    assert (at_stripe.status, at_stripe.amount, at_stripe.capture_method) == ("requires_capture", 5000, "manual")
    command = StationCommand.objects.get(charge_point=connector.evse.charge_point)
    assert command.action == "RemoteStartTransaction"
    assert command.payload == {"connectorId": connector.evse.ocpp_evse_id, "idTag": adhoc.id_token.uid}
    # The page polls the status.
    status = client.get(f"/charge/adhoc/{adhoc.uuid}/status.json").json()
    assert (status["state"], status["hold"], status["currency"]) == ("authorized", "50.00", "EUR")


def test_a_declined_card_starts_nothing(client, connector, localstripe_server):
    response = start(client, localstripe_server, connector, number=DECLINED)

    adhoc = AdHocSession.objects.get()
    assert adhoc.state == AdHocSession.State.FAILED and response.json()["failure"]
    assert not StationCommand.objects.exists()


def test_a_session_cheaper_than_the_hold_captures_its_total_and_releases_the_rest(
    client, connector, localstripe_server, django_capture_on_commit_callbacks
):
    adhoc = AdHocSession.objects.get(uuid=start(client, localstripe_server, connector).json()["id"])

    adhoc = charge(connector, adhoc, 23_456, django_capture_on_commit_callbacks)

    cdr = ChargeDetailRecord.objects.get(session__id_tag=adhoc.id_token.uid)
    assert cdr.total_cost_incl_vat == Decimal("10.89") and cdr.customer.number == "ADHOC-GUESTS"
    assert adhoc.state == AdHocSession.State.COMPLETED
    assert (adhoc.captured_amount, adhoc.shortfall) == (Decimal("10.89"), Decimal("0"))
    assert captured(localstripe_server, adhoc) == ("succeeded", 1089)
    adhoc.id_token.refresh_from_db()
    assert adhoc.id_token.status == IdToken.Status.BLOCKED  # one-off: cannot start another session
    [sent] = mail.outbox
    assert sent.to == ["guest@example.com"] and sent.attachments[0][0] == f"{adhoc.receipt_number}.pdf"
    status = client.get(f"/charge/adhoc/{adhoc.uuid}/status.json").json()
    assert (status["state"], status["cost"], status["energy_kwh"]) == ("completed", "10.89", "23.456")


def test_a_paid_ad_hoc_session_never_goes_on_a_monthly_invoice(
    client, connector, localstripe_server, django_capture_on_commit_callbacks
):
    adhoc = AdHocSession.objects.get(uuid=start(client, localstripe_server, connector).json()["id"])
    adhoc = charge(connector, adhoc, 23_456, django_capture_on_commit_callbacks)
    OperatorProfileFactory()
    month = billing_today().replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)

    made = billing_period_close(period_start=month, period_end=next_month)

    assert adhoc.cdr_id is not None and made == 0
    assert not InvoiceLine.objects.filter(cdr=adhoc.cdr_id).exists()


def test_a_session_costing_more_than_the_hold_captures_the_hold_and_records_the_shortfall(
    client, connector, localstripe_server, django_capture_on_commit_callbacks, settings
):
    settings.ADHOC_HOLD_AMOUNT = "5.00"
    adhoc = AdHocSession.objects.get(uuid=start(client, localstripe_server, connector).json()["id"])

    adhoc = charge(connector, adhoc, 23_456, django_capture_on_commit_callbacks)

    assert adhoc.state == AdHocSession.State.COMPLETED_WITH_SHORTFALL
    assert (adhoc.total_incl_vat, adhoc.captured_amount, adhoc.shortfall) == (
        Decimal("10.89"), Decimal("5.00"), Decimal("5.89"))
    assert captured(localstripe_server, adhoc) == ("succeeded", 500)


def test_an_unused_hold_is_canceled_after_the_start_timeout(client, connector, localstripe_server, settings):
    settings.ADHOC_START_TIMEOUT_MIN = 10
    adhoc = AdHocSession.objects.get(uuid=start(client, localstripe_server, connector).json()["id"])

    assert adhoc_sessions_expire(now=timezone.now() + timedelta(minutes=5)) == 0
    assert adhoc_sessions_expire(now=timezone.now() + timedelta(minutes=11)) == 1

    adhoc.refresh_from_db()
    assert adhoc.state == AdHocSession.State.CANCELED and adhoc.hold.state == Payment.State.CANCELED
    assert intent(localstripe_server, adhoc).status == "canceled"
    assert IdToken.objects.get(pk=adhoc.id_token_id).status == IdToken.Status.BLOCKED
    assert adhoc_sessions_expire(now=timezone.now() + timedelta(minutes=20)) == 0  # once


def test_the_receipt_pdf_has_its_number_amount_and_vat(
    client, connector, localstripe_server, django_capture_on_commit_callbacks
):
    adhoc = AdHocSession.objects.get(uuid=start(client, localstripe_server, connector).json()["id"])
    adhoc = charge(connector, adhoc, 23_456, django_capture_on_commit_callbacks)

    response = client.get(f"/charge/adhoc/{adhoc.uuid}/receipt.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    year = timezone.now().year
    assert adhoc.receipt_number == f"RCPT-{year}-000001" and adhoc.receipt_number in text
    assert "10.89 EUR" in text and "19 %" in text and "1.74 EUR" in text  # VAT of 10.89 incl. 19 %
    assert "Voltpark Charging GmbH" in text and "DE123456789" in text


def test_the_qr_code_encodes_the_page_url(client, connector):
    evse_id = connector.evse.evse_id

    response = client.get(f"/charge/{evse_id}/qr.svg")

    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    expected = io.BytesIO()
    url = f"http://testserver/charge/{evse_id}/"
    segno.make(url, error="m").save(expected, kind="svg", scale=8, border=2, title=url)
    assert response.content == expected.getvalue()


def test_an_unknown_evse_is_a_404_and_an_unavailable_one_refuses_to_start(client, connector, localstripe_server):
    assert client.get("/charge/DE*EVB*E99999*1/").status_code == 404
    connector.status = ConnectorStatus.FAULTED
    connector.save()

    response = start(client, localstripe_server, connector)

    assert response.status_code == 409 and "not available" in response.json()["error"]
    assert not AdHocSession.objects.exists()


def test_staff_see_ad_hoc_sessions_read_only_and_print_the_qr_code_from_the_evse(
    admin_client, client, connector, localstripe_server, settings
):
    settings.ADHOC_HOLD_AMOUNT = "5.00"
    adhoc = AdHocSession.objects.get(uuid=start(client, localstripe_server, connector).json()["id"])

    listing = admin_client.get("/admin/billing/adhocsession/")
    evse_page = admin_client.get(f"/admin/stations/evse/{connector.evse.pk}/change/")

    assert listing.status_code == 200 and "Hold authorised, starting" in listing.content.decode()
    assert admin_client.post(f"/admin/billing/adhocsession/{adhoc.pk}/change/", {}).status_code == 403
    assert f"/charge/{connector.evse.evse_id}/qr.svg" in evse_page.content.decode()
