"""Rating: a stopped session becomes a charge detail record priced to the cent, through the task sent when the
stop commits or through the sweep; a session that cannot be priced is flagged for review, not billed zero."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.utils import timezone

from billing import tasks
from billing.cdrs import cdr_create_for_session, cdr_to_ocpi, rating, session_facts, session_flag_for_review
from billing.models import ChargeDetailRecord
from billing.pricing import SessionFactsError
from stations.models import ChargingSession, MeterValue
from stations.services.station_reports import transaction_stop
from tests.billing.factories import (
    PriceFeedFactory,
    PriceFeedValueFactory,
    TariffAssignmentFactory,
    TariffElementFactory,
    TariffFactory,
)
from tests.billing.loyalty_factories import MembershipFactory
from tests.factories import ChargingSessionFactory, ConnectorFactory

pytestmark = pytest.mark.django_db

BERLIN_EVENING = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)  # 21:00 in Berlin (summer time)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
METER_START = 1_000_000


def plain_tariff(**fields):
    """0.39 EUR/kWh, 19 % VAT, for the whole network since long ago."""
    return TariffAssignmentFactory(tariff=TariffFactory(**fields), valid_from=LONG_AGO).tariff


def session_started(at=BERLIN_EVENING, **fields) -> ChargingSession:
    return ChargingSessionFactory(started_at=at, meter_start_wh=METER_START, **fields)


def read(session, at, energy_wh=None, *, power_w=None, measurand=MeterValue.Measurand.ENERGY_IMPORT_REGISTER,
         unit="Wh", phase="", location="Outlet", value=None):
    return MeterValue.objects.create(
        session=session, charge_point=session.charge_point, connector=session.connector, timestamp=at,
        measurand=measurand, phase=phase, location=location, unit=unit,
        value=Decimal(value if value is not None else energy_wh),
    )


def stop(session, at, meter_stop_wh) -> None:
    """What the OCPP StopTransaction handler does: the stations service ends the session."""
    transaction_stop(charge_point_id=session.charge_point_id, transaction_id=session.transaction_id,
                     meter_stop_wh=meter_stop_wh, timestamp=at, reason="Local", id_tag=session.id_tag,
                     meter_values=[])


def stopped_quietly(session, at, meter_stop_wh) -> ChargingSession:
    """A stop whose rating message was lost: stored without running the on-commit task, settled long ago."""
    ChargingSession.objects.filter(pk=session.pk).update(
        state=ChargingSession.State.COMPLETED, stopped_at=at, meter_stop_wh=meter_stop_wh,
        updated_at=timezone.now() - timedelta(minutes=5),
    )
    session.refresh_from_db()
    return session


def rating_fails_for(monkeypatch, session) -> None:
    """Rating this one session raises (a bug, say); the others are rated as usual."""
    real = tasks.cdr_create_for_session

    def rate(*, session_id):
        if session_id == session.pk:
            raise RuntimeError("boom")
        return real(session_id=session_id)

    monkeypatch.setattr(tasks, "cdr_create_for_session", rate)


def test_stopping_a_session_rates_it_right_after_the_commit_to_the_cent(django_capture_on_commit_callbacks):
    tariff = plain_tariff()
    session = session_started()
    read(session, BERLIN_EVENING + timedelta(minutes=30), METER_START + 11_000)

    with django_capture_on_commit_callbacks(execute=True):
        stop(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 23_456)

    cdr = ChargeDetailRecord.objects.get(session=session)
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (Decimal("9.15"), Decimal("10.89"))
    assert cdr.total_energy_wh == 23_456 and cdr.total_time_s == 3600 and cdr.total_parking_time_s == 0
    assert cdr.tariff == tariff and cdr.tariff_snapshot["elements"][0]["price_components"][0]["price"] == 0.39
    assert (cdr.customer, cdr.id_token, cdr.token_uid) == (session.customer, session.id_token, session.id_tag)
    assert cdr.charge_point_identity == session.charge_point.identity and cdr.transaction_id == session.transaction_id
    assert cdr.vat_breakdown == [
        {"rate": "19.000000", "excl_vat": "9.147840", "vat": "1.738090", "incl_vat": "10.885930"}
    ]
    assert cdr.cost_breakdown["energy"] == {"excl_vat": "9.147840", "incl_vat": "10.885930"}
    assert cdr.explanation[0].endswith("23.456 kWh x 0.39 EUR/kWh = 9.15 EUR")
    assert cdr.explanation[-1] == "Total: 9.15 EUR excl. VAT, 10.89 EUR incl. VAT"
    assert cdr.location_snapshot["country"] == "DEU" and cdr.location_snapshot["evse_id"] == session.evse.evse_id
    assert not ChargingSession.objects.get(pk=session.pk).needs_review


def test_a_session_crossing_22_00_is_priced_at_the_day_and_the_night_price(django_capture_on_commit_callbacks):
    tariff = TariffFactory(elements=[
        {"energy_price": Decimal("0.25"), "energy_vat": Decimal("19"), "start_time": time(22), "end_time": time(6)},
        {"energy_price": Decimal("0.40"), "energy_vat": Decimal("19")},
    ])
    TariffAssignmentFactory(tariff=tariff, valid_from=LONG_AGO)
    session = session_started()  # 21:00 Berlin
    read(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 10_000)  # 22:00 Berlin

    with django_capture_on_commit_callbacks(execute=True):
        stop(session, BERLIN_EVENING + timedelta(hours=2), METER_START + 15_000)

    cdr = ChargeDetailRecord.objects.get(session=session)
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (Decimal("5.25"), Decimal("6.25"))
    assert [(p["start_date_time"], p["dimensions"][0], p["tariff_id"]) for p in cdr.charging_periods] == [
        ("2026-06-01T19:00:00Z", {"type": "ENERGY", "volume": 10}, tariff.ocpi_id),
        ("2026-06-01T20:00:00Z", {"type": "ENERGY", "volume": 5}, tariff.ocpi_id),
    ]
    assert cdr.explanation[:2] == [
        "Mon 21:00-22:00: 10.000 kWh x 0.40 EUR/kWh = 4.00 EUR",
        "Mon 22:00-23:00 [22:00-06:00]: 5.000 kWh x 0.25 EUR/kWh = 1.25 EUR",
    ]


def test_zero_energy_with_valid_readings_is_a_legitimate_record_priced_by_time():
    TariffAssignmentFactory(valid_from=LONG_AGO, tariff=TariffFactory(elements=[
        {"energy_price": None, "energy_vat": None, "flat_price": Decimal("1.00"), "flat_vat": Decimal("19")},
    ]))
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(minutes=20), METER_START)

    cdr = cdr_create_for_session(session_id=session.pk)

    assert cdr.total_energy_wh == 0 and cdr.total_parking_time_s == 1200
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (Decimal("1.00"), Decimal("1.19"))


# -- idempotency: the task twice, the sweep after a lost message ---------------------------------------------


def test_the_task_run_twice_creates_one_record():
    plain_tariff()
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 23_456)

    first = tasks.rate_session.delay(session.pk).get()
    second = tasks.rate_session.delay(session.pk).get()

    assert first == second == ChargeDetailRecord.objects.get(session=session).pk


def test_the_sweep_rates_a_session_whose_message_was_lost_and_only_once():
    plain_tariff()
    lost = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 23_456)
    still_charging = session_started(at=BERLIN_EVENING, connector=ConnectorFactory())
    flagged = stopped_quietly(session_started(connector=ConnectorFactory()), BERLIN_EVENING + timedelta(hours=1),
                              METER_START + 1_000)
    ChargingSession.objects.filter(pk=flagged.pk).update(needs_review=True, review_reason="Unknown id tag.")

    assert tasks.rate_pending_sessions.delay().get() == 1
    assert tasks.rate_pending_sessions.delay().get() == 0

    assert ChargeDetailRecord.objects.get().session == lost
    assert not ChargeDetailRecord.objects.filter(session__in=[still_charging, flagged]).exists()


def test_the_sweep_leaves_a_session_that_just_stopped_to_its_own_message():
    plain_tariff()
    session = session_started()
    ChargingSession.objects.filter(pk=session.pk).update(
        state=ChargingSession.State.COMPLETED, stopped_at=BERLIN_EVENING + timedelta(hours=1),
        meter_stop_wh=METER_START + 100, updated_at=timezone.now(),
    )

    assert tasks.rate_pending_sessions() == 0


def test_the_sweep_goes_on_after_a_session_whose_rating_fails(monkeypatch):
    plain_tariff()
    sessions = [stopped_quietly(session_started(connector=ConnectorFactory()), BERLIN_EVENING + timedelta(hours=1),
                                METER_START + 5_000) for _ in range(3)]
    rating_fails_for(monkeypatch, sessions[0])

    assert tasks.rate_pending_sessions() == 2


def test_a_session_still_charging_is_not_rated():
    plain_tariff()
    session = session_started()

    assert cdr_create_for_session(session_id=session.pk) is None
    assert not ChargeDetailRecord.objects.exists()


# -- review flags --------------------------------------------------------------------------------------------


def review_reason(session) -> str:
    session.refresh_from_db()
    assert session.needs_review, "the session should be flagged for review"
    assert not ChargeDetailRecord.objects.filter(session=session).exists()
    return session.review_reason


def test_a_session_without_a_tariff_is_flagged_naming_connector_customer_and_time():
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 5_000)

    assert cdr_create_for_session(session_id=session.pk) is None

    assert review_reason(session) == (
        f"Not priced: no tariff assigned to connector {session.charge_point.identity}/1 for customer "
        f"{session.customer.number} at 2026-06-01T19:00:00+00:00."
    )


def test_energy_going_backwards_is_flagged_with_the_reading_at_fault():
    plain_tariff()
    session = session_started()
    read(session, BERLIN_EVENING + timedelta(minutes=10), METER_START + 4_000)
    read(session, BERLIN_EVENING + timedelta(minutes=20), METER_START + 3_000)
    stopped_quietly(session, BERLIN_EVENING + timedelta(minutes=30), METER_START + 5_000)

    cdr_create_for_session(session_id=session.pk)

    assert review_reason(session) == (
        "Not priced: meter reading at 2026-06-01T19:20:00+00:00: the energy register must not go backwards "
        "(1003000 Wh after 1004000 Wh)."
    )


def test_an_absurd_power_is_flagged():
    plain_tariff()
    session = session_started()
    read(session, BERLIN_EVENING + timedelta(seconds=10), METER_START + 50_000)  # 18 MW for ten seconds
    stopped_quietly(session, BERLIN_EVENING + timedelta(minutes=30), METER_START + 50_000)

    cdr_create_for_session(session_id=session.pk)

    assert "not a plausible meter value" in review_reason(session)


def test_a_reported_power_no_charger_delivers_is_flagged():
    plain_tariff()
    session = session_started()
    read(session, BERLIN_EVENING + timedelta(minutes=10), METER_START + 1_000)
    read(session, BERLIN_EVENING + timedelta(minutes=10), measurand=MeterValue.Measurand.POWER_IMPORT,
         unit="kW", value="50000")
    stopped_quietly(session, BERLIN_EVENING + timedelta(minutes=30), METER_START + 5_000)

    cdr_create_for_session(session_id=session.pk)

    assert review_reason(session) == (
        "Not priced: Power.Active.Import at 2026-06-01T19:10:00+00:00 is 50000000 W: not a plausible power."
    )


def test_more_energy_than_the_connector_can_deliver_is_flagged():
    plain_tariff()
    session = session_started()  # on a 22 kW connector
    stopped_quietly(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 80_000)

    cdr_create_for_session(session_id=session.pk)

    assert "on a connector rated 22000 W: not a plausible meter value" in review_reason(session)


def test_two_different_readings_at_the_same_time_are_flagged_rather_than_guessed():
    plain_tariff()
    session = session_started()
    read(session, BERLIN_EVENING + timedelta(minutes=10), METER_START + 1_000)
    read(session, BERLIN_EVENING + timedelta(minutes=10), METER_START + 1_200)
    stopped_quietly(session, BERLIN_EVENING + timedelta(minutes=30), METER_START + 5_000)

    cdr_create_for_session(session_id=session.pk)

    assert review_reason(session) == (
        "Not priced: two different energy readings at 2026-06-01T19:10:00+00:00: 1001000 Wh and 1001200 Wh."
    )


def test_a_flag_adds_to_the_reason_the_station_layer_gave_and_rating_waits_for_review():
    plain_tariff()
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)
    ChargingSession.objects.filter(pk=session.pk).update(review_reason="Started with an id tag we answered Blocked.")
    session.refresh_from_db()

    session_flag_for_review(session=session, reason="Not priced: test.")

    assert review_reason(session) == "Started with an id tag we answered Blocked. Not priced: test."
    assert cdr_create_for_session(session_id=session.pk) is None


def test_clearing_the_review_flag_with_a_save_rates_the_session(django_capture_on_commit_callbacks):
    plain_tariff()
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)
    ChargingSession.objects.filter(pk=session.pk).update(needs_review=True, review_reason="Checked the meter.")
    session.refresh_from_db()

    session.needs_review = False
    with django_capture_on_commit_callbacks(execute=True):
        session.save()

    assert ChargeDetailRecord.objects.get(session=session).total_cost_excl_vat == Decimal("0.39")


# -- session facts: which meter values count -----------------------------------------------------------------


def test_facts_use_outlet_registers_in_kwh_and_summed_phase_power_and_ignore_values_outside_the_session():
    session = session_started()
    at = BERLIN_EVENING + timedelta(minutes=15)
    read(session, at, value="1005.5", unit="kWh")
    read(session, at, value="1005.5", unit="kWh")  # a retried MeterValues message: the same reading
    read(session, at, value="9999", phase="L1")  # a per-phase register: not the billing register
    read(session, at, value="2000000", location="Inlet")  # the grid side
    for phase in ("L1", "L2", "L3"):
        read(session, at, measurand=MeterValue.Measurand.POWER_IMPORT, phase=phase, value="3600", unit="W")
        read(session, at, measurand=MeterValue.Measurand.CURRENT_IMPORT, phase=phase, value="16", unit="A")
    read(session, BERLIN_EVENING - timedelta(minutes=5), METER_START - 500)  # before the start: clock skew
    read(session, BERLIN_EVENING + timedelta(hours=2), METER_START + 99_000)  # after the stop
    stopped_quietly(session, BERLIN_EVENING + timedelta(minutes=30), METER_START + 11_000)

    facts = session_facts(session)

    assert facts.time_zone == "Europe/Berlin"
    assert [(i.start.minute, i.end.minute, i.energy_wh, i.power_w, i.current_a) for i in facts.intervals] == [
        (0, 15, 5_500, None, None),
        (15, 30, 5_500, Decimal("10800"), Decimal("48")),
    ]


def test_facts_of_a_session_without_a_stop_reading_are_refused():
    session = session_started()
    session.state, session.stopped_at = ChargingSession.State.COMPLETED, BERLIN_EVENING + timedelta(hours=1)

    with pytest.raises(SessionFactsError, match="no meter stop reading"):
        session_facts(session)


def test_facts_of_a_session_stopping_before_it_started_are_refused():
    session = session_started()
    session.stopped_at, session.meter_stop_wh = BERLIN_EVENING - timedelta(minutes=1), METER_START

    with pytest.raises(SessionFactsError, match="is before the start"):
        session_facts(session)


def test_the_whole_session_priced_from_start_and_stop_when_the_station_sent_no_meter_values():
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=2), METER_START + 14_000)

    facts = session_facts(session)

    assert [(i.energy_wh, i.end - i.start) for i in facts.intervals] == [(14_000, timedelta(hours=2))]


def test_the_connector_without_a_rating_is_only_held_to_the_plausible_maximum():
    session = session_started(connector=ConnectorFactory(max_power_w=None))
    stopped_quietly(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 80_000)

    assert session_facts(session).intervals[0].energy_wh == 80_000


def test_a_membership_tariff_wins_over_the_assigned_one(monkeypatch):
    plain_tariff()
    member_tariff = TariffFactory(elements=False)
    TariffElementFactory(tariff=member_tariff, energy_price=Decimal("0.29"))

    monkeypatch.setattr(rating, "membership_tariff", lambda *, customer, at: member_tariff)
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 10_000)

    cdr = cdr_create_for_session(session_id=session.pk)

    assert cdr.tariff == member_tariff and cdr.total_cost_excl_vat == Decimal("2.90")


def test_a_member_discount_lowers_the_total_and_is_explained():

    plain_tariff()
    session = session_started()
    MembershipFactory(customer=session.customer)  # 0.20 EUR/kWh off
    stopped_quietly(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 10_000)

    cdr = cdr_create_for_session(session_id=session.pk)

    assert (cdr.tariff_cost_excl_vat, cdr.discount_excl_vat) == (Decimal("3.90"), Decimal("2.00"))
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (Decimal("1.90"), Decimal("2.26"))
    assert cdr.vat_breakdown == [{"rate": "19.000000", "excl_vat": "1.900000", "vat": "0.361000",
                                  "incl_vat": "2.261000"}]
    assert [d["kind"] for d in cdr.discounts] == ["membership"]
    assert cdr.explanation[-2].endswith(": -2.00 EUR excl. VAT, -2.38 EUR incl. VAT")
    assert cdr.explanation[-1] == "To pay: 1.90 EUR excl. VAT, 2.26 EUR incl. VAT"


def test_a_session_of_an_unknown_token_is_rated_with_the_tag_it_reported():
    plain_tariff()
    session = session_started(id_token=None, customer=None, id_tag="DEADBEEF")
    stopped_quietly(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)

    cdr = cdr_create_for_session(session_id=session.pk)

    assert (cdr.customer, cdr.id_token, cdr.token_uid, cdr.contract_id) == (None, None, "DEADBEEF", "")


def test_nothing_is_rated_when_the_stop_is_rolled_back(django_capture_on_commit_callbacks):
    plain_tariff()
    session = session_started()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stop(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)

    assert callbacks, "rating is queued for after the commit"
    assert not ChargeDetailRecord.objects.exists()


def test_on_a_worker_the_task_retries_database_errors_with_backoff_and_time_limits():

    task = tasks.rate_session
    assert task.name == "billing.rate_session" and OperationalError in task.autoretry_for
    assert task.retry_backoff and task.acks_late and task.soft_time_limit < task.time_limit


def test_run_inline_a_failing_rating_does_not_fail_the_stop_and_the_sweep_rates_it_later(
        monkeypatch, django_capture_on_commit_callbacks):

    plain_tariff()
    session = session_started()

    def locked(*, session_id):
        raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "cdr_create_for_session", locked)
    with django_capture_on_commit_callbacks(execute=True):
        stop(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)  # does not raise
    monkeypatch.undo()
    ChargingSession.objects.filter(pk=session.pk).update(updated_at=timezone.now() - timedelta(minutes=2))

    assert not ChargeDetailRecord.objects.exists()
    assert tasks.rate_pending_sessions() == 1


def test_a_tariff_not_in_force_at_the_start_is_flagged(monkeypatch):

    expired = TariffFactory(end_date_time=LONG_AGO + timedelta(days=1), start_date_time=LONG_AGO)
    monkeypatch.setattr(rating, "membership_tariff", lambda *, customer, at: expired)
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)

    cdr_create_for_session(session_id=session.pk)

    assert review_reason(session) == (
        f"Not priced: cannot be priced with tariff '{expired.name}': start: the tariff is not in force at "
        "2026-06-01T19:00:00+00:00."
    )


def test_a_dynamic_tariff_without_feed_prices_for_the_session_is_flagged():

    feed = PriceFeedFactory(code="epex-test")
    tariff = TariffFactory(elements=False)
    TariffElementFactory(tariff=tariff, energy_feed=feed, energy_feed_margin=Decimal("0.10"))
    TariffAssignmentFactory(tariff=tariff, valid_from=LONG_AGO)
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 1_000)

    cdr_create_for_session(session_id=session.pk)

    assert "price_feed: has no price for 2026-06-01T19:00:00" in review_reason(session)


def test_a_dynamic_tariff_is_priced_from_its_feed():

    feed = PriceFeedFactory(code="epex-test", interval_s=3600)
    PriceFeedValueFactory(feed=feed, starts_at=BERLIN_EVENING, price_per_kwh=Decimal("0.20"))
    tariff = TariffFactory(elements=False)
    TariffElementFactory(tariff=tariff, energy_feed=feed, energy_feed_margin=Decimal("0.10"))
    TariffAssignmentFactory(tariff=tariff, valid_from=LONG_AGO)
    session = stopped_quietly(session_started(), BERLIN_EVENING + timedelta(hours=1), METER_START + 10_000)

    cdr = cdr_create_for_session(session_id=session.pk)

    assert cdr.total_cost_excl_vat == Decimal("3.00")
    assert "dynamic_price" in cdr.tariff_snapshot["elements"][0]["price_components"][0]
    # partners see plain OCPI: the announced price only
    assert "dynamic_price" not in cdr_to_ocpi(cdr)["tariffs"][0]["elements"][0]["price_components"][0]
