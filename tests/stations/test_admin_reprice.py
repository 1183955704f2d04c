"""Staff price flagged sessions again from the sessions list once they fixed what stopped the pricing: a session
is priced and unflagged, or stays flagged with the new reason; sessions with a charge record are left alone."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from billing.cdrs import cdr_create_for_session
from billing.models import ChargeDetailRecord
from stations.models import ChargingSession
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.factories import ChargingSessionFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:stations_chargingsession_changelist")
STARTED = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
METER_START = 1_000_000


def flagged_without_a_tariff() -> ChargingSession:
    """A stopped session that rating flagged: no tariff applied at its start."""
    session = ChargingSessionFactory(started_at=STARTED, meter_start_wh=METER_START)
    ChargingSession.objects.filter(pk=session.pk).update(
        state=ChargingSession.State.COMPLETED, stopped_at=STARTED + timedelta(hours=1),
        meter_stop_wh=METER_START + 10_000, updated_at=timezone.now() - timedelta(minutes=5),
    )
    assert cdr_create_for_session(session_id=session.pk) is None
    session.refresh_from_db()
    assert session.needs_review and "no tariff assigned" in session.review_reason
    return session


def assign_a_tariff() -> None:
    """0.39 EUR/kWh for the whole network since long ago: the operator's fix."""
    TariffAssignmentFactory(tariff=TariffFactory(), valid_from=datetime(2020, 1, 1, tzinfo=UTC))


def reprice(client, *sessions):
    return client.post(CHANGELIST, {"action": "reprice", "_selected_action": [s.pk for s in sessions]}, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_flagged_session_is_priced_and_unflagged_once_a_tariff_is_assigned(admin_client):
    session = flagged_without_a_tariff()
    assign_a_tariff()

    response = reprice(admin_client, session)

    assert "1 session priced; its review flag is cleared." in messages_of(response)
    cdr = ChargeDetailRecord.objects.get(session=session)
    assert cdr.total_cost_excl_vat == Decimal("3.90")  # 10 kWh at 0.39
    session.refresh_from_db()
    assert not session.needs_review and session.review_reason == ""


def test_a_session_that_still_cannot_be_priced_stays_flagged_with_the_new_reason_only(admin_client):
    session = flagged_without_a_tariff()
    ChargingSession.objects.filter(pk=session.pk).update(review_reason="Checked by Ada: tariff was missing.")

    response = reprice(admin_client, session)

    session.refresh_from_db()
    assert session.needs_review and not ChargeDetailRecord.objects.filter(session=session).exists()
    assert session.review_reason.startswith("Not priced: no tariff assigned to connector")
    assert "Checked by Ada" not in session.review_reason
    shown = messages_of(response)
    assert "1 session still cannot be priced and stays flagged:" in shown
    assert f"{session}: {session.review_reason}" in shown


def test_priced_and_still_flagged_sessions_are_reported_apart(admin_client):
    first, second = flagged_without_a_tariff(), flagged_without_a_tariff()
    assign_a_tariff()
    ChargingSession.objects.filter(pk=second.pk).update(meter_stop_wh=METER_START + 900_000)  # 900 kWh in 1 h

    shown = messages_of(reprice(admin_client, first, second))

    assert "1 session priced; its review flag is cleared." in shown
    assert "1 session still cannot be priced and stays flagged:" in shown
    assert any("not a plausible meter value" in message for message in shown)


def test_sessions_with_a_record_or_without_a_flag_are_skipped(admin_client):
    rated = flagged_without_a_tariff()
    assign_a_tariff()
    ChargingSession.objects.filter(pk=rated.pk).update(needs_review=False)
    cdr = cdr_create_for_session(session_id=rated.pk)
    ChargingSession.objects.filter(pk=rated.pk).update(needs_review=True, review_reason="Customer complained.")
    charging = ChargingSessionFactory(needs_review=True, review_reason="Started with a Blocked id tag.")

    shown = messages_of(reprice(admin_client, rated, charging))

    assert "1 session skipped: it has a charge record; correct the record instead." in shown
    assert "1 session skipped: not flagged for review, or still charging." in shown
    assert list(ChargeDetailRecord.objects.filter(session=rated)) == [cdr]
    rated.refresh_from_db()
    assert rated.review_reason == "Customer complained."


def test_staff_who_may_not_make_charge_records_are_not_offered_the_action(client):
    viewer = StaffUserFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_chargingsession"))
    client.force_login(viewer)
    session = flagged_without_a_tariff()
    assign_a_tariff()

    response = client.get(CHANGELIST)
    reprice(client, session)

    assert "reprice" not in {choice for choice, _label in response.context["action_form"].fields["action"].choices}
    assert not ChargeDetailRecord.objects.filter(session=session).exists()
