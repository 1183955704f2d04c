"""OCPI 2.2.1 Tariff JSON in and out: the spec's examples round-trip; invalid documents name field and rule."""

import copy
import json
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from billing.pricing import (
    DayOfWeek,
    Dimension,
    PriceComponent,
    Tariff,
    TariffElement,
    TariffError,
    TariffRestrictions,
    tariff_from_ocpi,
    tariff_to_ocpi,
)

from .spec_tariffs import EXAMPLES, load


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_spec_example_survives_a_round_trip_unchanged(name):
    document = load(name)

    tariff = tariff_from_ocpi(document)

    assert tariff_to_ocpi(tariff) == document
    assert tariff_from_ocpi(tariff_to_ocpi(tariff)) == tariff


def test_the_complex_example_reads_into_the_dataclasses():
    tariff = tariff_from_ocpi(load("tariff_4_complex"))

    assert tariff.currency == "EUR"
    assert tariff.elements[1].price_components == (
        PriceComponent(Dimension.TIME, Decimal("1.00"), 900, Decimal("20.0")),
    )
    assert tariff.elements[1].restrictions == TariffRestrictions(max_current=Decimal("32.00"))
    assert tariff.elements[5].restrictions == TariffRestrictions(
        start_time=time(10), end_time=time(17), day_of_week=frozenset({DayOfWeek.SATURDAY})
    )
    assert tariff.last_updated == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)


def test_json_numbers_as_floats_are_read_exactly():
    document = json.loads(EXAMPLES["tariff_13_simple_3hour_5parking"])  # floats, as a plain json.loads gives

    tariff = tariff_from_ocpi(document)

    assert tariff.elements[0].price_components[1].price == Decimal("5.0")
    assert tariff.elements[0].price_components[1].vat == Decimal("20.0")


def test_a_tariff_built_in_python_round_trips():
    tariff = Tariff(
        currency="CHF",
        elements=[
            TariffElement(
                [PriceComponent(Dimension.ENERGY, Decimal("0.4500"), 1, Decimal("8.1"))],
                TariffRestrictions(start_time=time(22), end_time=time(6), min_power=Decimal("50"), max_duration=3600),
            ),
            TariffElement([PriceComponent(Dimension.ENERGY, Decimal("0.55"), 1, Decimal("8.1"))]),
        ],
        start_date_time=datetime(2026, 1, 1, tzinfo=UTC),
        end_date_time=datetime(2026, 12, 31, 23, 0, 0, 500_000, tzinfo=UTC),
    )

    document = tariff_to_ocpi(tariff)

    assert document["end_date_time"] == "2026-12-31T23:00:00.5Z"
    assert document["elements"][0]["restrictions"] == {
        "start_time": "22:00", "end_time": "06:00", "min_power": Decimal("50"), "max_duration": 3600,
    }  # fmt: skip
    assert tariff_from_ocpi(document) == tariff


def _with(change):
    document = load("tariff_4_complex")
    change(document)
    return document


def _component(document, element=1, index=0):
    return document["elements"][element]["price_components"][index]


def _restrictions(document, element=4):
    return document["elements"][element]["restrictions"]


C = "elements[1].price_components[0]"
R = "elements[4].restrictions"
INVALID_DOCUMENTS = {
    "negative price": (lambda d: _component(d).update(price=Decimal("-1.00")), f"{C}.price", "must not be negative"),
    "negative step size": (lambda d: _component(d).update(step_size=-60), f"{C}.step_size", "must not be negative"),
    "fractional step size": (lambda d: _component(d).update(step_size=1.5), f"{C}.step_size", "must be an integer"),
    "missing step size": (lambda d: _component(d).pop("step_size"), f"{C}.step_size", "is required"),
    "price as text": (lambda d: _component(d).update(price="1.00"), f"{C}.price", "must be a number"),
    "price as boolean": (lambda d: _component(d).update(price=True), f"{C}.price", "must be a number"),
    "five decimals": (lambda d: _component(d).update(price=Decimal("0.12345")), f"{C}.price", "at most 4 decimals"),
    "VAT over 100 %": (lambda d: _component(d).update(vat=120), f"{C}.vat", "between 0 and 100"),
    "unknown dimension": (
        lambda d: _component(d).update(type="POWER"),
        f"{C}.type",
        "must be one of ENERGY, FLAT, PARKING_TIME, TIME",
    ),
    "dimension twice in an element": (
        lambda d: d["elements"][1]["price_components"].append(dict(_component(d))),
        "elements[1].price_components[1].type",
        "may appear only once per tariff element",
    ),
    "unknown currency": (lambda d: d.update(currency="XYZ"), "currency", "ISO 4217"),
    "withdrawn currency": (lambda d: d.update(currency="DEM"), "currency", "ISO 4217"),
    "missing currency": (lambda d: d.pop("currency"), "currency", "is required"),
    "no elements": (lambda d: d.update(elements=[]), "elements", "must not be empty"),
    "no price components": (
        lambda d: d["elements"][0].update(price_components=[]),
        "elements[0].price_components",
        "must not be empty",
    ),
    "misspelt restrictions": (
        lambda d: d["elements"][1].update(restriction=d["elements"][1].pop("restrictions")),
        "elements[1].restriction",
        "unknown field",
    ),
    "bad time format": (lambda d: _restrictions(d).update(start_time="9:00"), f"{R}.start_time", "HH:MM"),
    "hour 24": (lambda d: _restrictions(d).update(end_time="24:00"), f"{R}.end_time", "HH:MM"),
    "seconds in a time": (lambda d: _restrictions(d).update(end_time="18:00:00"), f"{R}.end_time", "HH:MM"),
    "unknown day": (
        lambda d: _restrictions(d)["day_of_week"].append("FUNDAY"),
        f"{R}.day_of_week[5]",
        "must be one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY",
    ),
    "repeated day": (lambda d: _restrictions(d)["day_of_week"].append("MONDAY"), f"{R}.day_of_week", "repeat"),
    "days not a list": (lambda d: _restrictions(d).update(day_of_week="MONDAY"), f"{R}.day_of_week", "must be a list"),
    "impossible date": (lambda d: _restrictions(d).update(start_date="2026-02-30"), f"{R}.start_date", "calendar"),
    "end date before start date": (
        lambda d: _restrictions(d).update(start_date="2026-06-01", end_date="2026-05-01"),
        f"{R}.end_date",
        "must be after start_date",
    ),
    "max kWh below min kWh": (
        lambda d: _restrictions(d).update(min_kwh=50, max_kwh=20),
        f"{R}.max_kwh",
        "must be greater than min_kwh",
    ),
    "negative duration": (lambda d: _restrictions(d).update(min_duration=-1), f"{R}.min_duration", "not be negative"),
    "unknown reservation type": (
        lambda d: _restrictions(d).update(reservation="BOOKED"),
        f"{R}.reservation",
        "must be one of RESERVATION, RESERVATION_EXPIRES",
    ),
    "energy in a reservation element": (
        lambda d: _restrictions(d).update(reservation="RESERVATION"),
        "elements[4].price_components[0].type",
        "a reservation element may only price FLAT and TIME",
    ),
    "end before start": (
        lambda d: d.update(start_date_time="2026-07-01T00:00:00Z", end_date_time="2026-06-30T00:00:00Z"),
        "end_date_time",
        "must be after start_date_time",
    ),
    "date-time with an offset": (
        lambda d: d.update(end_date_time="2026-06-30T23:59:59+02:00"),
        "end_date_time",
        "must be an OCPI date-time in UTC",
    ),
    "max price below min price": (
        lambda d: d.update(min_price={"excl_vat": 5}, max_price={"excl_vat": 4}),
        "max_price.excl_vat",
        "must not be lower than min_price.excl_vat",
    ),
    "incl. VAT below excl. VAT": (
        lambda d: d.update(max_price={"excl_vat": 10, "incl_vat": 9}),
        "max_price.incl_vat",
        "must not be lower than excl_vat",
    ),
    "unknown tariff type": (lambda d: d.update(type="CHEAP"), "type", "must be one of AD_HOC_PAYMENT"),
    "bad country code": (lambda d: d.update(country_code="DEU"), "country_code", "2 letters"),
    "unknown top-level field": (lambda d: d.update(tariff_id="14"), "tariff_id", "unknown field"),
}


@pytest.mark.parametrize("case", sorted(INVALID_DOCUMENTS))
def test_an_invalid_document_is_refused_naming_the_field_and_the_rule(case):
    change, field, rule = INVALID_DOCUMENTS[case]

    with pytest.raises(TariffError) as error:
        tariff_from_ocpi(_with(change))

    assert error.value.field == field
    assert rule in error.value.rule
    assert str(error.value) == f"{field}: {error.value.rule}"


def test_a_document_that_is_not_an_object_is_refused():
    with pytest.raises(TariffError) as error:
        tariff_from_ocpi([load("tariff_1_simple_2hour")])

    assert (error.value.field, error.value.rule) == ("tariff", "must be a JSON object")


def test_a_step_size_of_zero_is_valid():
    # The spec's own free-of-charge example uses it.
    assert tariff_from_ocpi(load("tariff_5_free_of_charge")).elements[0].price_components[0].step_size == 0


def test_tariffs_built_in_python_are_checked_by_the_same_rules():
    with pytest.raises(TariffError) as error:
        Tariff("EUR", [TariffElement([PriceComponent(Dimension.ENERGY, 0.25, 1)])])  # a float price

    assert (error.value.field, error.value.rule) == ("elements[0].price_components[0].price", "must be a number")


def test_parsing_does_not_change_the_document():
    document = load("tariff_4_complex")
    before = copy.deepcopy(document)

    tariff_to_ocpi(tariff_from_ocpi(document))["elements"][0]["price_components"][0]["price"] = 0

    assert document == before
