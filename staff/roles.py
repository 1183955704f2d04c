"""The operator's staff roles as Django groups with exact permission sets, and who may send which station command.

- Operator: everything on the network (sites, stations, commands, sessions, customers, tokens, tariffs, loyalty,
  charge record credits and corrections), invoices and payments to look at only.
- Support: reads everything; acts on sessions (session-level station commands) and tokens (block, unblock);
  nothing of tariffs, and no money: no invoice, payment or credit changes.
- Accountant: invoices only (billing/accounting/roles.py decides what that means).
- Admin: users, groups, API tokens, two-factor devices, login lockouts and the operator's settings, and reads
  everything. Running the network is the Operator's: give a person both groups to do both.

The groups are the code's: `roles_ensure` makes each one hold exactly its set (it runs in a data migration and
after every `migrate`), so a permission added by hand to one of them disappears again. Give somebody an extra
permission on their user, or through a group of your own.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from billing.accounting.roles import ACCOUNTANT_GROUP, ACCOUNTANT_PERMISSIONS

OPERATOR, SUPPORT, ADMIN = "Operators", "Support", "Administrators"
ACCOUNTANT = ACCOUNTANT_GROUP
NETWORK_APPS = ("stations", "customers", "billing")
CRUD = ("add", "change", "delete", "view")
ADD_CHANGE_VIEW = ("add", "change", "view")

# --- station commands: two classes, one permission each --------------------------------------------------------
# Session-level operations serve one driver's session and cannot take a station out of service; everything else
# (reset, availability, configuration, firmware, local lists, charging profiles, data transfer) is disruptive.
SESSION_COMMANDS = frozenset({
    "RemoteStartTransaction", "RemoteStopTransaction", "UnlockConnector", "ReserveNow", "CancelReservation",
    "TriggerMessage", "GetConfiguration", "GetLocalListVersion", "GetCompositeSchedule",
})
SEND_SESSION_COMMAND = ("stations", "stationcommand", "send_session_command", "Can send session-level commands")
SEND_STATION_COMMAND = ("stations", "stationcommand", "send_station_command", "Can send any command to a station")
CUSTOM_PERMISSIONS = (SEND_SESSION_COMMAND, SEND_STATION_COMMAND)


def command_permission(action: str) -> str:
    """The permission a user needs to send this OCPP operation to a station."""
    app_label, _, codename, _ = SEND_SESSION_COMMAND if action in SESSION_COMMANDS else SEND_STATION_COMMAND
    return f"{app_label}.{codename}"


def command_permitted(user, action: str) -> bool:
    """May this user send `action`? Anyone who may send any command may also send the session-level ones."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.has_perm(command_permission(action)) or user.has_perm(_label(SEND_STATION_COMMAND))


def commands_permitted(user, actions) -> list[str]:
    """The subset of `actions` (in their order) this user may send; empty for those who may send none."""
    return [action for action in actions if command_permitted(user, action)]


def _label(custom: tuple) -> str:
    return f"{custom[0]}.{custom[2]}"


# --- the roles ---------------------------------------------------------------------------------------------
def _on(app_label: str, models: tuple[str, ...], actions: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(app_label, f"{action}_{model}") for model in models for action in actions}


def _view_everything(apps) -> set[tuple[str, str]]:
    """view_<model> of every model of the network apps, except the payment provider's raw webhook events."""
    wanted = set()
    for app_label in NETWORK_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.model_name != "webhookevent":
                wanted.add((app_label, f"view_{model._meta.model_name}"))
    return wanted


def _operator(apps) -> set[tuple[str, str]]:
    return (
        _view_everything(apps) - {("customers", "view_user")}
        | _on("stations", ("location", "chargepoint", "evse", "connector"), CRUD)
        | {("stations", "add_stationcommand"), _custom(SEND_SESSION_COMMAND), _custom(SEND_STATION_COMMAND)}
        | _on("customers", ("customer", "idtoken", "customergroup", "cardstock", "cardorder"), ADD_CHANGE_VIEW)
        | _on("billing", ("tariff", "tariffelement", "tariffassignment", "pricefeed"), CRUD)
        | _on("billing", ("membershipplan", "membership", "pointscampaign", "promocode"), ADD_CHANGE_VIEW)
        | _on("billing", ("billingprofile",), ADD_CHANGE_VIEW)
        # A credit or correction of a charge record adds records (billing/admin/cdrs.py).
        | {("billing", "add_chargedetailrecord"), ("staff", "view_auditentry")}
    )


def _support(apps) -> set[tuple[str, str]]:
    return _view_everything(apps) | {
        ("customers", "change_idtoken"), ("stations", "add_stationcommand"), _custom(SEND_SESSION_COMMAND),
    }


def _admin(apps) -> set[tuple[str, str]]:
    return (
        _view_everything(apps)
        | _on("customers", ("user",), CRUD)
        | _on("auth", ("group",), CRUD) | {("auth", "view_permission")}
        | _on("authtoken", ("token", "tokenproxy"), CRUD)
        # Removing somebody's authenticator lets them enrol a new one at their next sign-in.
        | _on("otp_totp", ("totpdevice",), ("view", "delete"))
        | _on("otp_static", ("staticdevice",), ("view", "delete"))
        | _on("axes", ("accessattempt", "accesslog", "accessfailurelog"), ("view", "delete"))
        | _on("billing", ("operatorprofile", "numberseries"), ADD_CHANGE_VIEW)
        | {("billing", "view_webhookevent"), ("staff", "view_auditentry")}
    )


def _custom(custom: tuple) -> tuple[str, str]:
    return custom[0], custom[2]


def role_permissions(apps=global_apps) -> dict[str, set[tuple[str, str]]]:
    """Each role's group name and its exact set of (app_label, codename)."""
    return {
        OPERATOR: _operator(apps),
        SUPPORT: _support(apps),
        ACCOUNTANT: set(ACCOUNTANT_PERMISSIONS),
        ADMIN: _admin(apps),
    }


ROLES = (OPERATOR, SUPPORT, ACCOUNTANT, ADMIN)


# --- ensuring them ------------------------------------------------------------------------------------------
def permissions_ensure(*, apps=global_apps, using: str = "default") -> None:
    """Every model's permissions and our custom ones exist. Django creates model permissions after all
    migrations (post_migrate), so a data migration must create them first (idempotent)."""
    for config in global_apps.get_app_configs():
        if config.models_module is not None:
            create_permissions(config, verbosity=0, apps=apps, using=using)
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    for app_label, model, codename, name in CUSTOM_PERMISSIONS:
        content_type, _ = content_type_model.objects.db_manager(using).get_or_create(app_label=app_label, model=model)
        permission_model.objects.using(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name})


def role_ensure(*, name: str, permissions, apps=global_apps, using: str = "default"):
    """The group `name` with exactly `permissions` (pairs of app_label, codename); returns it.

    Permissions of models the registry does not know (yet: a migration's historical state) are left out."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.using(using).get_or_create(name=name)
    by_key = {
        (app_label, codename): pk for pk, app_label, codename in permission_model.objects.using(using)
        .filter(content_type__app_label__in={app_label for app_label, _ in permissions})
        .values_list("pk", "content_type__app_label", "codename")
    }
    group.permissions.set([by_key[key] for key in sorted(permissions) if key in by_key])
    return group


def roles_ensure(*, apps=global_apps, using: str = "default") -> dict[str, object]:
    """All four role groups with exactly their permissions; idempotent. Returns the groups by name."""
    permissions_ensure(apps=apps, using=using)
    return {name: role_ensure(name=name, permissions=wanted, apps=apps, using=using)
            for name, wanted in role_permissions(apps).items()}
