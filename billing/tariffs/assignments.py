"""Where and for whom a tariff applies (TariffAssignment), and which tariff prices a session.

Writes refuse overlapping and contradictory assignments with a message that names the conflict; see
`billing.tariffs` for the selection rule that `tariff_for_session` implements.
"""

from __future__ import annotations

import zlib
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from billing.models import Tariff, TariffAssignment
from customers.models import Customer, CustomerGroup
from stations.models import ChargePoint, Connector, Location

_SCOPES = ("connector", "charge_point", "location")  # most specific first


def tariff_assign(
    *, tariff: Tariff, location: Location | None = None, charge_point: ChargePoint | None = None,
    connector: Connector | None = None, customer_group: CustomerGroup | None = None,
    valid_from: datetime, valid_until: datetime | None = None,
) -> TariffAssignment:
    """Apply `tariff` at one scope (none given: the whole network) for one group (None: everyone) from
    `valid_from` until `valid_until` (exclusive; None: open-ended). Raises ValidationError naming the
    conflicting assignment or the contradiction."""
    assignment = TariffAssignment(
        tariff=tariff, location=location, charge_point=charge_point, connector=connector,
        customer_group=customer_group, valid_from=valid_from, valid_until=valid_until,
    )
    with transaction.atomic():
        _lock_scope(assignment)
        tariff_assignment_check(assignment=assignment)
        assignment.save()
    return assignment


def tariff_assignment_update(*, assignment: TariffAssignment, data: dict) -> TariffAssignment:
    """Change an assignment's fields (tariff, scope, group, period) under the same checks."""
    with transaction.atomic():
        assignment = TariffAssignment.objects.select_for_update().get(pk=assignment.pk)
        for name, value in data.items():
            setattr(assignment, name, value)
        _lock_scope(assignment)
        tariff_assignment_check(assignment=assignment)
        assignment.save()
    return assignment


def tariff_assignment_end(*, assignment: TariffAssignment, at: datetime) -> TariffAssignment:
    """End an assignment at `at` (exclusive): the way to retire a tariff while keeping the record of when it
    applied. Ending it earlier than planned never creates a conflict; `at` must be after its start."""
    with transaction.atomic():
        assignment = TariffAssignment.objects.select_for_update().get(pk=assignment.pk)
        if at <= assignment.valid_from:
            start = f"{assignment.valid_from:%Y-%m-%d %H:%M} UTC"
            raise ValidationError({"valid_until": [f"The end must be after the start ({start})."]})
        if assignment.valid_until is not None and at > assignment.valid_until:
            raise ValidationError({"valid_until": ["This would extend the assignment; change it instead."]})
        assignment.valid_until = at
        assignment.save(update_fields=["valid_until"])
    return assignment


def tariff_assignment_delete(*, assignment: TariffAssignment, now: datetime) -> None:
    """Delete an assignment that has not started yet. One that has started is history (which tariff priced a
    session); end it instead."""
    if assignment.valid_from <= now:
        raise ValidationError("This assignment has already started; end it (set valid until) instead of deleting it.")
    assignment.delete()


def tariff_assignment_check(*, assignment: TariffAssignment) -> None:
    """All the rules an assignment must follow, without writing. Forms call it to show errors on the page."""
    scopes = [name for name in _SCOPES if getattr(assignment, f"{name}_id") is not None]
    if len(scopes) > 1:
        raise ValidationError(
            f"Give one scope (a connector, a charge point or a location), not {' and '.join(scopes)}."
        )
    if assignment.valid_from is None:
        raise ValidationError({"valid_from": ["This field is required."]})
    if assignment.valid_until is not None and assignment.valid_until <= assignment.valid_from:
        raise ValidationError({"valid_until": ["The end must be after the start."]})
    _check_tariff_covers(assignment)
    conflicts = _overlapping(assignment)
    same_group = conflicts.filter(_same_group(assignment.customer_group_id)).first()
    if same_group is not None:
        raise ValidationError(f"Overlaps {describe_assignment(same_group)}.")
    other = conflicts.exclude(tariff__currency=assignment.tariff.currency).first()
    if other is not None:
        raise ValidationError({"tariff": [
            f"The tariff is in {assignment.tariff.currency}, but {describe_assignment(other)} at the same place "
            f"is in {other.tariff.currency}: one place charges in one currency."
        ]})


def describe_assignment(assignment: TariffAssignment) -> str:
    """'"AC public" at location Berlin Mitte, Berlin, for Fleet A, from 2026-01-01 00:00 UTC, open-ended'."""
    group = f"for {assignment.customer_group}" if assignment.customer_group_id else "for everyone"
    period = f"from {assignment.valid_from:%Y-%m-%d %H:%M} UTC"
    period += f" until {assignment.valid_until:%Y-%m-%d %H:%M} UTC" if assignment.valid_until else ", open-ended"
    return f'"{assignment.tariff.name}" at {assignment.scope_label}, {group}, {period}'


# Assignments to the whole network: no connector, charge point or location.
NETWORK_SCOPE = Q(connector__isnull=True, charge_point__isnull=True, location__isnull=True)


def tariff_for_session(*, connector: Connector, customer: Customer | None, at: datetime) -> Tariff | None:
    """The tariff that prices a session starting at `at` on `connector` for `customer` (see the package
    docstring for the rule), or None when no assignment applies."""
    charge_point = connector.evse.charge_point
    scope = (Q(connector=connector) | Q(charge_point=charge_point) | Q(location_id=charge_point.location_id)
             | NETWORK_SCOPE)
    ranked = sorted(assignments_in_force(scope=scope, customer=customer, at=at), key=assignment_rank)
    return ranked[0].tariff if ranked else None


def assignments_in_force(*, scope: Q, customer: Customer | None, at: datetime) -> QuerySet[TariffAssignment]:
    """The assignments within `scope` that apply at `at` to `customer` (public ones, and their groups'), with
    the assignment's and the tariff's own validity checked: the candidates the selection rule ranks."""
    groups = Q(customer_group__isnull=True)
    if customer is not None:
        groups |= Q(customer_group__customers=customer)
    return (
        TariffAssignment.objects.filter(scope, groups, valid_from__lte=at)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .filter(Q(tariff__start_date_time__isnull=True) | Q(tariff__start_date_time__lte=at))
        .filter(Q(tariff__end_date_time__isnull=True) | Q(tariff__end_date_time__gt=at))
        .select_related("tariff", "customer_group").distinct()
    )


def assignment_rank(assignment: TariffAssignment) -> tuple:
    # Group before everyone, then the most specific scope; ties (a customer in two groups with assignments at
    # the same level) go to the latest start, then to the group whose name sorts first, then the oldest row.
    specificity = next((3 - i for i, name in enumerate(_SCOPES) if getattr(assignment, f"{name}_id")), 0)
    group_name = assignment.customer_group.name if assignment.customer_group_id else ""
    return (assignment.customer_group_id is None, -specificity, -assignment.valid_from.timestamp(),
            group_name, assignment.pk)


def _check_tariff_covers(assignment: TariffAssignment) -> None:
    tariff = assignment.tariff
    if tariff.start_date_time is not None and assignment.valid_from < tariff.start_date_time:
        raise ValidationError({"valid_from": [
            f'"{tariff.name}" is only in force from {tariff.start_date_time:%Y-%m-%d %H:%M} UTC.']})
    end = tariff.end_date_time
    if end is not None and (assignment.valid_until is None or assignment.valid_until > end):
        raise ValidationError({"valid_until": [
            f'"{tariff.name}" is only in force until {end:%Y-%m-%d %H:%M} UTC; end the assignment by then.']})


def _overlapping(assignment: TariffAssignment):
    """Assignments at the same scope object (any group) whose period meets this one's."""
    same_scope = {f"{name}_id": getattr(assignment, f"{name}_id") for name in _SCOPES}
    overlapping = TariffAssignment.objects.filter(**same_scope).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=assignment.valid_from)
    )
    if assignment.valid_until is not None:
        overlapping = overlapping.filter(valid_from__lt=assignment.valid_until)
    if assignment.pk is not None:
        overlapping = overlapping.exclude(pk=assignment.pk)
    related = ("tariff", "customer_group", "location", "charge_point", "connector")
    return overlapping.select_related(*related).order_by("valid_from", "pk")


def _same_group(group_id: int | None) -> Q:
    return Q(customer_group__isnull=True) if group_id is None else Q(customer_group_id=group_id)


def _lock_scope(assignment: TariffAssignment) -> None:
    """Serialise assignments to one scope object, so two concurrent ones cannot both pass the overlap check.
    The scope's row is locked; the whole network has none, so PostgreSQL takes an advisory lock instead
    (SQLite allows one writer at a time anyway, and select_for_update is a no-op there)."""
    for name, model in (("connector", Connector), ("charge_point", ChargePoint), ("location", Location)):
        scope_id = getattr(assignment, f"{name}_id")
        if scope_id is not None:
            list(model.objects.select_for_update().filter(pk=scope_id).values_list("pk", flat=True))
            return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(b"tariff-assignment-network")])
