"""The audit log: every staff change (admin forms, bulk actions, API writes, station commands, group changes)
leaves an entry with who, what, before and after of the changed fields, path and address; secrets never
appear; drivers' own actions are not staff actions; nobody can change or delete an entry in the admin."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.authtoken.models import Token

from customers.models import Customer, IdToken
from staff.audit import HIDDEN, acting
from staff.models import AuditEntry
from staff.roles import OPERATOR, SUPPORT
from tests.factories import ChargePointFactory, CustomerFactory, IdTokenFactory, StaffUserFactory, UserFactory
from tests.staff.conftest import sign_in_verified, staff_member
from tests.stations.ocpp_helpers import STATION_PASSWORD

STATION_FIELDS = {"evses-TOTAL_FORMS": 0, "evses-INITIAL_FORMS": 0, "evses-MIN_NUM_FORMS": 0,
                  "evses-MAX_NUM_FORMS": 1000}


def _station_form(station, **changes) -> dict:
    return {"identity": station.identity, "location": station.location_id,
            "registration_status": station.registration_status, "ocpp_version": station.ocpp_version,
            "security_profile": station.security_profile, "new_password": "", **STATION_FIELDS, **changes}


@pytest.fixture
def operator(db):
    return staff_member(OPERATOR)


@pytest.fixture
def operator_client(client, operator):
    return sign_in_verified(client, operator)


def test_an_admin_change_records_who_changed_which_fields_from_what_to_what(operator_client, operator):
    station = ChargePointFactory(registration_status="Pending")

    response = operator_client.post(reverse("admin:stations_chargepoint_change", args=[station.pk]),
                                    _station_form(station, registration_status="Accepted"),
                                    REMOTE_ADDR="192.0.2.7")

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="update", object_pk=str(station.pk))
    assert (entry.actor, entry.actor_username) == (operator, operator.username)
    assert entry.content_type.model == "chargepoint" and entry.object_repr == str(station)
    assert entry.before == {"registration_status": "Pending"} and entry.after == {"registration_status": "Accepted"}
    assert entry.request_path == reverse("admin:stations_chargepoint_change", args=[station.pk])
    assert entry.ip_address == "192.0.2.7"


def test_a_station_password_set_in_the_admin_is_recorded_as_changed_but_never_written(operator_client):
    station = ChargePointFactory()

    operator_client.post(reverse("admin:stations_chargepoint_change", args=[station.pk]),
                         _station_form(station, new_password=STATION_PASSWORD))

    entry = AuditEntry.objects.get(action="update", object_pk=str(station.pk))
    assert entry.after == {"password_hash": HIDDEN}
    station.refresh_from_db()
    assert station.password_hash not in str(entry.before) + str(entry.after)


def test_a_command_sent_from_the_admin_appears_in_the_log(operator_client, operator):
    station = ChargePointFactory()

    operator_client.post(reverse("admin:stations_chargepoint_command", args=[station.pk]) + "?raw=1",
                         {"action": "Reset", "payload": '{"type": "Soft"}', "confirm": "on"})

    entry = AuditEntry.objects.get(action="command")
    assert entry.actor == operator and entry.summary == "Reset" and entry.object_repr == str(station)
    assert entry.after["payload"] == {"type": "Soft"} and entry.after["state"] == "offline"


def test_a_bulk_action_that_updates_rows_without_signals_is_recorded_per_row(client, db):
    support = staff_member(SUPPORT)
    tokens = [IdTokenFactory(), IdTokenFactory()]
    sign_in_verified(client, support)

    client.post(reverse("admin:customers_idtoken_changelist"),
                {"action": "block", "_selected_action": [t.pk for t in tokens]})

    entries = AuditEntry.objects.filter(action="action").order_by("object_pk")
    assert [e.object_pk for e in entries] == sorted(str(t.pk) for t in tokens)
    assert {e.summary for e in entries} == {"Block the selected tokens"}
    assert all(e.before == {"status": "valid"} and e.after == {"status": "blocked"} for e in entries)


def test_a_bulk_action_recorded_by_the_signals_is_not_recorded_twice(admin_client_verified):
    customer = CustomerFactory()

    admin_client_verified.post(reverse("admin:customers_customer_changelist"),
                               {"action": "suspend", "_selected_action": [customer.pk]})

    entries = AuditEntry.objects.filter(content_type__model="customer", object_pk=str(customer.pk))
    assert [(e.action, e.after) for e in entries] == [("action", {"status": "suspended"})]


@pytest.fixture
def admin_client_verified(client, db):
    return sign_in_verified(client, StaffUserFactory())


def test_an_admin_deletion_records_the_deleted_values(admin_client_verified):
    group = Group.objects.create(name="Night shift")

    admin_client_verified.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"})

    entry = AuditEntry.objects.get(action="delete")
    assert entry.object_repr == "Night shift" and entry.before == {"name": "Night shift"} and entry.after is None


def test_adding_someone_to_a_role_is_recorded(admin_client_verified):
    user = UserFactory(is_staff=True)

    with acting(user=StaffUserFactory()):
        user.groups.add(Group.objects.get(name=OPERATOR))

    entry = AuditEntry.objects.get(object_pk=str(user.pk), action="update")
    assert entry.before == {"groups": []} and entry.after == {"groups": [OPERATOR]}


def test_an_api_write_by_a_token_client_is_recorded_under_the_tokens_owner(db):
    operator = staff_member(OPERATOR)
    token = IdTokenFactory()
    key = Token.objects.create(user=operator).key
    from django.test import Client

    response = Client().patch(f"/api/v1/tokens/{token.pk}/", {"status": "blocked"}, content_type="application/json",
                              HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    entry = AuditEntry.objects.get(object_pk=str(token.pk))
    assert entry.actor == operator and entry.after == {"status": "blocked"}
    assert entry.request_path == f"/api/v1/tokens/{token.pk}/"


def test_an_api_created_customer_is_recorded_with_its_values(db):
    operator = staff_member(OPERATOR)
    key = Token.objects.create(user=operator).key
    from django.test import Client

    response = Client().post("/api/v1/customers/", {"kind": "person", "name": "Jana Novak", "email": "j@example.com",
                                                     "address_line1": "Hauptstrasse 5", "postal_code": "10115",
                                                     "city": "Berlin", "country": "DE", "currency": "EUR"},
                             content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 201, response.content
    entry = AuditEntry.objects.get(action="create", content_type__model="customer")
    assert entry.after["name"] == "Jana Novak" and entry.object_repr


def test_a_drivers_own_changes_are_not_staff_actions(db):
    driver = UserFactory(customer=CustomerFactory())

    with acting(user=driver):
        Customer.objects.filter(pk=driver.customer_id).get().save()
        IdToken.objects.create(uid="04AA11BB22CC33", customer=driver.customer)
        driver.customer.name = "Renamed by the driver"
        driver.customer.save()

    assert not AuditEntry.objects.exists()


def test_a_driver_stopping_their_session_in_the_portal_is_not_a_staff_command(client, db):
    from stations.commands import command_request

    driver = UserFactory(customer=CustomerFactory())
    station = ChargePointFactory()
    client.force_login(driver)

    with acting(user=driver):
        command_request(charge_point=station, action="RemoteStopTransaction", payload={"transactionId": 1},
                        requested_by=driver)

    assert not AuditEntry.objects.exists()


def test_changes_outside_a_staff_request_are_not_recorded(db):
    ChargePointFactory()

    assert not AuditEntry.objects.exists()


def test_sign_in_and_out_of_staff_are_recorded(client, db):
    operator = staff_member(OPERATOR)

    client.post(reverse("admin:login"), {"username": operator.username, "password": "correct horse battery staple"})
    client.post(reverse("admin:logout"))

    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["login", "logout"]


# --- the log in the admin --------------------------------------------------------------------------------------
def test_nobody_can_add_change_or_delete_entries_in_the_admin_not_even_a_superuser(admin_client_verified):
    with acting(user=StaffUserFactory()):
        ChargePointFactory()
    entry = AuditEntry.objects.get(content_type__model="chargepoint")
    change_url = reverse("admin:staff_auditentry_change", args=[entry.pk])

    assert admin_client_verified.get(reverse("admin:staff_auditentry_add")).status_code == 403
    assert admin_client_verified.get(reverse("admin:staff_auditentry_delete", args=[entry.pk])).status_code == 403
    page = admin_client_verified.get(change_url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    admin_client_verified.post(change_url, {"summary": "rewritten"})
    admin_client_verified.post(reverse("admin:staff_auditentry_changelist"),
                               {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    entry.refresh_from_db()
    assert entry.summary == "" and AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_log_is_filterable_by_staff_action_and_model_and_searchable_by_object(admin_client_verified):
    alice, bob = staff_member(OPERATOR, username="alice"), staff_member(OPERATOR, username="bob")
    with acting(user=alice):
        ChargePointFactory(identity="CP-ALICE")
    with acting(user=bob):
        IdTokenFactory(uid="04BB0B0B0B0B0B")
    url = reverse("admin:staff_auditentry_changelist")

    def shown(query: str) -> set[str]:
        return {e.object_repr for e in admin_client_verified.get(url + query).context["cl"].result_list}

    assert any("CP-ALICE" in r for r in shown("?who=alice")) and not any("04BB" in r for r in shown("?who=alice"))
    assert shown("?action__exact=create") == shown("") - shown("?action__exact=login")
    token_type = AuditEntry.objects.get(content_type__model="idtoken").content_type_id
    assert shown(f"?model={token_type}") == {str(IdToken.objects.get())}
    assert shown("?q=CP-ALICE") == {r for r in shown("") if "CP-ALICE" in r}


def test_a_support_member_cannot_see_the_log(client, db):
    sign_in_verified(client, staff_member(SUPPORT))

    assert client.get(reverse("admin:staff_auditentry_changelist")).status_code == 403
