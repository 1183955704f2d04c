"""The charging network's invariants hold in the database, not only in forms."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from stations.models import ChargePoint, ChargingSession, Evse, Location
from tests.factories import (
    ChargePointFactory,
    ChargingSessionFactory,
    ConnectorFactory,
    EvseFactory,
    LocationFactory,
)

pytestmark = pytest.mark.django_db


def test_second_open_session_on_one_connector_is_refused_by_the_database():
    first = ChargingSessionFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ChargingSessionFactory(connector=first.connector)


def test_connector_takes_a_new_session_once_the_previous_one_completed():
    first = ChargingSessionFactory()
    first.state = ChargingSession.State.COMPLETED
    first.stopped_at = first.started_at + timedelta(minutes=30)
    first.meter_stop_wh = first.meter_start_wh + 7_500
    first.save()

    second = ChargingSessionFactory(connector=first.connector)

    assert second.state == ChargingSession.State.ACTIVE
    assert first.energy_wh == 7_500 and first.duration_s == 1800


def test_transaction_id_is_unique_per_station_but_not_across_stations():
    session = ChargingSessionFactory(transaction_id="42")
    ChargingSessionFactory(transaction_id="42")  # another station

    with pytest.raises(IntegrityError), transaction.atomic():
        ChargingSessionFactory(
            transaction_id="42",
            connector=ConnectorFactory(evse=EvseFactory(charge_point=session.charge_point, ocpp_evse_id=2)),
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "completed"},  # completed without a stop
        {"stopped_at": timezone.now() - timedelta(days=1)},  # stop before start, still active
        {"meter_stop_wh": 10, "state": "completed", "stopped_at": timezone.now()},  # meter ran backwards
        {"meter_start_wh": -1},
    ],
    ids=["completed-without-stop", "stop-before-start", "meter-backwards", "negative-meter"],
)
def test_impossible_session_facts_are_refused_by_the_database(changes):
    session = ChargingSessionFactory()
    for field, value in changes.items():
        setattr(session, field, value)

    with pytest.raises(IntegrityError), transaction.atomic():
        session.save()


def test_duplicate_evse_id_is_refused():
    EvseFactory(evse_id="DE*EVB*E1234*1")

    with pytest.raises(IntegrityError), transaction.atomic():
        EvseFactory(evse_id="DE*EVB*E1234*1")


@pytest.mark.parametrize("evse_id", ["DE*EVB*1234*1", "D*EVB*E1", "DE-EVB-E1234", "DE*EVB*E"])
def test_invalid_evse_id_is_refused_by_validation_and_by_the_database(evse_id):
    evse = EvseFactory.build(charge_point=ChargePointFactory(), evse_id=evse_id)

    with pytest.raises(ValidationError) as excinfo:
        evse.full_clean()
    assert "evse_id" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Evse.objects.create(charge_point=evse.charge_point, ocpp_evse_id=1, evse_id=evse_id)


@pytest.mark.parametrize("evse_id", ["DE*EVB*E1234*1", "DEEVBE12341", "AT*EVB*EGRAZ01*2", " de*evb*e1234*2"])
def test_emi3_evse_ids_with_and_without_separators_are_accepted_in_canonical_form(evse_id):
    evse = EvseFactory.build(charge_point=ChargePointFactory(), evse_id=evse_id)

    evse.full_clean()

    assert evse.evse_id == evse_id.strip().upper()


def test_same_ocpp_evse_number_twice_on_one_station_is_refused():
    evse = EvseFactory(ocpp_evse_id=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        EvseFactory(charge_point=evse.charge_point, ocpp_evse_id=1)


def test_location_needs_an_iana_time_zone_and_coordinates_on_earth():
    location = LocationFactory.build(time_zone="CET/Berlin", latitude=91)

    with pytest.raises(ValidationError) as excinfo:
        location.full_clean()

    assert {"time_zone", "latitude"} <= set(excinfo.value.message_dict)
    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(latitude=91)


@pytest.mark.parametrize(
    "hours",
    [
        {"regular_hours": [{"weekday": 8, "period_begin": "08:00", "period_end": "20:00"}]},
        {"regular_hours": [{"weekday": 1, "period_begin": "20:00", "period_end": "08:00"}]},
        {"regular_hours": []},
        {"twentyfourseven": False},
    ],
)
def test_malformed_opening_hours_are_refused(hours):
    with pytest.raises(ValidationError):
        LocationFactory.build(opening_hours=hours).full_clean()


def test_regular_opening_hours_are_accepted():
    hours = {"regular_hours": [{"weekday": d, "period_begin": "07:00", "period_end": "22:00"} for d in range(1, 7)]}

    LocationFactory.build(code="supermarket", opening_hours=hours).full_clean()
    assert Location.objects.count() == 0


def test_station_password_is_stored_hashed_and_checked():
    station = ChargePointFactory(password="s3cret-station-passw0rd")

    station.refresh_from_db()
    assert "s3cret" not in station.password_hash
    assert station.check_password("s3cret-station-passw0rd")
    assert not station.check_password("s3cret-station-passw0rX")


@pytest.mark.parametrize("length", [15, 41])
def test_station_password_outside_16_to_40_characters_is_refused(length):
    with pytest.raises(ValidationError):
        ChargePoint().set_password("x" * length)


def test_station_without_password_never_authenticates():
    assert not ChargePointFactory().check_password("")


@pytest.mark.parametrize("identity", ["CP 1", "CP:1", "CP/1", "CP*1", "x" * 49])
def test_identity_must_be_usable_in_a_url_and_basic_auth(identity):
    with pytest.raises(ValidationError) as excinfo:
        ChargePointFactory.build(location=LocationFactory(), identity=identity).full_clean()

    assert "identity" in excinfo.value.message_dict
