"""Recording what staff do: who is acting (the request a staff member is making, held in a context variable
for the duration of the request), the row values that changed, with secrets hidden, and the one service that
writes an audit entry. staff/hooks.py decides when to record; staff/middleware.py sets the acting request."""

import contextlib
import json
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from staff.models import AuditEntry

HIDDEN = "[hidden]"
# Never written into the log, whatever model has them: credentials, second factors, payment provider references.
SECRET_FIELD_NAMES = frozenset({
    "password", "password_hash", "key", "secret", "token", "otp_secret", "idempotency_key", "provider_customer_id",
    "provider_method_id", "provider_intent_id", "provider_refund_id", "client_secret", "uuid",
})
# Bookkeeping that changes on its own (a sign-in, a verified code) and says nothing about what staff did.
IGNORED_FIELD_NAMES = frozenset({
    "last_login", "last_t", "drift", "throttling_failure_timestamp", "throttling_failure_count", "last_used_at",
    "created_at", "updated_at",
})


@dataclass
class AuditScope:
    """What the current request knows: the request itself, the admin action running (if any), and which rows
    the model signals have recorded during it (so the action's own diff does not record them twice)."""

    request: object = None
    user: object = None
    action_name: str = ""
    recorded: set = field(default_factory=set)


_scope: ContextVar[AuditScope | None] = ContextVar("staff_audit_scope", default=None)


@contextlib.contextmanager
def acting(*, request=None, user=None):
    """Everything saved inside is attributed to the request's user (read when a change happens, so that DRF's
    token authentication, which sets it inside the view, counts) or to `user` when there is no request."""
    token = _scope.set(AuditScope(request=request, user=user))
    try:
        yield
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def admin_action(name: str):
    """Marks the admin action running; yields the set of (model label, pk) the signals record meanwhile."""
    scope = _scope.get()
    if scope is None:
        yield set()
        return
    saved, scope.action_name, scope.recorded = (scope.action_name, scope.recorded), name, set()
    try:
        yield scope.recorded
    finally:
        scope.action_name, scope.recorded = saved


def acting_staff():
    """The active staff member on whose behalf code runs now, or None (stations, drivers, tasks, commands)."""
    scope = _scope.get()
    if scope is None:
        return None
    user = scope.user if scope.request is None else getattr(scope.request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return user
    return None


# --- values --------------------------------------------------------------------------------------------------
def audited_fields(model) -> list:
    """The concrete fields whose changes are worth recording (not the key, not bookkeeping)."""
    return [f for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in IGNORED_FIELD_NAMES and not getattr(f, "auto_now", False)]


def is_secret(field_name: str) -> bool:
    return field_name in SECRET_FIELD_NAMES or "password" in field_name or "secret" in field_name


def _jsonable(value):
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "amount") and hasattr(value, "currency"):  # djmoney's Money
        return str(value.amount)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except TypeError:
        return str(value)


def row_values(instance) -> dict:
    """The audited fields of a model instance as JSON values, keyed by their attribute (customer_id, not customer)."""
    return {f.attname: _jsonable(getattr(instance, f.attname)) for f in audited_fields(type(instance))}


def changes(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Only what differs between two row_values (everything for a creation or deletion), secrets hidden."""
    if before is None or after is None:
        return _hide(before), _hide(after)
    changed = [name for name in after if before.get(name) != after[name]]
    return _hide({n: before.get(n) for n in changed}), _hide({n: after[n] for n in changed})


def _hide(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {name: HIDDEN if is_secret(name) and value not in (None, "") else value for name, value in values.items()}


# --- writing -------------------------------------------------------------------------------------------------
def _client_ip(request) -> str | None:
    if request is None:
        return None
    try:
        from axes.helpers import get_client_ip_address  # the same client address that login throttling uses

        return get_client_ip_address(request) or None
    except Exception:  # an unusual proxy header must not stop the change being recorded
        return request.META.get("REMOTE_ADDR") or None


def audit_record(*, actor, action: str, obj=None, model=None, before=None, after=None, summary: str = "",
                 request=None) -> AuditEntry:
    """Writes one audit entry (in the caller's transaction: a change rolled back leaves no entry)."""
    scope = _scope.get()
    request = request if request is not None else (scope.request if scope else None)
    model = model or (obj._meta.model if obj is not None else None)  # obj may be a lazy request.user
    entry = AuditEntry(
        actor=actor, actor_username=actor.get_username() if actor else "", action=action,
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False) if model else None,
        object_pk=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "", summary=str(summary)[:255],
        before=before, after=after,
        request_path=(request.path[:255] if request is not None else ""), ip_address=_client_ip(request),
    )
    entry.save()
    if scope is not None and obj is not None:
        scope.recorded.add((model._meta.label_lower, str(obj.pk)))
    return entry


def current_action_name() -> str:
    scope = _scope.get()
    return scope.action_name if scope else ""
