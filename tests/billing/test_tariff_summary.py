"""The one line drivers and staff read about a tariff: prices incl. VAT, per minute, per session, idle fee."""

from datetime import time
from decimal import Decimal

import pytest

from billing.tariffs import tariff_create_from_ocpi, tariff_summary, tariff_summary_lines
from tests.billing.factories import TariffFactory

from .spec_tariffs import load

pytestmark = pytest.mark.django_db


def _tariff(*elements, **fields):
    return TariffFactory(elements=list(elements), **fields)


def test_peak_and_off_peak_tariff_reads_base_price_then_the_night_price_incl_vat():
    # Given prices excl. VAT whose gross prices are round, the night element first (first match wins)
    tariff = _tariff(
        {"energy_price": Decimal("0.2437"), "energy_vat": Decimal("19"), "start_time": time(22), "end_time": time(6)},
        {"energy_price": Decimal("0.3277"), "energy_vat": Decimal("19")},
        {"energy_price": None, "time_price": Decimal("5.0420"), "time_vat": Decimal("19"), "min_duration_s": 7200},
    )

    summary = tariff_summary(tariff, language="en")

    assert summary == "0.39 EUR/kWh, 0.10 EUR/min after 2 h; 22:00-06:00 0.29 EUR/kWh (incl. 19 % VAT)"


def test_prices_are_shown_incl_vat_to_four_decimals_rather_than_rounded_away():
    tariff = TariffFactory()  # 0.39 EUR/kWh excl. 19 % VAT

    assert tariff_summary(tariff) == "0.4641 EUR/kWh (incl. 19 % VAT)"


def test_session_fee_idle_fee_and_steps_are_worded_for_drivers():
    tariff = tariff_create_from_ocpi(document=load("tariff_10_025kwh_parking_start"))

    assert tariff_summary(tariff) == (
        "0.60 EUR per session, 0.275 EUR/kWh, idle fee 0.04 EUR/min per started 15 min (incl. VAT)"
    )


def test_minimum_and_maximum_per_session_are_shown():
    tariff = tariff_create_from_ocpi(document=load("tariff_6_025kwh_start_max_price"))

    assert tariff_summary(tariff).endswith("(max. 11.00 EUR per session, incl. VAT)")


def test_a_tariff_that_costs_nothing_says_so():
    tariff = tariff_create_from_ocpi(document=load("tariff_5_free_of_charge"))

    assert tariff_summary(tariff) == "free of charge"


def test_without_vat_no_vat_note_is_added():
    tariff = _tariff({"energy_price": Decimal("0.30"), "energy_vat": None})

    assert tariff_summary(tariff) == "0.30 EUR/kWh"


def test_an_element_shadowed_by_an_earlier_unrestricted_one_is_not_shown():
    tariff = _tariff(
        {"energy_price": Decimal("0.30"), "energy_vat": None},
        {"energy_price": Decimal("0.10"), "energy_vat": None, "start_time": time(22), "end_time": time(6)},
    )

    assert tariff_summary(tariff) == "0.30 EUR/kWh"


def test_the_alt_text_in_the_readers_language_wins():
    tariff = tariff_create_from_ocpi(document=load("tariff_2_alt_text"))

    assert tariff_summary(tariff, language="nl") == "2.00 euro p/uur inclusief BTW."
    assert tariff_summary(tariff, language="de").startswith("0.0333 EUR/min")


def test_summary_lines_put_each_condition_on_its_own_line():
    tariff = _tariff(
        {"energy_price": Decimal("0.20"), "energy_vat": None, "start_time": time(22), "end_time": time(6)},
        {"energy_price": Decimal("0.30"), "energy_vat": None},
    )

    assert tariff_summary_lines(tariff) == ["0.30 EUR/kWh", "22:00-06:00 0.20 EUR/kWh"]
