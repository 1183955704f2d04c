"""When the audit log records: model signals for the project's models while a staff member acts, station
commands as they are requested, group and permission changes, sign-ins, and the admin's bulk actions, which
often change rows with queryset.update() (no signals) and are therefore compared before and after."""

import functools

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_save

from staff.audit import acting_staff, admin_action, audit_record, changes, row_values
from staff.models import AuditEntry
from staff.sessions import staff_session_start

AUDITED_APPS = ("stations", "customers", "billing", "staff", "auth", "authtoken", "otp_totp", "otp_static")
# High-volume rows that stations or machines write (never staff), the audit table itself, and rows recorded
# in their own way (commands) or not at all (a backup code is used up on every sign-in with it).
NOT_AUDITED = frozenset({
    "stations.metervalue", "stations.ocppmessage", "stations.statusevent", "stations.stationevent",
    "stations.stationcommand", "billing.pricefeedvalue", "billing.webhookevent", "staff.auditentry",
    "auth.permission", "otp_static.statictoken",
})
# Many-to-many fields whose changes decide what somebody may do.
AUDITED_M2M = (("customers", "User", "groups"), ("customers", "User", "user_permissions"),
               ("auth", "Group", "permissions"))
UID = "staff-audit"


def audited_models() -> list:
    labels = {config.label for config in apps.get_app_configs()}
    return [model for app_label in AUDITED_APPS if app_label in labels
            for model in apps.get_app_config(app_label).get_models()
            if model._meta.label_lower not in NOT_AUDITED and not model._meta.auto_created]


def connect(app_config) -> None:
    for model in audited_models():
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"{UID}-pre-{model._meta.label_lower}")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"{UID}-post-{model._meta.label_lower}")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{UID}-delete-{model._meta.label_lower}")
    for app_label, model_name, field_name in AUDITED_M2M:
        through = getattr(apps.get_model(app_label, model_name), field_name).through
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"{UID}-m2m-{through._meta.label_lower}")
    post_save.connect(_command_requested, sender=apps.get_model("stations", "StationCommand"),
                      dispatch_uid=f"{UID}-command")
    user_logged_in.connect(_logged_in, dispatch_uid=f"{UID}-login")
    user_logged_out.connect(_logged_out, dispatch_uid=f"{UID}-logout")
    audit_admin_actions(admin.site)
    # The role groups follow the code: after every migrate (a new model's permissions included).
    post_migrate.connect(_roles_after_migrate, sender=app_config, dispatch_uid=f"{UID}-roles")


def _roles_after_migrate(sender, using, **kwargs) -> None:
    from staff.roles import roles_ensure

    roles_ensure(using=using)


# --- rows ------------------------------------------------------------------------------------------------------
def _before_save(sender, instance, raw=False, **kwargs) -> None:
    if raw or instance._state.adding or instance.pk is None or acting_staff() is None:
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = row_values(old) if old is not None else None


def _after_save(sender, instance, created, raw=False, **kwargs) -> None:
    actor = acting_staff()
    if raw or actor is None:
        return
    before = None if created else getattr(instance, "_audit_before", None)
    instance.__dict__.pop("_audit_before", None)
    old, new = changes(before, row_values(instance))
    if not created and not new:
        return  # saved without a change worth recording
    audit_record(actor=actor, action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
                 obj=instance, before=old, after=new, summary=_action_summary())


def _after_delete(sender, instance, **kwargs) -> None:
    actor = acting_staff()
    if actor is None:
        return
    old, _ = changes(row_values(instance), None)
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, obj=instance, before=old, summary=_action_summary())


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    actor = acting_staff()
    if actor is None or action not in ("pre_add", "pre_remove", "pre_clear", "post_add", "post_remove",
                                       "post_clear"):
        return
    field_name = next(f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender) \
        if not reverse else _reverse_name(sender, instance)
    current = sorted(str(o) for o in getattr(instance, field_name).all())
    if action.startswith("pre_"):
        instance.__dict__.setdefault("_audit_m2m_before", {})[field_name] = current
        return
    before = instance.__dict__.get("_audit_m2m_before", {}).pop(field_name, None)
    if before is None or before == current:
        return
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=instance, before={field_name: before},
                 after={field_name: current}, summary=_action_summary())


def _reverse_name(through, instance) -> str:
    """The accessor on `instance` for a many-to-many changed from its other side (group.user_set)."""
    for relation in type(instance)._meta.related_objects:
        if relation.many_to_many and relation.through is through:
            return relation.get_accessor_name()
    raise LookupError(through)


def _action_summary() -> str:
    from staff.audit import current_action_name

    return current_action_name()


# --- commands and sign-ins -----------------------------------------------------------------------------------
def _command_requested(sender, instance, created, raw=False, **kwargs) -> None:
    actor = acting_staff()
    if raw or not created or actor is None:
        return
    payload = instance.payload
    if instance.action == "SendLocalList":  # the whole token list is not worth keeping per command
        payload = {k: v for k, v in payload.items() if k != "localAuthorizationList"} | {
            "entries": len(payload.get("localAuthorizationList", []))}
    audit_record(actor=actor, action=AuditEntry.Action.COMMAND, obj=instance.charge_point, summary=instance.action,
                 after={"command_id": instance.pk, "action": instance.action, "payload": payload,
                        "state": instance.state})


def _logged_in(sender, request, user, **kwargs) -> None:
    if user.is_staff and request is not None:
        staff_session_start(request.session)
        audit_record(actor=user, action=AuditEntry.Action.LOGIN, obj=user, request=request)


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None and user.is_staff:
        audit_record(actor=user, action=AuditEntry.Action.LOGOUT, obj=user, request=request)


# --- admin bulk actions ----------------------------------------------------------------------------------------
def audit_admin_actions(site) -> None:
    """Wraps every registered model admin's actions so that rows an action changed without model signals
    (queryset.update()) are recorded too, from a comparison of the selected rows before and after."""
    audited = set(audited_models())
    for model, model_admin in site._registry.items():
        if model in audited and not getattr(model_admin, "_staff_audited", False):
            model_admin.get_actions = _audited_get_actions(model_admin.get_actions)
            model_admin._staff_audited = True


def _audited_get_actions(get_actions):
    @functools.wraps(get_actions)
    def wrapper(request):
        return {name: (_audited_action(func, str(description)), name, description)
                for name, (func, name, description) in get_actions(request).items()}
    return wrapper


def _audited_action(func, description: str):
    @functools.wraps(func)
    def run(model_admin, request, queryset):
        actor = acting_staff()
        if actor is None:
            return func(model_admin, request, queryset)
        if getattr(func, "audit_read_only", False):
            # Changes nothing (an export): one entry says who took which model's rows, without reading them all
            # twice for a comparison (a selection across a million sessions).
            audit_record(actor=actor, action=AuditEntry.Action.ACTION, model=queryset.model, summary=description)
            return func(model_admin, request, queryset)
        before = {obj.pk: row_values(obj) for obj in queryset.iterator(chunk_size=500)}
        with admin_action(description) as recorded:
            response = func(model_admin, request, queryset)
            model = queryset.model
            for obj in model._base_manager.filter(pk__in=list(before)).iterator(chunk_size=500):
                if (model._meta.label_lower, str(obj.pk)) in recorded:
                    continue
                old, new = changes(before[obj.pk], row_values(obj))
                if new:
                    audit_record(actor=actor, action=AuditEntry.Action.ACTION, obj=obj, before=old, after=new,
                                 summary=description)
        return response
    return run
