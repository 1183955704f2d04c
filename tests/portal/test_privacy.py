"""Privacy: the data export holds exactly what the person may see; closing an account blocks it at once and
erases the personal data once nothing is owed, keeping issued invoices for the legal retention period."""

import json
from datetime import date
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import AccountDeletionRequest, CardOrder, Customer, IdToken, User
from customers.privacy import account_deletion_process, account_deletion_request, account_deletions_process_due
from stations.models import ChargingSession
from tests.billing.invoice_factories import InvoiceFactory
from tests.factories import ChargingSessionFactory, IdTokenFactory
from tests.portal.conftest import signed_in

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def export(user) -> dict:
    response = signed_in(user).get(reverse("portal:privacy_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="evbackoffice-data-')
    return json.loads(response.content)


def issued_invoice(customer, *, paid: bool, number: str = "INV-2026-0001", issue_date=date(2026, 7, 2)):
    return InvoiceFactory(customer=customer, status="issued", number=number, issue_date=issue_date,
                          total_incl_vat=Decimal("23.80"), buyer={"name": customer.name},
                          paid_at=timezone.now() if paid else None)


def close(client: Client, password: str = PASSWORD):
    return client.post(reverse("portal:privacy_delete"), {"password": password, "confirm": "on"})


# --- export -----------------------------------------------------------------------------------------------
def test_the_holders_export_has_the_account_its_cards_sessions_and_invoices_and_nobody_elses(person, other_person):
    card = IdTokenFactory(customer=person.customer, user=person)
    ChargingSessionFactory(id_token=card)
    issued_invoice(person.customer, paid=True)
    IdTokenFactory(customer=other_person.customer, uid="FOREIGN01")

    data = export(person)

    assert data["scope"] == "account"
    assert data["account"]["number"] == person.customer.number
    assert [c["uid"] for c in data["cards"]] == [card.uid]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["id_tag"] == card.uid
    assert [i["number"] for i in data["invoices"]] == ["INV-2026-0001"]
    assert "FOREIGN01" not in json.dumps(data)
    assert "password" not in json.dumps(data)


def test_a_company_drivers_export_holds_only_their_own_cards_and_sessions(fleet):
    own = IdTokenFactory(customer=fleet.company, user=fleet.driver)
    managers = IdTokenFactory(customer=fleet.company, user=fleet.manager)
    ChargingSessionFactory(id_token=own)
    ChargingSessionFactory(id_token=managers)
    issued_invoice(fleet.company, paid=False)

    data = export(fleet.driver)

    assert data["scope"] == "driver"
    assert [c["uid"] for c in data["cards"]] == [own.uid]
    assert [s["id_tag"] for s in data["sessions"]] == [own.uid]
    assert [u["email"] for u in data["users"]] == [fleet.driver.email]
    assert "invoices" not in data and "payments" not in data
    assert managers.uid not in json.dumps(data)


# --- closing an account -----------------------------------------------------------------------------------
def test_closing_an_account_that_owes_nothing_erases_the_personal_data_at_once(person, other_person):
    card = IdTokenFactory(customer=person.customer, user=person, label="Anna's card")
    invoice = issued_invoice(person.customer, paid=True)
    CardOrder.objects.create(customer=person.customer, user=person, recipient="Anna Schmidt",
                             address_line1="Hauptstrasse 5", postal_code="10115", city="Berlin", country="DE")
    EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=True)
    client = signed_in(person)

    response = close(client)

    assert response.status_code == 302 and response["Location"] == reverse("home")
    customer = Customer.objects.get(pk=person.customer_id)
    assert customer.status == Customer.Status.CLOSED
    assert (customer.name, customer.email, customer.address_line1, customer.city) == ("Erased account", "", "", "")
    person.refresh_from_db()
    assert (person.email, person.first_name, person.is_active) == ("", "", False)
    assert not person.has_usable_password() and not EmailAddress.objects.filter(user=person).exists()
    card.refresh_from_db()
    assert (card.status, card.user, card.label) == (IdToken.Status.BLOCKED, None, "")
    assert CardOrder.objects.get().address_line1 == ""
    invoice.refresh_from_db()
    assert invoice.buyer == {"name": invoice.buyer["name"]} and invoice.number == "INV-2026-0001"  # kept as issued
    deletion = AccountDeletionRequest.objects.get()
    assert deletion.state == "erased" and deletion.retain_invoices_until == date(2036, 12, 31)
    assert client.get(reverse("portal:home")).status_code == 302  # signed out
    assert Customer.objects.get(pk=other_person.customer_id).status == Customer.Status.ACTIVE


def test_an_unpaid_invoice_keeps_the_data_until_it_is_paid_while_the_account_is_closed_at_once(person):
    card = IdTokenFactory(customer=person.customer, user=person)
    invoice = issued_invoice(person.customer, paid=False)
    client = signed_in(person)

    close(client)

    deletion = AccountDeletionRequest.objects.get()
    person.customer.refresh_from_db()
    card.refresh_from_db()
    assert deletion.state == "requested"
    assert person.customer.status == Customer.Status.CLOSED and card.status == IdToken.Status.BLOCKED
    page = client.get(reverse("portal:privacy")).content.decode()
    assert "An invoice is not paid yet." in page  # the driver can still sign in, see and pay it

    assert account_deletions_process_due() == 0
    deletion.refresh_from_db()
    assert "An invoice is not paid yet." in deletion.waiting_for
    invoice.paid_at = timezone.now()
    invoice.save(update_fields=["paid_at"])

    assert account_deletions_process_due() == 1
    person.refresh_from_db()
    assert not person.is_active and person.email == ""


def test_a_session_in_progress_delays_the_erasure(person):
    session = ChargingSessionFactory(id_token=IdTokenFactory(customer=person.customer, user=person))
    deletion = account_deletion_request(customer=person.customer, requested_by=person)
    assert not account_deletion_process(deletion=deletion)
    deletion.refresh_from_db()
    assert "A charging session is in progress." in deletion.waiting_for
    assert session.state == ChargingSession.State.ACTIVE


def test_asking_twice_finds_the_first_request(person):
    issued_invoice(person.customer, paid=False)
    first = account_deletion_request(customer=person.customer, requested_by=person)
    again = account_deletion_request(customer=person.customer, requested_by=person)
    assert first == again and AccountDeletionRequest.objects.count() == 1


def test_a_wrong_password_closes_nothing(person):
    response = close(signed_in(person), password="guess")
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert not AccountDeletionRequest.objects.exists()
    person.customer.refresh_from_db()
    assert person.customer.status == Customer.Status.ACTIVE


def test_a_company_driver_cannot_close_the_company_account(fleet):
    card = IdTokenFactory(customer=fleet.company, user=fleet.manager)
    assert close(signed_in(fleet.driver)).status_code == 404
    page = signed_in(fleet.driver).get(reverse("portal:privacy")).content.decode()
    assert "ask them to remove you" in page
    card.refresh_from_db()
    assert card.status == IdToken.Status.VALID and not AccountDeletionRequest.objects.exists()


def test_closing_a_company_account_erases_its_people_but_keeps_the_companys_legal_details(fleet):
    close(signed_in(fleet.manager))
    company = Customer.objects.get(pk=fleet.company.pk)
    assert (company.name, company.vat_id, company.email) == ("Rheinfracht GmbH", "DE123456789", "")
    assert not User.objects.filter(customer=company, is_active=True).exists()
    assert set(User.objects.filter(customer=company).values_list("email", flat=True)) == {""}


def test_the_close_form_is_csrf_protected(person):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    assert close(client).status_code == 403
    assert not AccountDeletionRequest.objects.exists()


@pytest.mark.django_db
def test_the_daily_command_reports_what_still_waits(person, capsys):
    issued_invoice(person.customer, paid=False)
    account_deletion_request(customer=person.customer, requested_by=person)
    call_command("erase_closed_accounts")
    out = capsys.readouterr().out
    assert "0 accounts erased, 1 still waiting." in out and "An invoice is not paid yet." in out


def test_staff_see_the_requests_in_the_admin(admin_client, person):
    issued_invoice(person.customer, paid=False)
    account_deletion_request(customer=person.customer, requested_by=person)
    page = admin_client.get(reverse("admin:customers_accountdeletionrequest_changelist"))
    assert page.status_code == 200 and person.customer.number in page.content.decode()
