"""The portal's scoping rules: who sees what, and where a new driver without an account is sent."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from customers.portal.access import visible_sessions, visible_tokens
from tests.factories import ChargingSessionFactory, IdTokenFactory, UserFactory
from tests.portal.conftest import signed_in
from tests.portal.test_history import completed_session, priced


def test_a_visitor_is_asked_to_sign_in(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_driver_without_a_customer_account_is_sent_to_the_profile_first(db):
    client = signed_in(UserFactory(customer=None))
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:profile") + "?next=%2Fportal%2F"


def test_the_overview_shows_the_drivers_session_in_progress_and_nobody_elses(person_client, person, other_person):
    mine = ChargingSessionFactory(id_token=IdTokenFactory(customer=person.customer, user=person))
    theirs = ChargingSessionFactory(id_token=IdTokenFactory(customer=other_person.customer))
    page = person_client.get(reverse("portal:home")).content.decode()
    assert mine.evse.evse_id in page
    assert theirs.evse.evse_id not in page


def test_a_fleet_manager_sees_all_cards_and_sessions_a_driver_only_their_own(fleet):
    managers_card = IdTokenFactory(customer=fleet.company, user=fleet.manager)
    drivers_card = IdTokenFactory(customer=fleet.company, user=fleet.driver)
    drivers_session = ChargingSessionFactory(id_token=drivers_card)
    managers_session = ChargingSessionFactory(id_token=managers_card)

    assert set(visible_tokens(fleet.manager)) == {managers_card, drivers_card}
    assert set(visible_tokens(fleet.driver)) == {drivers_card}
    assert set(visible_sessions(fleet.manager)) == {drivers_session, managers_session}
    assert set(visible_sessions(fleet.driver)) == {drivers_session}


def test_the_landing_page_sends_visitors_to_the_map_drivers_to_the_portal_and_staff_to_the_admin(
        client, person, staff_user):
    assert client.get("/")["Location"] == reverse("portal:chargers")
    assert signed_in(person).get("/")["Location"] == reverse("portal:home")
    assert signed_in(staff_user).get("/")["Location"] == reverse("admin:index")



def test_the_overview_shows_the_last_priced_session_and_the_account_figures_to_the_holder(person_client, person):
    token = IdTokenFactory(customer=person.customer, user=person)
    session = completed_session(token, started_at=timezone.now() - timedelta(days=2))
    priced(session, total="12.34")
    page = person_client.get(reverse("portal:home")).content.decode()
    assert session.charge_point.location.name in page and "12.34" in page
    assert "Open amount" in page and "Points" in page


def test_a_fleet_driver_sees_their_sessions_on_the_overview_but_not_the_companys_money(fleet):
    session = completed_session(IdTokenFactory(customer=fleet.company, user=fleet.driver),
                                started_at=timezone.now() - timedelta(days=1))
    colleague = completed_session(IdTokenFactory(customer=fleet.company, user=fleet.manager),
                                  started_at=timezone.now() - timedelta(days=1))
    priced(session, total="21.11")
    priced(colleague, total="23.45")
    page = signed_in(fleet.driver).get(reverse("portal:home")).content.decode()
    assert "21.11" in page and "23.45" not in page
    assert "Open amount" not in page


def test_portal_pages_name_the_logo_as_their_icon_so_browsers_do_not_ask_for_a_missing_favicon(person_client):
    html = person_client.get(reverse("portal:home")).content.decode()

    assert '<link rel="icon" href="/static/evbackoffice/logo.svg" type="image/svg+xml">' in html
