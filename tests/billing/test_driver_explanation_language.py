"""The driver's price explanation is written at rating in the driver's language (the customer's; an ad-hoc
guest's page language; else the default) with that language's number format, and stored: the portal page and
the live websocket show it as stored. The staff explanation (admin, CDR API) stays English."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from billing.cdrs.rating import cdr_create_for_session, explanation_language
from billing.models import AdHocSession, ChargeDetailRecord
from customers.portal.charging.sessions import priced_json
from stations.models import ChargingSession, MeterValue
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.billing.loyalty_factories import (
    MembershipFactory,
    MembershipPlanFactory,
    PromoCodeFactory,
    PromoRedemptionFactory,
)
from tests.factories import (
    ChargePointFactory,
    ChargingSessionFactory,
    ConnectorFactory,
    CustomerFactory,
    EvseFactory,
    IdTokenFactory,
    UserFactory,
)
from tests.portal.conftest import signed_in
from tests.portal.test_german import PO, _python_msgids, read_po

pytestmark = pytest.mark.django_db

ENERGY = MeterValue.Measurand.ENERGY_IMPORT_REGISTER
BASE = Path(settings.BASE_DIR)


@pytest.fixture(autouse=True)
def _back_to_english():
    """A German page activates German in this thread; the tests after these must not inherit it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def quoted_tariff():
    """1.00 EUR per session and 0.50 EUR/kWh incl. 19 % VAT (0.8403 and 0.4202 net)."""
    return TariffAssignmentFactory(tariff=TariffFactory(elements=[
        {"energy_price": Decimal("0.4202"), "energy_vat": Decimal("19"), "flat_price": Decimal("0.8403"),
         "flat_vat": Decimal("19")}])).tariff


def driver(language: str):
    customer = CustomerFactory(language=language)
    return UserFactory(customer=customer, email=customer.email)


def rated(user, *, energy_wh=20_000) -> ChargeDetailRecord:
    """A finished 90-minute session of `user`'s card, rated."""
    station = ChargePointFactory()
    connector = ConnectorFactory(evse=EvseFactory(charge_point=station))
    start = timezone.now() - timedelta(minutes=90)
    session = ChargingSessionFactory(connector=connector, started_at=start, meter_start_wh=1_000_000,
                                     id_token=IdTokenFactory(customer=user.customer, user=user))
    MeterValue.objects.create(session=session, charge_point=station, connector=connector,
                              timestamp=start + timedelta(minutes=89), measurand=ENERGY,
                              value=1_000_000 + energy_wh, unit="Wh")
    session.state, session.stopped_at = ChargingSession.State.COMPLETED, timezone.now()
    session.meter_stop_wh = 1_000_000 + energy_wh
    session.save()
    record = cdr_create_for_session(session_id=session.pk)
    assert record is not None
    return record


def page(client: Client, record: ChargeDetailRecord) -> str:
    response = client.get(reverse("portal:session", args=[record.session_id]))
    assert response.status_code == 200
    return response.content.decode()


def german(client: Client) -> Client:
    response = client.post(reverse("set_language"), {"language": "de", "next": "/portal/"})
    assert response.status_code == 302
    return client


def test_a_german_customers_session_is_explained_in_german_with_decimal_commas(quoted_tariff):
    user = driver("de")
    record = rated(user, energy_wh=12_345)  # 1.00 + 12.345 kWh x 0.50 = 7.1725 -> 7.17 EUR

    html = page(german(signed_in(user)), record)

    lines = record.driver_explanation
    assert any(line.endswith(": Startgebühr = 1,00 EUR") for line in lines), lines
    assert any(line.endswith(": 12,345 kWh x 0,50 EUR/kWh = 6,17 EUR") for line in lines), lines
    assert lines[-1] == "Gesamt: 7,17 EUR inkl. 19 % MwSt. (1,14 EUR)"
    assert not any(word in line for line in lines for word in ("flat fee", "Total", "incl.", "Mon", "Tue", "Wed",
                                                                "Thu", "Fri", "Sat", "Sun"))
    assert all(line in html for line in lines)
    # The staff's lines stay English with plain numbers.
    assert record.explanation[-1] == "Total: 6.03 EUR excl. VAT, 7.17 EUR incl. VAT"
    assert any("12.345 kWh x 0.4202 EUR/kWh" in line for line in record.explanation)


def test_the_stored_german_lines_are_what_the_live_page_receives(quoted_tariff):
    user = driver("de")
    record = rated(user)

    message = priced_json(record.session)  # the websocket's final price, whatever the thread's language

    assert message["explanation"] == record.driver_explanation
    assert message["explanation"][-1] == "Gesamt: 11,00 EUR inkl. 19 % MwSt. (1,76 EUR)"


def test_an_english_customers_session_stays_english(quoted_tariff):
    user = driver("en")
    record = rated(user)

    html = page(signed_in(user), record)

    lines = record.driver_explanation
    assert any(line.endswith(": flat fee = 1.00 EUR") for line in lines), lines
    assert any(line.endswith(": 20.000 kWh x 0.50 EUR/kWh = 10.00 EUR") for line in lines), lines
    assert lines[-1] == "Total: 11.00 EUR incl. 19% VAT (1.76 EUR)"
    assert all(line in html for line in lines)
    assert record.explanation[-1] == "Total: 9.24 EUR excl. VAT, 11.00 EUR incl. VAT"


def test_the_language_the_driver_reads_the_page_in_does_not_change_the_stored_lines(quoted_tariff):
    """An English customer on a German page reads the lines as they were rated: in English."""
    user = driver("en")
    record = rated(user)

    html = page(german(signed_in(user)), record)

    assert "Total: 11.00 EUR incl. 19% VAT (1.76 EUR)" in html


def test_weekdays_and_the_tariffs_restrictions_are_worded_in_german():
    every_day = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
    TariffAssignmentFactory(tariff=TariffFactory(elements=[
        {"energy_price": Decimal("0.4202"), "energy_vat": Decimal("19"), "days_of_week": every_day},
    ]))

    record = rated(driver("de"))

    energy = next(line for line in record.driver_explanation if "kWh" in line)
    assert energy.split(" ")[0] in ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"), energy
    assert "[Mo-So]: 20,000 kWh x 0,50 EUR/kWh = 10,00 EUR" in energy
    assert any("[Mon-Sun]" in line for line in record.explanation)  # staff: English


def test_a_german_members_discounts_are_worded_in_german_and_the_records_label_stays_english(quoted_tariff):
    user = driver("de")
    MembershipFactory(customer=user.customer, plan=MembershipPlanFactory(name="Plus", discount_per_kwh=Decimal("0.10")))
    PromoRedemptionFactory(customer=user.customer, promo_code=PromoCodeFactory(code="WINTER", value=Decimal("5")),
                           redeemed_at=timezone.now() - timedelta(days=1))
    record = rated(user)  # 20 kWh

    lines = record.driver_explanation
    assert any(line.startswith("Mitgliedschaft Plus: 0,10 EUR/kWh Rabatt auf 20 kWh: -") for line in lines), lines
    assert any(line.startswith("Aktionscode WINTER: 5 % Rabatt: -") for line in lines), lines
    assert not any(word in line for line in lines for word in ("Membership", "Promotion", " off"))
    assert [d["label"] for d in record.discounts] == ["Membership Plus: 0.10 EUR/kWh off on 20 kWh",
                                                      "Promotion WINTER: 5 % off"]
    ChargeDetailRecord.objects.filter(pk=record.pk).update(driver_explanation=[])
    html = page(german(signed_in(user)), record)  # a record without stored lines: worded from its discounts
    assert "Mitgliedschaft Plus: 0,10 EUR/kWh Rabatt auf 20 kWh: -" in html and "Aktionscode WINTER" in html


def test_a_german_record_without_stored_lines_is_explained_from_its_totals_in_the_pages_language(quoted_tariff):
    user = driver("de")
    record = rated(user)
    ChargeDetailRecord.objects.filter(pk=record.pk).update(driver_explanation=[])

    html = page(german(signed_in(user)), record)

    assert "Startgebühr: 1,00 EUR" in html and "Energie 20,000 kWh: 10,00 EUR" in html
    assert "Gesamt: 11,00 EUR inkl. 19 % MwSt. (1,76 EUR)" in html


def test_an_ad_hoc_session_is_explained_in_the_language_of_the_page_the_guest_paid_on():
    guest = CustomerFactory(number=settings.ADHOC_GUEST_CUSTOMER_NUMBER, language="en")
    token = IdTokenFactory(customer=guest)
    session = ChargingSessionFactory(id_token=token)
    assert explanation_language(session) == settings.LANGUAGE_CODE  # no ad-hoc session (yet): the default

    AdHocSession.objects.create(evse=session.evse, connector=session.connector, id_token=token,
                                hold_amount=Decimal("50.00"), language="de")

    assert explanation_language(session) == "de"


def test_a_session_without_a_customer_is_explained_in_the_default_language():
    session = ChargingSessionFactory(id_token=None, id_tag="UNKNOWN", customer=None)

    assert explanation_language(session) == settings.LANGUAGE_CODE


def test_the_driver_explanations_wording_is_in_the_german_catalogue():
    known = {(e["msgctxt"], e["msgid"]) for e in read_po(PO) if e["msgid"] and e["msgstr"].get(0)}
    wanted = set()
    for path in ("billing/pricing/explain.py", "billing/cdrs/rating.py", "billing/portal_selectors.py",
                 "billing/loyalty/discounts.py"):
        wanted |= _python_msgids(BASE / path)

    assert wanted and wanted - known == set()
