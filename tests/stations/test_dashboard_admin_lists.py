"""The sessions list stays cheap on a large network: bounded counting, fixed-choice filters, no year scan."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from stations.admin import CappedCountPaginator
from tests.admin_helpers import rows
from tests.factories import ChargingSessionFactory

pytestmark = pytest.mark.django_db
SESSIONS = reverse("admin:stations_chargingsession_changelist")


def test_sessions_started_in_the_last_week_are_one_click_away(admin_client):
    recent = ChargingSessionFactory(started_at=timezone.now() - timedelta(days=2))
    ChargingSessionFactory(started_at=timezone.now() - timedelta(days=20))

    page = admin_client.get(SESSIONS)
    assert "?started=7d" in page.text and "started_at__year" not in page.text
    assert rows(admin_client.get(SESSIONS + "?started=7d")) == {recent}


def test_authorisation_answers_filter_without_listing_every_session(admin_client):
    blocked = ChargingSessionFactory(id_tag_status="Blocked")
    ChargingSessionFactory(id_tag_status="Accepted")

    assert rows(admin_client.get(SESSIONS + "?id_tag_status=Blocked")) == {blocked}
    assert admin_client.get(SESSIONS + "?id_tag_status=Nonsense").status_code == 200


def test_the_session_count_stops_at_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "COUNT_CAP", 3)
    ChargingSessionFactory.create_batch(5)

    assert admin_client.get(SESSIONS).context["cl"].result_count == 3
    assert admin_client.get(SESSIONS + "?state__exact=active").status_code == 200
