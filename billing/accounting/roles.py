"""The accountants' role and the one rule for who may see which invoice.

- Listing and searching all invoices: active staff with `billing.view_invoice` (accountants, operators,
  superusers).
- Downloading one document: those, or a signed-in user acting for the invoice's customer (a driver or fleet
  manager through the portal), and only issued documents.
- Everyone else gets 404, not 403, for an invoice they may not see: an id that exists must look exactly like
  one that does not, so ids cannot be probed.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db.models import QuerySet
from django.http import Http404

ACCOUNTANT_GROUP = "Accountants"
# Read-only: invoices and credit notes, their lines, the charge records behind them, and the customers billed.
# Nothing of stations, tokens or tariffs, and no add/change/delete anywhere.
ACCOUNTANT_PERMISSIONS = (
    ("billing", "view_invoice"),
    ("billing", "view_invoiceline"),
    ("billing", "view_chargedetailrecord"),
    ("customers", "view_customer"),
)
VIEW_INVOICE = "billing.view_invoice"


def accountant_role_ensure(*, apps=global_apps, using: str = "default"):
    """The Accountants group with exactly ACCOUNTANT_PERMISSIONS; creates what is missing, removes extras.

    One of the staff roles (staff/roles.py ensures all of them); billing's own migration 0003 calls it alone.
    Permissions are normally created by a post_migrate signal, i.e. after all migrations have run, so on a
    fresh database they do not exist yet when the data migration calls this: create them first (idempotent).
    `apps` is the migration's historical registry there, the real one elsewhere.
    """
    from staff.roles import role_ensure

    for app_label in {app_label for app_label, _ in ACCOUNTANT_PERMISSIONS}:
        create_permissions(global_apps.get_app_config(app_label), verbosity=0, apps=apps, using=using)
    return role_ensure(name=ACCOUNTANT_GROUP, permissions=ACCOUNTANT_PERMISSIONS, apps=apps, using=using)


def can_list_invoices(user) -> bool:
    """May search and export every customer's invoices (the accountants' workspace and the invoices API)."""
    return bool(user.is_authenticated and user.is_active and user.is_staff and user.has_perm(VIEW_INVOICE))


def invoices_visible_to(user) -> QuerySet:
    """The documents whose PDF this user may download: all issued ones for staff with the permission, the
    issued ones of their own customer account for a portal user, none for anybody else."""
    from billing.models import Invoice

    issued = Invoice.objects.filter(status=Invoice.Status.ISSUED)
    if can_list_invoices(user):
        return issued
    if user.is_authenticated and user.is_active and getattr(user, "customer_id", None):
        return issued.filter(customer_id=user.customer_id)
    return issued.none()


def invoice_for_download(user, pk) -> "Invoice":  # noqa: F821 (imported lazily: this module loads in migrations)
    """The invoice `pk` if this user may download it; Http404 otherwise, whether it exists or not."""
    invoice = invoices_visible_to(user).select_related("customer").filter(pk=pk).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice
