"""The admin pages for tariffs, assignments, customer groups and price feeds, as staff use them."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import PriceFeedValue, Tariff, TariffAssignment
from tests.admin_helpers import filter_link, rows
from tests.billing.factories import CustomerGroupFactory, PriceFeedFactory, TariffAssignmentFactory, TariffFactory
from tests.factories import CustomerFactory, LocationFactory

pytestmark = pytest.mark.django_db

ELEMENT_FIELDS = [
    "position", "energy_price", "energy_vat", "energy_step_wh", "energy_feed", "energy_feed_margin",
    "energy_feed_min_price", "energy_feed_max_price", "time_price", "time_vat", "time_step_s", "parking_price",
    "parking_vat", "parking_step_s", "flat_price", "flat_vat", "flat_step", "start_time", "end_time", "start_date",
    "end_date", "min_kwh", "max_kwh", "min_duration_s", "max_duration_s", "min_power_kw", "max_power_kw",
    "min_current_a", "max_current_a", "reservation",
]


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _tariff_post(elements: list[dict], assignments: list[dict] = (), **header) -> dict:
    data = {
        "name": "AC public 2026", "currency": "EUR", "type": "", "start_date_time_0": "", "start_date_time_1": "",
        "end_date_time_0": "", "end_date_time_1": "", "min_price_excl_vat": "", "min_price_incl_vat": "",
        "max_price_excl_vat": "", "max_price_incl_vat": "", "country_code": "DE", "party_id": "EVB",
        "ocpi_id": "AC2026", "alt_text": "[]", "alt_url": "", "energy_mix": "null",
        "elements-TOTAL_FORMS": str(len(elements)), "elements-INITIAL_FORMS": "0",
        "assignments-TOTAL_FORMS": str(len(assignments)), "assignments-INITIAL_FORMS": "0", **header,
    }
    for index, element in enumerate(elements):
        values = {name: "" for name in ELEMENT_FIELDS} | {"energy_step_wh": "0", "time_step_s": "0",
                                                          "parking_step_s": "0", "flat_step": "0"} | element
        for name, value in values.items():
            data[f"elements-{index}-{name}"] = value
    for index, assignment in enumerate(assignments):
        for name in ("location", "charge_point", "connector", "customer_group", "valid_from_0", "valid_from_1",
                     "valid_until_0", "valid_until_1"):
            data[f"assignments-{index}-{name}"] = assignment.get(name, "")
    return data


def test_staff_add_a_tariff_with_two_elements_through_the_form(staff_client):
    data = _tariff_post([
        {"position": "0", "energy_price": "0.2437", "energy_vat": "19", "start_time": "22:00", "end_time": "06:00",
         "days_of_week": ["MONDAY", "FRIDAY"]},
        {"position": "1", "energy_price": "0.3277", "energy_vat": "19", "parking_price": "6", "parking_vat": "19",
         "parking_step_s": "300"},
    ])

    response = staff_client.post(reverse("admin:billing_tariff_add"), data)

    assert response.status_code == 302, _errors(response)
    tariff = Tariff.objects.get()
    night, day = tariff.elements.order_by("position")
    assert night.days_of_week == ["MONDAY", "FRIDAY"] and night.end_time.hour == 6
    assert day.parking_step_s == 300


def test_an_element_the_engine_refuses_shows_its_rule_on_the_field(staff_client):
    data = _tariff_post([
        {"position": "0", "energy_price": "0.30", "min_kwh": "10", "max_kwh": "5"},
        {"position": "1", "energy_price": "0.1234"},
    ])

    response = staff_client.post(reverse("admin:billing_tariff_add"), data)

    assert response.status_code == 200
    formset = _formset(response, "elements")
    assert formset.forms[0].errors == {"max_kwh": ["must be greater than min_kwh (the element would never apply)"]}
    assert not Tariff.objects.exists()


def test_more_than_four_decimals_are_refused_on_the_price_field(staff_client):
    response = staff_client.post(reverse("admin:billing_tariff_add"), _tariff_post([
        {"position": "0", "time_price": "1.5", "time_vat": "7.12345"},
    ]))

    assert response.status_code == 200
    assert "time_vat" in _formset(response, "elements").forms[0].errors


def test_a_header_rule_of_the_engine_shows_on_the_header_field(staff_client):
    data = _tariff_post([{"position": "0", "energy_price": "0.30"}], min_price_excl_vat="2",
                        min_price_incl_vat="1")

    response = staff_client.post(reverse("admin:billing_tariff_add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"min_price_incl_vat": ["must not be lower than excl_vat"]}


def test_an_overlapping_assignment_shows_the_conflict_on_the_form(staff_client):
    location = LocationFactory(name="Hafen")
    TariffAssignmentFactory(tariff=TariffFactory(name="Old"), location=location,
                            valid_from=datetime(2026, 1, 1, tzinfo=UTC))
    data = _tariff_post([{"position": "0", "energy_price": "0.30"}], assignments=[
        {"location": str(location.pk), "valid_from_0": "2026-02-01", "valid_from_1": "00:00:00"}])

    response = staff_client.post(reverse("admin:billing_tariff_add"), data)

    assert response.status_code == 200
    errors = _formset(response, "assignments").forms[0].non_field_errors()
    assert errors[0].startswith('Overlaps "Old" at location Hafen')
    assert Tariff.objects.count() == 1


def test_the_tariff_list_shows_the_summary(staff_client):
    TariffFactory(name="Public")

    response = staff_client.get(reverse("admin:billing_tariff_changelist"))

    assert "0.4641 EUR/kWh (incl. 19 % VAT)" in response.content.decode()


def test_the_change_page_shows_the_summary_and_the_day_checkboxes(staff_client):
    tariff = TariffFactory()

    page = staff_client.get(reverse("admin:billing_tariff_change", args=[tariff.pk])).content.decode()

    assert "0.4641 EUR/kWh" in page
    assert 'type="checkbox" name="elements-0-days_of_week" value="SUNDAY"' in page


def test_the_duplicate_action_copies_a_tariff(staff_client):
    tariff = TariffFactory(name="2026")

    staff_client.post(reverse("admin:billing_tariff_changelist"),
                      {"action": "duplicate", "_selected_action": [tariff.pk]})

    assert sorted(Tariff.objects.values_list("name", flat=True)) == ["2026", "2026 (copy)"]


def test_the_assignment_list_filters_by_place(staff_client):
    network = TariffAssignmentFactory()
    at_location = TariffAssignmentFactory(location=LocationFactory())
    changelist = reverse("admin:billing_tariffassignment_changelist")

    response = staff_client.get(changelist)
    filtered = staff_client.get(changelist + filter_link(response, "place", "whole network"))

    assert rows(response) == {network, at_location}
    assert rows(filtered) == {network}


def test_the_assignment_admin_refuses_an_overlap_with_the_conflict(staff_client):
    TariffAssignmentFactory(tariff=TariffFactory(name="Public"), valid_from=datetime(2026, 1, 1, tzinfo=UTC))

    response = staff_client.post(reverse("admin:billing_tariffassignment_add"), {
        "tariff": TariffFactory().pk, "valid_from_0": "2026-03-01", "valid_from_1": "00:00:00",
        "valid_until_0": "", "valid_until_1": ""})

    assert response.status_code == 200
    assert 'Overlaps "Public" at the whole network' in response.context["adminform"].form.non_field_errors()[0]
    assert TariffAssignment.objects.count() == 1


def test_customer_groups_are_edited_with_their_members(staff_client):
    customer = CustomerFactory()

    response = staff_client.post(reverse("admin:customers_customergroup_add"),
                                 {"name": "Fleet", "description": "", "customers": [customer.pk]})

    assert response.status_code == 302
    assert list(CustomerGroupFactory._meta.model.objects.get().customers.all()) == [customer]


def test_a_price_feed_csv_is_imported_from_its_admin_page(staff_client):
    feed = PriceFeedFactory(interval_s=3600)
    upload = SimpleUploadedFile("prices.csv", b"start,price\n2026-03-01T00:00:00Z,84.5\n", "text/csv")

    response = staff_client.post(reverse("admin:billing_pricefeed_import", args=[feed.pk]),
                                 {"file": upload, "unit": "mwh"})
    page = staff_client.get(reverse("admin:billing_pricefeed_change", args=[feed.pk])).content.decode()

    assert response.status_code == 302
    assert PriceFeedValue.objects.get().price_per_kwh == Decimal("0.0845")
    assert "Import CSV" in page and "0.084500" in page


def test_a_bad_csv_line_is_shown_on_the_import_page(staff_client):
    feed = PriceFeedFactory(interval_s=3600)
    upload = SimpleUploadedFile("prices.csv", b"2026-03-01T00:00:00Z,84.5\n2026-03-01T00:30:00Z,80\n", "text/csv")

    response = staff_client.post(reverse("admin:billing_pricefeed_import", args=[feed.pk]),
                                 {"file": upload, "unit": "mwh"})

    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith("line 2:")
    assert not PriceFeedValue.objects.exists()


def _formset(response, prefix):
    return next(f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == prefix)


def _errors(response):
    if response.status_code != 200:
        return response.status_code
    context = response.context
    return (context["adminform"].form.errors,
            [(f.formset.prefix, f.formset.errors, f.formset.non_form_errors())
             for f in context["inline_admin_formsets"]])
