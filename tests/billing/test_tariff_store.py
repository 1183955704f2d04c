"""Tariffs stored from OCPI documents: the spec's examples survive import and export; the engine's refusals
name the OCPI path; nothing is stored half."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing.models import Tariff, TariffElement
from billing.pricing import DynamicPrice, TariffError
from billing.tariffs import (
    tariff_create_from_ocpi,
    tariff_delete,
    tariff_duplicate,
    tariff_to_ocpi_document,
    tariff_to_pricing,
    tariff_update_from_ocpi,
)
from tests.billing.factories import PriceFeedFactory, TariffAssignmentFactory, TariffElementFactory, TariffFactory

from .spec_tariffs import EXAMPLES, load

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_spec_example_is_exported_as_it_was_imported(name):
    document = load(name)

    tariff = tariff_create_from_ocpi(document=document)
    exported = tariff_to_ocpi_document(Tariff.objects.get(pk=tariff.pk))

    assert exported.pop("last_updated")  # ours: the moment we stored it
    document.pop("last_updated", None)
    assert exported == document


def test_import_stores_header_and_elements_in_position_order():
    tariff = tariff_create_from_ocpi(document=load("tariff_4_complex"), name="Complex")

    tariff.refresh_from_db()
    assert (tariff.name, tariff.country_code, tariff.party_id, tariff.ocpi_id) == ("Complex", "DE", "ALL", "14")
    elements = list(tariff.elements.order_by("position"))
    assert [e.position for e in elements] == [0, 1, 2, 3, 4, 5]
    assert elements[0].flat_price == Decimal("2.50") and elements[0].flat_vat == Decimal("15")
    assert elements[1].time_step_s == 900 and elements[1].max_current_a == Decimal("32")
    assert elements[4].days_of_week == ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]


def test_a_tariff_without_a_name_is_named_after_its_english_alt_text():
    tariff = tariff_create_from_ocpi(document=load("tariff_2_alt_text"))

    assert tariff.name == "2.00 euro p/hour including VAT."


def test_a_document_without_ids_gets_ours():
    component = {"type": "ENERGY", "price": 0.3, "step_size": 1}
    document = {"currency": "EUR", "elements": [{"price_components": [component]}]}

    tariff = tariff_create_from_ocpi(document=document, name="Plain")

    exported = tariff_to_ocpi_document(tariff)
    assert exported["country_code"] == "DE" and exported["party_id"] == "EVB"
    assert exported["id"] == tariff.ocpi_id and len(tariff.ocpi_id) == 12


@pytest.mark.parametrize(("change", "path", "rule"), [
    (lambda d: d["elements"][0]["price_components"][0].update(step_size=-1),
     "elements[0].price_components[0].step_size", "must not be negative"),
    (lambda d: d["elements"][0]["price_components"][0].update(price=-0.1),
     "elements[0].price_components[0].price", "must not be negative"),
    (lambda d: d.update(currency="DEM"), "currency", "must be an ISO 4217 code of a currency in use, e.g. EUR"),
    (lambda d: d.update(start_date_time="2026-02-01T00:00:00Z", end_date_time="2026-01-01T00:00:00Z"),
     "end_date_time", "must be after start_date_time"),
    (lambda d: d["elements"][0]["price_components"].append({"type": "ENERGY", "price": 0.1, "step_size": 1}),
     "elements[0].price_components[1].type", "may appear only once per tariff element"),
])
def test_an_invalid_document_is_refused_naming_the_field_and_nothing_is_stored(change, path, rule):
    document = load("tariff_8_simple_025kwh")
    change(document)

    with pytest.raises(TariffError) as refused:
        tariff_create_from_ocpi(document=document)

    assert (refused.value.field, refused.value.rule) == (path, rule)
    assert not Tariff.objects.exists() and not TariffElement.objects.exists()


def test_a_step_size_of_zero_is_valid():
    document = load("tariff_8_simple_025kwh")
    document["elements"][0]["price_components"][0]["step_size"] = 0

    tariff = tariff_create_from_ocpi(document=document)

    assert tariff.elements.get().energy_step_wh == 0


def test_an_id_already_taken_is_refused():
    tariff_create_from_ocpi(document=load("tariff_8_simple_025kwh"))

    with pytest.raises(TariffError) as refused:
        tariff_create_from_ocpi(document=load("tariff_8_simple_025kwh"))

    assert refused.value.field == "id"


def test_a_dynamic_price_follows_a_stored_feed():
    PriceFeedFactory(code="epex-de")
    document = load("tariff_8_simple_025kwh")
    document["elements"][0]["price_components"][0]["dynamic_price"] = {"feed": "epex-de", "margin": 0.05,
                                                                       "max_price": 0.6}
    tariff = tariff_create_from_ocpi(document=document)

    component = tariff_to_pricing(tariff).elements[0].price_components[0]

    assert component.dynamic == DynamicPrice(feed="epex-de", margin=Decimal("0.05"), max_price=Decimal("0.6"))
    plain = tariff_to_ocpi_document(tariff, extensions=False)
    assert "dynamic_price" not in plain["elements"][0]["price_components"][0]


def test_a_dynamic_price_naming_an_unknown_feed_is_refused_on_its_path():
    document = load("tariff_8_simple_025kwh")
    document["elements"][0]["price_components"][0]["dynamic_price"] = {"feed": "nowhere"}

    with pytest.raises(TariffError) as refused:
        tariff_create_from_ocpi(document=document)

    assert refused.value.field == "elements[0].price_components[0].dynamic_price.feed"
    assert "unknown price feed" in refused.value.rule


def test_update_replaces_header_and_elements():
    tariff = tariff_create_from_ocpi(document=load("tariff_4_complex"))

    tariff_update_from_ocpi(tariff=tariff, document=load("tariff_12_025kwh_min_price"))

    exported = tariff_to_ocpi_document(Tariff.objects.get(pk=tariff.pk))
    assert len(exported["elements"]) == 1 and exported["min_price"] == {"excl_vat": Decimal("0.50"),
                                                                         "incl_vat": Decimal("0.55")}
    assert "tariff_alt_url" not in exported


def test_a_refused_update_leaves_the_tariff_as_it_was():
    tariff = tariff_create_from_ocpi(document=load("tariff_4_complex"))
    document = load("tariff_8_simple_025kwh")
    document["elements"][0]["price_components"][0]["vat"] = 101

    with pytest.raises(TariffError):
        tariff_update_from_ocpi(tariff=tariff, document=document)

    assert tariff.elements.count() == 6


def test_factory_tariff_prices_energy_at_0_39_with_19_percent_vat():
    component = tariff_to_pricing(TariffFactory()).elements[0].price_components[0]

    assert (component.price, component.vat) == (Decimal("0.39"), Decimal("19"))


def test_a_row_the_engine_refuses_raises_tariff_error_with_the_path():
    tariff = TariffFactory()
    TariffElementFactory(tariff=tariff, position=1, energy_price=None, time_price=Decimal("1"), min_kwh=Decimal(5),
                         max_kwh=Decimal(2))

    with pytest.raises(TariffError) as refused:
        tariff_to_pricing(tariff)

    assert refused.value.field == "elements[1].restrictions.max_kwh"


def test_duplicate_copies_elements_under_a_new_ocpi_id():
    tariff = tariff_create_from_ocpi(document=load("tariff_4_complex"), name="2026")

    copy = tariff_duplicate(tariff=tariff)

    assert copy.name == "2026 (copy)" and copy.ocpi_id != tariff.ocpi_id
    original, copied = tariff_to_ocpi_document(tariff), tariff_to_ocpi_document(copy)
    assert copied["elements"] == original["elements"]


def test_an_assigned_tariff_cannot_be_deleted_but_an_unused_one_can():
    assigned, unused = TariffFactory(), TariffFactory()
    TariffAssignmentFactory(tariff=assigned, valid_from=datetime(2026, 1, 1, tzinfo=UTC))

    with pytest.raises(TariffError, match="assigned"):
        tariff_delete(tariff=assigned)
    tariff_delete(tariff=unused)

    assert list(Tariff.objects.all()) == [assigned]
