"""Loyalty's periodic work, run by Celery beat (see evbackoffice/celery.py)."""

from celery import shared_task
from django.utils import timezone

from .points import points_expire


@shared_task(name="billing.expire_points", time_limit=600)
def expire_points() -> int:
    """Writes the day's expiry entries; idempotent, so a repeated or overlapping run writes nothing more."""
    return points_expire(today=timezone.localdate())
