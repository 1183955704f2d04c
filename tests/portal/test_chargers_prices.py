"""The price a driver sees before charging (billing.tariffs.public): plain words for every dimension, which
element applies now at the location's local time and when that changes, and the same tariff choice as rating."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from billing.tariffs import tariff_for_session
from billing.tariffs.public import connector_tariffs, public_price
from stations.selectors import location_availability
from tests.billing.factories import CustomerGroupFactory, TariffAssignmentFactory, TariffFactory
from tests.factories import ChargePointFactory, ConnectorFactory, CustomerFactory, EvseFactory, LocationFactory

BERLIN = "Europe/Berlin"
# A Tuesday in winter: Berlin is UTC+1.
TUESDAY_23_BERLIN = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)
TUESDAY_12_BERLIN = datetime(2026, 1, 13, 11, 0, tzinfo=UTC)


def off_peak_tariff(**extra):
    """0.29 EUR/kWh 22:00-06:00, 0.39 EUR/kWh otherwise, no VAT to keep the figures plain."""
    return TariffFactory(elements=[
        {"energy_price": Decimal("0.29"), "energy_vat": None, "start_time": time(22), "end_time": time(6)},
        {"energy_price": Decimal("0.39"), "energy_vat": None, **extra},
    ])


def texts(price) -> list[str]:
    return [line.text for line in price.lines]


def test_every_dimension_is_described_in_plain_words_incl_vat(db):
    tariff = TariffFactory(elements=[{
        "energy_price": Decimal("0.40"), "energy_vat": Decimal("19"), "time_price": Decimal("6.00"),
        "time_vat": Decimal("19"), "flat_price": Decimal("1.00"), "flat_vat": Decimal("19"),
    }, {"parking_price": Decimal("12.00"), "parking_vat": Decimal("19"), "min_duration_s": 3600,
        "energy_price": None}])

    price = public_price(tariff, time_zone=BERLIN, at=TUESDAY_12_BERLIN)

    (line,) = texts(price)
    assert "1.19 EUR per session" in line
    assert "0.476 EUR/kWh" in line
    assert "0.119 EUR/min charging time" in line
    assert "idle fee 0.238 EUR/min (plugged in, not charging) after 1 h" in line
    assert price.note == "incl. 19 % VAT"
    assert price.now == ""  # the price does not depend on the clock


def test_off_peak_element_applies_at_23_00_berlin_time(db):
    price = public_price(off_peak_tariff(), time_zone=BERLIN, at=TUESDAY_23_BERLIN)

    assert texts(price) == ["0.39 EUR/kWh", "22:00-06:00: 0.29 EUR/kWh"]
    assert [line.applies_now for line in price.lines] == [False, True]
    assert price.now == "Price now (23:00 local time): 0.29 EUR/kWh (valid 22:00-06:00)"
    assert price.next == "From Wed 06:00: 0.39 EUR/kWh"
    assert price.changes_at == datetime(2026, 1, 14, 5, 0, tzinfo=UTC)


def test_at_noon_the_day_price_applies_until_the_off_peak_period(db):
    price = public_price(off_peak_tariff(), time_zone=BERLIN, at=TUESDAY_12_BERLIN)

    assert [line.applies_now for line in price.lines] == [False, False]
    assert price.now == "Price now (12:00 local time): 0.39 EUR/kWh"
    assert price.next == "From 22:00: 0.29 EUR/kWh"


def test_the_period_follows_the_locations_clock_not_utc(db):
    at = datetime(2026, 1, 13, 21, 30, tzinfo=UTC)  # 22:30 in Berlin, 21:30 in UTC, 16:30 in New York

    assert "0.29 EUR/kWh" in public_price(off_peak_tariff(), time_zone=BERLIN, at=at).now
    assert "0.39 EUR/kWh" in public_price(off_peak_tariff(), time_zone="America/New_York", at=at).now


def test_summer_time_is_respected(db):
    at = datetime(2026, 7, 14, 20, 30, tzinfo=UTC)  # 22:30 in Berlin (UTC+2)

    assert "0.29 EUR/kWh" in public_price(off_peak_tariff(), time_zone=BERLIN, at=at).now


def test_weekend_price_names_the_days_and_the_next_change(db):
    tariff = TariffFactory(elements=[
        {"energy_price": Decimal("0.25"), "energy_vat": None, "days_of_week": ["SATURDAY", "SUNDAY"]},
        {"energy_price": Decimal("0.39"), "energy_vat": None},
    ])
    friday_noon = datetime(2026, 1, 16, 11, 0, tzinfo=UTC)

    price = public_price(tariff, time_zone=BERLIN, at=friday_noon)

    assert texts(price) == ["0.39 EUR/kWh", "Sat, Sun: 0.25 EUR/kWh"]
    assert price.next == "From Sat 00:00: 0.25 EUR/kWh"


def test_price_now_names_what_changes_with_the_clock_not_the_fixed_fees(db):
    tariff = off_peak_tariff(parking_price=Decimal("6.00"), parking_vat=None, flat_price=Decimal("0.50"),
                             flat_vat=None)

    price = public_price(tariff, time_zone=BERLIN, at=TUESDAY_23_BERLIN)

    assert texts(price) == ["0.50 EUR per session, 0.39 EUR/kWh, idle fee 0.10 EUR/min (plugged in, not charging)",
                            "22:00-06:00: 0.29 EUR/kWh"]
    assert price.now == "Price now (23:00 local time): 0.29 EUR/kWh (valid 22:00-06:00)"
    assert price.next == "From Wed 06:00: 0.39 EUR/kWh"


def test_an_idle_fee_only_in_the_daytime_says_when_it_stops(db):
    tariff = TariffFactory(elements=[
        {"energy_price": None, "parking_price": Decimal("6.00"), "parking_vat": None,
         "start_time": time(8), "end_time": time(20)},
        {"energy_price": Decimal("0.39"), "energy_vat": None},
    ])

    price = public_price(tariff, time_zone=BERLIN, at=TUESDAY_12_BERLIN)

    assert price.now == ("Price now (12:00 local time): idle fee 0.10 EUR/min (plugged in, not charging) "
                         "(valid 08:00-20:00)")
    assert price.next == "From 20:00: no idle fee"


def test_power_dependent_elements_are_listed_but_not_offered_as_the_price_now(db):
    tariff = TariffFactory(elements=[
        {"energy_price": Decimal("0.59"), "energy_vat": None, "min_power_kw": Decimal("50"),
         "start_time": time(6), "end_time": time(22)},
        {"energy_price": Decimal("0.39"), "energy_vat": None},
    ])

    price = public_price(tariff, time_zone=BERLIN, at=TUESDAY_12_BERLIN)

    assert "06:00-22:00, from 50 kW: 0.59 EUR/kWh" in texts(price)
    assert price.now == "Price now (12:00 local time): 0.39 EUR/kWh"


def test_minimum_and_maximum_per_session_are_shown(db):
    tariff = TariffFactory(min_price_excl_vat=Decimal("1.00"), max_price_excl_vat=Decimal("30.00"))

    price = public_price(tariff, time_zone=BERLIN, at=TUESDAY_12_BERLIN)

    assert price.note == "min. 1.19 EUR per session; max. 35.70 EUR per session; incl. 19 % VAT"


def test_operator_alternative_text_replaces_the_generated_lines(db):
    tariff = TariffFactory(alt_text=[{"language": "en", "text": "Flat 9 EUR per visit"}])

    assert texts(public_price(tariff, time_zone=BERLIN, at=TUESDAY_12_BERLIN)) == ["Flat 9 EUR per visit"]


def test_german_readers_get_german_number_format(db):
    with translation.override("de"):
        price = public_price(off_peak_tariff(), time_zone=BERLIN, at=TUESDAY_23_BERLIN)

    assert "0,29 EUR/kWh" in price.now


# -- which tariff: the same as the rating's ---------------------------------------------------------------------


@pytest.fixture
def connectors(db):
    location = LocationFactory()
    station = ChargePointFactory(location=location)
    made = [ConnectorFactory(evse=EvseFactory(charge_point=station, ocpp_evse_id=n)) for n in (1, 2, 3)]
    other_station = ChargePointFactory(location=location)
    made.append(ConnectorFactory(evse=EvseFactory(charge_point=other_station)))
    return made


def test_batch_selection_agrees_with_tariff_for_session(connectors):
    customer = CustomerFactory()
    group = CustomerGroupFactory(customers=[customer])
    at = datetime.now(UTC)
    location = connectors[0].evse.charge_point.location
    TariffAssignmentFactory()  # the whole network
    TariffAssignmentFactory(location=location)
    TariffAssignmentFactory(charge_point=connectors[0].evse.charge_point)
    TariffAssignmentFactory(connector=connectors[1])
    TariffAssignmentFactory(charge_point=connectors[3].evse.charge_point, customer_group=group)
    TariffAssignmentFactory(location=location, valid_from=at + timedelta(days=1))  # not yet in force
    public = location_availability([location])[location.pk].connectors

    for who in (None, customer):
        chosen = connector_tariffs(connectors=public, customer=who, at=at)
        for connector in connectors:
            assert chosen[connector.pk] == tariff_for_session(connector=connector, customer=who, at=at)


def test_no_assignment_means_no_tariff(connectors):
    location = connectors[0].evse.charge_point.location
    public = location_availability([location])[location.pk].connectors

    assert set(connector_tariffs(connectors=public, customer=None, at=datetime.now(UTC)).values()) == {None}
