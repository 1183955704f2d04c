"""The session history: what a driver sees of their sessions and prices, the month and card filters, the CSV,
and that nobody ever sees another account's (or, in a fleet, another driver's) sessions."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.cdrs import cdr_credit
from customers.models import User
from tests.billing.loyalty_factories import ChargeDetailRecordFactory
from tests.factories import ChargingSessionFactory, IdTokenFactory, LocationFactory
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

SESSIONS = reverse("portal:sessions")
CSV = reverse("portal:sessions-csv")


def completed_session(token, *, started_at, energy_wh=20_000, **fields):
    return ChargingSessionFactory(
        id_token=token, started_at=started_at, stopped_at=started_at + timedelta(minutes=75),
        meter_stop_wh=1_000_000 + energy_wh, state="completed", **fields,
    )


def priced(session, total="9.28"):
    return ChargeDetailRecordFactory(session=session, start_date_time=session.started_at,
                                     total_energy_wh=session.meter_stop_wh - session.meter_start_wh,
                                     total_cost_incl_vat=Decimal(total), tariff_cost_incl_vat=Decimal(total))


def test_driver_sees_their_sessions_newest_first_with_location_energy_duration_and_price(person, person_client):
    token = IdTokenFactory(customer=person.customer, label="Blue card")
    older = completed_session(token, started_at=datetime(2026, 6, 2, 7, 0, tzinfo=UTC))
    newer = completed_session(token, started_at=datetime(2026, 6, 20, 16, 30, tzinfo=UTC), energy_wh=31_500)
    priced(older, "9.28")

    response = person_client.get(SESSIONS)

    assert response.status_code == 200
    rows = [row for row, _, _ in response.context["rows"]]
    assert [row.session for row in rows] == [newer, older]
    assert rows[0].energy_kwh == Decimal("31.500") and rows[0].price_state == "pricing"
    assert rows[1].price.amount == Decimal("9.28")
    page = response.content.decode()
    assert older.charge_point.location.name in page
    assert "being priced" in page and "1 h 15 min" in page


def test_dates_are_shown_in_the_charging_locations_local_time(person, person_client):
    token = IdTokenFactory(customer=person.customer)
    lisbon = LocationFactory(time_zone="Europe/Lisbon")
    session = completed_session(token, started_at=datetime(2026, 6, 2, 7, 0, tzinfo=UTC))
    session.charge_point.location = lisbon
    session.charge_point.save()

    response = person_client.get(SESSIONS)

    row = response.context["rows"][0][0]
    assert row.started_local.hour == 8 and str(row.started_local.tzinfo) == "Europe/Lisbon"
    assert 'datetime="2026-06-02T08:00:00+01:00"' in response.content.decode()


def test_a_session_under_review_or_credited_says_so_instead_of_a_price(person, person_client):
    token = IdTokenFactory(customer=person.customer)
    review = completed_session(token, started_at=datetime(2026, 6, 3, 7, 0, tzinfo=UTC), needs_review=True)
    credited = completed_session(token, started_at=datetime(2026, 6, 2, 7, 0, tzinfo=UTC))
    cdr_credit(cdr=priced(credited), reason="Meter fault")

    response = person_client.get(SESSIONS)

    states = {row.session: (row.price_state, row.price) for row, _, _ in response.context["rows"]}
    assert states[review] == ("review", None)
    assert states[credited] == ("credited", None)
    assert "under review" in response.content.decode()


def test_month_and_card_filters_narrow_the_list(person, person_client):
    blue, red = IdTokenFactory(customer=person.customer), IdTokenFactory(customer=person.customer)
    june_blue = completed_session(blue, started_at=datetime(2026, 6, 10, 7, 0, tzinfo=UTC))
    completed_session(red, started_at=datetime(2026, 6, 11, 7, 0, tzinfo=UTC))
    completed_session(blue, started_at=datetime(2026, 7, 1, 7, 0, tzinfo=UTC))
    # 22:30 UTC on 31 May is 1 June in Berlin, the billing zone: a June session, as on the June invoice.
    late_may = completed_session(blue, started_at=datetime(2026, 5, 31, 22, 30, tzinfo=UTC))

    response = person_client.get(SESSIONS, {"month": "2026-06", "card": blue.pk})

    assert [row.session for row, _, _ in response.context["rows"]] == [june_blue, late_may]


def test_an_invalid_month_shows_the_form_again_with_a_message(person_client):
    response = person_client.get(SESSIONS, {"month": "June"})

    assert response.status_code == 400
    assert "Enter a month as YYYY-MM" in response.content.decode()


def test_another_accounts_sessions_never_appear_and_its_card_is_not_a_filter(person, other_person, person_client):
    mine = completed_session(IdTokenFactory(customer=person.customer), started_at=datetime(2026, 6, 1, 7, tzinfo=UTC))
    their_card = IdTokenFactory(customer=other_person.customer)
    theirs = completed_session(their_card, started_at=datetime(2026, 6, 2, 7, tzinfo=UTC))

    listed = person_client.get(SESSIONS)
    probing = person_client.get(SESSIONS, {"card": their_card.pk})
    exported = person_client.get(CSV, {"card": their_card.pk})

    assert [row.session for row, _, _ in listed.context["rows"]] == [mine]
    assert theirs.charge_point.location.name not in listed.content.decode()
    assert probing.status_code == 400 and "rows" not in probing.context
    assert exported.status_code == 400 and theirs.evse.evse_id not in exported.content.decode()


def test_a_fleet_driver_sees_only_sessions_of_their_own_cards_and_the_manager_sees_all(fleet):
    own = IdTokenFactory(customer=fleet.company, user=fleet.driver)
    colleague = IdTokenFactory(customer=fleet.company, user=User.objects.create(username="colleague",
                                                                                customer=fleet.company))
    mine = completed_session(own, started_at=datetime(2026, 6, 1, 7, tzinfo=UTC))
    theirs = completed_session(colleague, started_at=datetime(2026, 6, 2, 7, tzinfo=UTC))

    driver_rows = signed_in(fleet.driver).get(SESSIONS).context["rows"]
    manager_rows = signed_in(fleet.manager).get(SESSIONS).context["rows"]
    colleague_filter = signed_in(fleet.driver).get(SESSIONS, {"card": colleague.pk})

    assert [row.session for row, _, _ in driver_rows] == [mine]
    assert [row.session for row, _, _ in manager_rows] == [theirs, mine]
    assert colleague_filter.status_code == 400


def test_the_list_is_paginated_with_a_constant_number_of_queries(person, person_client, django_assert_max_num_queries):
    token = IdTokenFactory(customer=person.customer)
    start = datetime(2026, 6, 1, 7, tzinfo=UTC)
    for day in range(30):
        priced(completed_session(token, started_at=start + timedelta(days=day)))

    with django_assert_max_num_queries(12):
        first = person_client.get(SESSIONS)
    second = person_client.get(SESSIONS, {"page": 2})

    assert len(first.context["rows"]) == 25 and len(second.context["rows"]) == 5
    assert "page=2" in first.content.decode()


def test_csv_download_has_the_listed_sessions_with_local_times_and_prices(person, person_client):
    token = IdTokenFactory(customer=person.customer, label="Blue card", visual_number="EVB-100200")
    session = completed_session(token, started_at=datetime(2026, 6, 2, 7, 0, tzinfo=UTC))
    priced(session, "9.28")
    completed_session(token, started_at=datetime(2026, 7, 2, 7, 0, tzinfo=UTC))

    response = person_client.get(CSV, {"month": "2026-06"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="sessions-2026-06.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    header, line = rows
    assert header[0] == "Start (local time)"
    assert line[0] == "2026-06-02T09:00:00+02:00"
    assert line[4] == "Blue card (EVB-100200)"
    assert line[5:10] == ["20.000", "75", "9.28", "EUR", "priced"]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(SESSIONS)

    assert response.status_code == 302 and reverse("account_login") in response["Location"]
