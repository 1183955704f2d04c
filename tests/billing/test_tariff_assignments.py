"""Where and for whom a tariff applies: overlapping and contradictory assignments are refused naming the
conflict, and the selection rule picks one tariff per session."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from billing.tariffs import tariff_assign, tariff_assignment_delete, tariff_assignment_end, tariff_for_session
from tests.billing.factories import CustomerGroupFactory, TariffAssignmentFactory, TariffFactory
from tests.factories import ConnectorFactory, CustomerFactory, LocationFactory

pytestmark = pytest.mark.django_db

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
AT = datetime(2026, 1, 15, 12, tzinfo=UTC)


@pytest.fixture
def connector():
    return ConnectorFactory()


def _message(exc_info) -> str:
    return " ".join(exc_info.value.messages)


# --- refusing what cannot be right -----------------------------------------------------------------------------


def test_an_assignment_overlapping_another_for_the_same_place_and_group_is_refused_naming_it():
    location = LocationFactory(name="Berlin Mitte")
    tariff_assign(tariff=TariffFactory(name="AC 2026"), location=location, valid_from=JAN, valid_until=MAR)

    with pytest.raises(ValidationError) as refused:
        tariff_assign(tariff=TariffFactory(name="AC new"), location=location, valid_from=FEB)

    assert _message(refused) == (
        'Overlaps "AC 2026" at location Berlin Mitte, Berlin, for everyone, '
        "from 2026-01-01 00:00 UTC until 2026-03-01 00:00 UTC."
    )


def test_back_to_back_assignments_do_not_overlap():
    location = LocationFactory()
    tariff_assign(tariff=TariffFactory(), location=location, valid_from=JAN, valid_until=FEB)

    tariff_assign(tariff=TariffFactory(), location=location, valid_from=FEB)


def test_the_same_place_for_another_group_or_another_place_is_no_conflict():
    location = LocationFactory()
    tariff_assign(tariff=TariffFactory(), location=location, valid_from=JAN)

    tariff_assign(tariff=TariffFactory(), location=location, customer_group=CustomerGroupFactory(), valid_from=JAN)
    tariff_assign(tariff=TariffFactory(), location=LocationFactory(), valid_from=JAN)
    tariff_assign(tariff=TariffFactory(), valid_from=JAN)  # the whole network


def test_an_open_ended_network_assignment_conflicts_with_a_later_one_for_the_network():
    tariff_assign(tariff=TariffFactory(name="Public"), valid_from=JAN)

    conflict = 'Overlaps "Public" at the whole network, for everyone, from 2026-01-01 00:00 UTC, open-ended'
    with pytest.raises(ValidationError, match=conflict):
        tariff_assign(tariff=TariffFactory(), valid_from=MAR, valid_until=MAR + timedelta(days=1))


def test_an_assignment_with_two_scopes_is_refused(connector):
    with pytest.raises(ValidationError, match="Give one scope .* not connector and location"):
        tariff_assign(tariff=TariffFactory(), connector=connector, location=LocationFactory(), valid_from=JAN)


def test_an_end_before_the_start_is_refused():
    with pytest.raises(ValidationError) as refused:
        tariff_assign(tariff=TariffFactory(), valid_from=FEB, valid_until=JAN)

    assert refused.value.message_dict == {"valid_until": ["The end must be after the start."]}


def test_a_period_outside_the_tariffs_own_validity_is_refused():
    tariff = TariffFactory(name="Winter", start_date_time=JAN, end_date_time=MAR)

    with pytest.raises(ValidationError) as before:
        tariff_assign(tariff=tariff, valid_from=JAN - timedelta(days=1), valid_until=FEB)
    with pytest.raises(ValidationError) as open_ended:
        tariff_assign(tariff=tariff, valid_from=JAN)

    assert "only in force from 2026-01-01" in before.value.message_dict["valid_from"][0]
    assert "only in force until 2026-03-01" in open_ended.value.message_dict["valid_until"][0]
    tariff_assign(tariff=tariff, valid_from=JAN, valid_until=MAR)


def test_a_tariff_in_another_currency_than_one_at_the_same_place_is_refused():
    location = LocationFactory()
    tariff_assign(tariff=TariffFactory(currency="EUR"), location=location, valid_from=JAN)

    with pytest.raises(ValidationError) as refused:
        tariff_assign(tariff=TariffFactory(currency="CHF"), location=location, customer_group=CustomerGroupFactory(),
                      valid_from=JAN)

    assert "one place charges in one currency" in refused.value.message_dict["tariff"][0]


def test_ending_an_assignment_frees_the_period_after_it():
    location = LocationFactory()
    assignment = tariff_assign(tariff=TariffFactory(), location=location, valid_from=JAN)

    tariff_assignment_end(assignment=assignment, at=FEB)
    tariff_assign(tariff=TariffFactory(), location=location, valid_from=FEB)

    assignment.refresh_from_db()
    assert assignment.valid_until == FEB


def test_an_assignment_that_has_started_cannot_be_deleted():
    assignment = tariff_assign(tariff=TariffFactory(), valid_from=JAN)

    with pytest.raises(ValidationError, match="end it"):
        tariff_assignment_delete(assignment=assignment, now=FEB)
    tariff_assignment_delete(assignment=assignment, now=JAN - timedelta(seconds=1))


# --- the selection rule ----------------------------------------------------------------------------------------


def test_no_assignment_means_no_tariff(connector):
    assert tariff_for_session(connector=connector, customer=None, at=AT) is None


def test_the_most_specific_place_wins(connector):
    charge_point = connector.evse.charge_point
    network, location, station, plug = TariffFactory(), TariffFactory(), TariffFactory(), TariffFactory()
    TariffAssignmentFactory(tariff=network, valid_from=JAN)
    TariffAssignmentFactory(tariff=location, location=charge_point.location, valid_from=JAN)
    assert tariff_for_session(connector=connector, customer=None, at=AT) == location

    TariffAssignmentFactory(tariff=station, charge_point=charge_point, valid_from=JAN)
    assert tariff_for_session(connector=connector, customer=None, at=AT) == station

    TariffAssignmentFactory(tariff=plug, connector=connector, valid_from=JAN)
    assert tariff_for_session(connector=connector, customer=None, at=AT) == plug


def test_another_places_assignment_does_not_apply(connector):
    TariffAssignmentFactory(tariff=TariffFactory(), location=LocationFactory(), valid_from=JAN)
    TariffAssignmentFactory(tariff=TariffFactory(), connector=ConnectorFactory(), valid_from=JAN)

    assert tariff_for_session(connector=connector, customer=None, at=AT) is None


def test_a_group_tariff_wins_over_a_more_specific_one_for_everyone(connector):
    customer = CustomerFactory()
    fleet = TariffFactory()
    TariffAssignmentFactory(tariff=TariffFactory(), connector=connector, valid_from=JAN)
    TariffAssignmentFactory(tariff=fleet, customer_group=CustomerGroupFactory(customers=[customer]), valid_from=JAN)

    assert tariff_for_session(connector=connector, customer=customer, at=AT) == fleet
    assert tariff_for_session(connector=connector, customer=CustomerFactory(), at=AT) != fleet
    assert tariff_for_session(connector=connector, customer=None, at=AT) != fleet


def test_among_group_tariffs_the_most_specific_place_wins(connector):
    customer = CustomerFactory()
    group = CustomerGroupFactory(customers=[customer])
    at_location = TariffFactory()
    TariffAssignmentFactory(tariff=TariffFactory(), customer_group=group, valid_from=JAN)
    TariffAssignmentFactory(tariff=at_location, customer_group=group, location=connector.evse.charge_point.location,
                            valid_from=JAN)

    assert tariff_for_session(connector=connector, customer=customer, at=AT) == at_location


def test_only_assignments_valid_at_the_start_count_with_the_end_exclusive(connector):
    january, february = TariffFactory(), TariffFactory()
    TariffAssignmentFactory(tariff=january, valid_from=JAN, valid_until=FEB)
    TariffAssignmentFactory(tariff=february, valid_from=FEB)

    assert tariff_for_session(connector=connector, customer=None, at=JAN) == january
    assert tariff_for_session(connector=connector, customer=None, at=FEB - timedelta(microseconds=1)) == january
    assert tariff_for_session(connector=connector, customer=None, at=FEB) == february
    assert tariff_for_session(connector=connector, customer=None, at=JAN - timedelta(seconds=1)) is None


def test_a_tariff_no_longer_in_force_falls_through_to_the_next_rule(connector):
    public, expired = TariffFactory(), TariffFactory(end_date_time=JAN + timedelta(days=5))
    TariffAssignmentFactory(tariff=public, valid_from=JAN)
    TariffAssignmentFactory(tariff=expired, connector=connector, valid_from=JAN)  # made directly, past the check

    assert tariff_for_session(connector=connector, customer=None, at=AT) == public


def test_a_customer_in_two_groups_at_the_same_level_gets_the_assignment_that_started_last(connector):
    customer = CustomerFactory()
    older, newer = TariffFactory(), TariffFactory()
    TariffAssignmentFactory(tariff=older, customer_group=CustomerGroupFactory(name="A fleet", customers=[customer]),
                            valid_from=JAN)
    TariffAssignmentFactory(tariff=newer, customer_group=CustomerGroupFactory(name="B staff", customers=[customer]),
                            valid_from=JAN + timedelta(days=1))

    assert tariff_for_session(connector=connector, customer=customer, at=AT) == newer


def test_two_groups_starting_together_are_decided_by_the_group_name(connector):
    customer = CustomerFactory()
    first, second = TariffFactory(), TariffFactory()
    TariffAssignmentFactory(tariff=second, customer_group=CustomerGroupFactory(name="Zeta", customers=[customer]),
                            valid_from=JAN)
    TariffAssignmentFactory(tariff=first, customer_group=CustomerGroupFactory(name="Alpha", customers=[customer]),
                            valid_from=JAN)

    assert tariff_for_session(connector=connector, customer=customer, at=AT) == first
