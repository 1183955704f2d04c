"""seed_scale: the benchmark's large network, written in bulk, once."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from billing.models import ChargeDetailRecord
from stations.models import ChargePoint, ChargingSession, Connector, OcppMessage

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_scale", stdout=out, **{"stations": 6, "sessions": 240, "days": 30, "cdr_days": 10,
                                              **options})
    return out.getvalue()


def test_seeds_stations_sessions_and_recent_charge_records_that_respect_the_models_rules():
    seed()

    assert ChargePoint.objects.filter(identity__startswith="SCALE-").count() == 6
    assert Connector.objects.count() == 12 and ChargingSession.objects.count() == 240
    # One open session per connector at most, transaction ids unique per station, nothing in the future.
    assert not (ChargingSession.objects.filter(state="active").values("connector")
                .annotate(n=Count("pk")).filter(n__gt=1).exists())
    assert ChargingSession.objects.values("charge_point", "transaction_id").distinct().count() == 240
    finished = ChargingSession.objects.filter(state="completed")
    assert all(s.stopped_at >= s.started_at and s.meter_stop_wh >= s.meter_start_wh for s in finished)
    records = ChargeDetailRecord.objects.all()
    assert 0 < records.count() < finished.count()
    assert all(r.total_cost_incl_vat >= r.total_cost_excl_vat >= 0 for r in records)
    assert OcppMessage.objects.count() == 60


def test_new_sessions_after_seeding_get_fresh_ids():
    seed()
    highest = ChargingSession.objects.order_by("-pk").first()
    from tests.factories import ChargingSessionFactory

    assert ChargingSessionFactory().pk > highest.pk


def test_refuses_to_seed_twice_and_rejects_nonsense():
    seed()
    with pytest.raises(CommandError, match="exist already"):
        seed()
    with pytest.raises(CommandError):
        seed(stations=0)
    assert ChargingSession.objects.count() == 240
