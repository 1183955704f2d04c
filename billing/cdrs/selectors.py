"""Reads of charge records: the filtered list behind the API and admin, and the sessions still to be rated."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from billing.models import ChargeDetailRecord
from stations.models import ChargingSession


def cdr_list(*, charge_point: str | None = None, transaction_id: str | None = None, customer: str | None = None,
             date_from: datetime | None = None, date_to: datetime | None = None) -> QuerySet[ChargeDetailRecord]:
    """Records newest first, with what `cdr_to_ocpi` reads joined in. `customer` is a pk or a customer number;
    `date_from` (inclusive) and `date_to` (exclusive) bound the session's start."""
    records = ChargeDetailRecord.objects.select_related("id_token", "credited_record")
    if charge_point:
        records = records.filter(charge_point_identity=charge_point)
    if transaction_id:
        records = records.filter(transaction_id=transaction_id)
    if customer:
        records = records.filter(customer_id=int(customer)) if customer.isdigit() else records.filter(
            customer__number__iexact=customer
        )
    if date_from is not None:
        records = records.filter(start_date_time__gte=date_from)
    if date_to is not None:
        records = records.filter(start_date_time__lt=date_to)
    return records


def sessions_to_rate(*, settled_for: timedelta, after_id: int = 0, limit: int = 200) -> list[int]:
    """Ids of stopped sessions without a charge record and not waiting for review, last written at least
    `settled_for` ago (so the message sent when they stopped has had its chance), in id order after `after_id`."""
    rated = ChargeDetailRecord.objects.filter(session=OuterRef("pk"))
    pending = ChargingSession.objects.filter(
        state=ChargingSession.State.COMPLETED, needs_review=False, updated_at__lte=timezone.now() - settled_for,
        pk__gt=after_id,
    ).filter(~Exists(rated))
    return list(pending.order_by("pk").values_list("pk", flat=True)[:limit])
