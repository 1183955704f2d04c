"""The Accountants role: a group with read-only permissions on invoices, lines, charge records and customers,
present in every fresh database, and the one rule for who may list invoices."""

from django.contrib.auth.models import Group, Permission

from billing.accounting.roles import ACCOUNTANT_GROUP, accountant_role_ensure, can_list_invoices
from tests.billing.test_accounting_helpers import accountant
from tests.factories import StaffUserFactory, UserFactory

EXPECTED = {
    ("billing", "view_invoice"), ("billing", "view_invoiceline"), ("billing", "view_chargedetailrecord"),
    ("customers", "view_customer"),
}


def _permissions(group) -> set[tuple[str, str]]:
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def test_a_migrated_database_has_the_accountants_group_with_exactly_the_view_permissions(db):
    # The test database is built by running the migrations, as a fresh production database is.
    group = Group.objects.get(name=ACCOUNTANT_GROUP)

    assert _permissions(group) == EXPECTED


def test_ensuring_the_role_again_restores_exactly_its_permissions(db):
    group = Group.objects.get(name=ACCOUNTANT_GROUP)
    group.permissions.add(Permission.objects.get(codename="change_chargepoint"))
    group.permissions.remove(Permission.objects.get(codename="view_invoice"))

    assert accountant_role_ensure().pk == group.pk
    assert _permissions(group) == EXPECTED


def test_an_accountant_may_list_invoices_but_not_change_anything_or_see_stations(db):
    user = accountant()

    assert can_list_invoices(user)
    assert user.has_perm("billing.view_chargedetailrecord") and user.has_perm("customers.view_customer")
    assert not user.has_perm("billing.change_invoice") and not user.has_perm("customers.change_customer")
    assert not user.has_perm("stations.view_chargepoint") and not user.has_perm("stations.change_chargepoint")


def test_drivers_and_staff_without_the_permission_may_not_list_invoices(db):
    assert not can_list_invoices(UserFactory())
    assert not can_list_invoices(UserFactory(is_staff=True))
    assert not can_list_invoices(accountant(is_active=False))
    assert can_list_invoices(StaffUserFactory())  # a superuser has every permission
