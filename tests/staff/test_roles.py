"""The staff roles: groups with exact permission sets from a migrated database, kept exact by roles_ensure and
`manage.py setup_roles`, and what each role can and cannot do in the admin, the command page and the API."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from staff.roles import ACCOUNTANT, ADMIN, OPERATOR, ROLES, SUPPORT, command_permitted, role_permissions, roles_ensure
from stations.models import StationCommand
from tests.factories import ChargePointFactory, IdTokenFactory
from tests.staff.conftest import sign_in_verified, staff_member


def _permissions(group) -> set[tuple[str, str]]:
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def test_a_migrated_database_has_every_role_with_exactly_its_permissions(db):
    for name, wanted in role_permissions().items():
        assert _permissions(Group.objects.get(name=name)) == wanted, name


def test_every_permission_a_role_names_exists(db):
    existing = set(Permission.objects.values_list("content_type__app_label", "codename"))
    for name, wanted in role_permissions().items():
        assert wanted <= existing, (name, wanted - existing)


def test_ensuring_the_roles_again_restores_their_sets_and_is_idempotent(db):
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(Permission.objects.get(codename="change_tariff"))
    Group.objects.get(name=ADMIN).delete()

    first = roles_ensure()
    second = roles_ensure()

    assert first[SUPPORT].pk == second[SUPPORT].pk == support.pk
    assert _permissions(support) == role_permissions()[SUPPORT]
    assert Group.objects.filter(name__in=ROLES).count() == 4


def test_setup_roles_command_reports_each_role(db):
    out = StringIO()
    call_command("setup_roles", "--list", stdout=out)

    text = out.getvalue()
    for name in ROLES:
        assert f"{name}: " in text
    assert "  stations.send_session_command" in text


def test_support_reads_everything_but_changes_neither_tariffs_nor_money(db):
    wanted = role_permissions()[SUPPORT]
    assert ("billing", "view_tariff") in wanted and ("billing", "view_invoice") in wanted
    assert ("customers", "change_idtoken") in wanted
    changes = {codename for _, codename in wanted if not codename.startswith("view_")}
    assert changes == {"change_idtoken", "add_stationcommand", "send_session_command"}


def test_operator_runs_the_network_but_only_looks_at_invoices_and_users(db):
    wanted = role_permissions()[OPERATOR]
    for permission in ("change_chargepoint", "add_stationcommand", "send_station_command", "change_tariff",
                       "change_customer", "change_idtoken", "add_chargedetailrecord"):
        assert any(codename == permission for _, codename in wanted), permission
    assert ("billing", "view_invoice") in wanted
    assert not {("billing", "change_invoice"), ("billing", "add_payment"), ("customers", "change_user"),
                ("auth", "change_group")} & wanted


def test_admin_manages_users_groups_and_settings_but_not_the_network(db):
    wanted = role_permissions()[ADMIN]
    assert {("customers", "change_user"), ("auth", "change_group"), ("billing", "change_operatorprofile"),
            ("otp_totp", "delete_totpdevice"), ("staff", "view_auditentry")} <= wanted
    assert not {("stations", "add_stationcommand"), ("billing", "change_tariff")} & wanted


@pytest.mark.parametrize(("action", "support", "operator", "accountant"), [
    ("RemoteStopTransaction", True, True, False),
    ("UnlockConnector", True, True, False),
    ("RemoteStartTransaction", True, True, False),
    ("Reset", False, True, False),
    ("ChangeConfiguration", False, True, False),
    ("UpdateFirmware", False, True, False),
])
def test_which_role_may_send_which_command(db, action, support, operator, accountant):
    assert command_permitted(staff_member(SUPPORT), action) is support
    assert command_permitted(staff_member(OPERATOR), action) is operator
    assert command_permitted(staff_member(ACCOUNTANT), action) is accountant
    assert command_permitted(staff_member(ADMIN), action) is False


# --- the admin --------------------------------------------------------------------------------------------------
ADMIN_PAGES = {
    "stations": "admin:stations_chargepoint_changelist",
    "tokens": "admin:customers_idtoken_changelist",
    "tariffs": "admin:billing_tariff_changelist",
    "invoices": "admin:billing_invoice_changelist",
    "users": "admin:customers_user_changelist",
    "groups": "admin:auth_group_changelist",
    "audit": "admin:staff_auditentry_changelist",
}
CAN_SEE = {
    OPERATOR: {"stations", "tokens", "tariffs", "invoices", "audit"},
    SUPPORT: {"stations", "tokens", "tariffs", "invoices", "users"},
    ACCOUNTANT: {"invoices"},
    ADMIN: {"stations", "tokens", "tariffs", "invoices", "users", "groups", "audit"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_its_admin_lists(client, db, role):
    sign_in_verified(client, staff_member(role))

    seen = {page for page, url in ADMIN_PAGES.items() if client.get(reverse(url)).status_code == 200}

    assert seen == CAN_SEE[role]


@pytest.mark.parametrize(("role", "can_change"), [(OPERATOR, True), (SUPPORT, False), (ACCOUNTANT, None)])
def test_station_change_form_is_editable_only_for_operators(client, db, role, can_change):
    station = ChargePointFactory()
    sign_in_verified(client, staff_member(role))

    response = client.get(reverse("admin:stations_chargepoint_change", args=[station.pk]))

    if can_change is None:
        assert response.status_code in (302, 403)
    else:
        assert response.status_code == 200
        assert response.context["has_change_permission"] is can_change


def test_support_can_block_a_token_in_the_admin(client, db):
    token = IdTokenFactory()
    sign_in_verified(client, staff_member(SUPPORT))

    response = client.post(reverse("admin:customers_idtoken_changelist"),
                           {"action": "block", "_selected_action": [token.pk]})

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.status == token.Status.BLOCKED


@pytest.mark.parametrize("role", [ACCOUNTANT, ADMIN])
def test_roles_without_command_permissions_cannot_reach_the_admin_command_page(client, db, role):
    station = ChargePointFactory()
    sign_in_verified(client, staff_member(role))
    url = reverse("admin:stations_chargepoint_command", args=[station.pk])

    assert client.get(url).status_code == 403
    client.post(url + "?raw=1", {"action": "Reset", "payload": '{"type": "Hard"}', "confirm": "on"})
    assert not StationCommand.objects.exists()


def test_support_sends_session_commands_from_the_admin_but_never_a_reset(client, db):
    station = ChargePointFactory()
    sign_in_verified(client, staff_member(SUPPORT))
    url = reverse("admin:stations_chargepoint_command", args=[station.pk])

    assert client.get(url + "?action=Reset&type=Hard").status_code == 403
    client.post(url + "?raw=1", {"action": "Reset", "payload": '{"type": "Hard"}', "confirm": "on"})
    assert not StationCommand.objects.exists()

    client.post(url + "?raw=1", {"action": "UnlockConnector", "payload": '{"connectorId": 1}', "confirm": "on"})
    assert StationCommand.objects.get().action == "UnlockConnector"


def test_an_operator_sends_a_command_from_the_admin(client, db):
    station = ChargePointFactory()
    sign_in_verified(client, staff_member(OPERATOR))

    client.post(reverse("admin:stations_chargepoint_command", args=[station.pk]) + "?raw=1",
                {"action": "Reset", "payload": '{"type": "Soft"}', "confirm": "on"})

    assert StationCommand.objects.get().action == "Reset"


# --- the REST API --------------------------------------------------------------------------------------------
def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _command(client, identity: str, action: str, payload: dict):
    return client.post(f"/api/v1/charge-points/{identity}/commands/", {"action": action, "payload": payload},
                       format="json")


def test_the_accountant_cannot_reach_station_commands_or_stations_in_the_api(db):
    station = ChargePointFactory()
    client = _api(staff_member(ACCOUNTANT))

    assert client.get("/api/v1/charge-points/").status_code == 403
    assert client.get(f"/api/v1/charge-points/{station.identity}/commands/").status_code == 403
    assert _command(client, station.identity, "RemoteStopTransaction", {"transactionId": 1}).status_code == 403
    assert client.get("/api/v1/invoices/").status_code == 200
    assert not StationCommand.objects.exists()


def test_support_sends_session_commands_but_not_disruptive_ones_through_the_api(db):
    station = ChargePointFactory()
    client = _api(staff_member(SUPPORT))

    stop = _command(client, station.identity, "RemoteStopTransaction", {"transactionId": 1})
    unlock = _command(client, station.identity, "UnlockConnector", {"connectorId": 1})
    reset = _command(client, station.identity, "Reset", {"type": "Hard"})

    assert (stop.status_code, unlock.status_code, reset.status_code) == (201, 201, 403)
    assert sorted(StationCommand.objects.values_list("action", flat=True)) == [
        "RemoteStopTransaction", "UnlockConnector"]


def test_support_blocks_tokens_but_cannot_change_tariffs_or_customers_through_the_api(db):
    token = IdTokenFactory()
    client = _api(staff_member(SUPPORT))

    assert client.patch(f"/api/v1/tokens/{token.pk}/", {"status": "blocked"}, format="json").status_code == 200
    assert client.patch(f"/api/v1/customers/{token.customer_id}/", {"name": "X"}, format="json").status_code == 403
    assert client.post("/api/v1/tariffs/", {}, format="json").status_code == 403
    assert client.get("/api/v1/tariffs/").status_code == 200


def test_operator_sends_any_command_and_changes_stations_through_the_api(db):
    station = ChargePointFactory()
    client = _api(staff_member(OPERATOR))

    assert _command(client, station.identity, "Reset", {"type": "Hard"}).status_code == 201
    assert client.patch(f"/api/v1/charge-points/{station.pk}/", {"vendor": "ABB"}, format="json").status_code == 200
