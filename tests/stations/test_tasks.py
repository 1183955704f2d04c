"""Housekeeping tasks keep the journal bounded and the connection state and command states honest."""

from datetime import timedelta

import pytest
from django.utils import timezone

from stations import tasks
from stations.models import OcppMessage, StationCommand
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db


def test_journal_older_than_the_retention_is_purged(settings):
    settings.OCPP_JOURNAL_DAYS = 7
    station = ChargePointFactory()
    old = OcppMessage.objects.create(charge_point=station, direction="in", frame="[]",
                                     created_at=timezone.now() - timedelta(days=8))
    recent = OcppMessage.objects.create(charge_point=station, direction="in", frame="[]",
                                        created_at=timezone.now() - timedelta(days=6))

    assert tasks.purge_journal() == 1

    assert list(OcppMessage.objects.values_list("id", flat=True)) == [recent.id]
    assert not OcppMessage.objects.filter(id=old.id).exists()


def test_station_silent_for_three_heartbeats_is_marked_offline(settings):
    settings.OCPP_HEARTBEAT_INTERVAL_S = 60
    silent = ChargePointFactory(is_connected=True, last_seen_at=timezone.now() - timedelta(seconds=181),
                                connection_channel="specific.abc")
    talking = ChargePointFactory(is_connected=True, last_seen_at=timezone.now() - timedelta(seconds=30))

    assert tasks.mark_silent_stations_offline() == 1

    silent.refresh_from_db()
    talking.refresh_from_db()
    assert (silent.is_connected, silent.connection_channel) == (False, "")
    assert talking.is_connected


def test_commands_nobody_delivered_time_out(settings):
    settings.OCPP_RESPONSE_TIMEOUT_S = 30
    station = ChargePointFactory()
    stale = StationCommand.objects.create(charge_point=station, action="ClearCache",
                                          created_at=timezone.now() - timedelta(minutes=5))
    fresh = StationCommand.objects.create(charge_point=station, action="ClearCache")

    assert tasks.expire_commands() == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.state == "timeout" and stale.completed_at is not None
    assert fresh.state == "pending"
