"""Periodic housekeeping of the OCPP server, run by Celery beat (see evbackoffice/celery.py)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from stations import commands
from stations.models import ChargePoint, OcppMessage

PURGE_BATCH = 10_000


@shared_task(name="stations.purge_journal", time_limit=600)
def purge_journal() -> int:
    """Deletes journal frames older than OCPP_JOURNAL_DAYS, in batches so no lock is held for long."""
    cutoff = timezone.now() - timedelta(days=settings.OCPP_JOURNAL_DAYS)
    deleted = 0
    while True:
        ids = list(OcppMessage.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:PURGE_BATCH])
        if not ids:
            return deleted
        deleted += OcppMessage.objects.filter(id__in=ids).delete()[0]


@shared_task(name="stations.expire_commands", time_limit=60)
def expire_commands() -> int:
    """Commands that no server process delivered or answered in time are closed as timed out."""
    return commands.commands_expire(older_than_s=int(settings.OCPP_RESPONSE_TIMEOUT_S) + 90)


@shared_task(name="stations.mark_silent_stations_offline", time_limit=60)
def mark_silent_stations_offline() -> int:
    """A server process that died cannot mark its stations offline; a station silent for three heartbeat
    intervals is offline whatever its flag says (it reconnects and is marked connected again)."""
    cutoff = timezone.now() - timedelta(seconds=3 * settings.OCPP_HEARTBEAT_INTERVAL_S)
    return ChargePoint.objects.filter(is_connected=True, last_seen_at__lt=cutoff).update(
        is_connected=False, connection_channel=""
    )
