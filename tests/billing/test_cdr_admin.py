"""The admin shows charge records read-only with the reasons for their price, and credits or corrects them from
a reason form."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.cdrs import cdr_create_for_session
from billing.models import ChargeDetailRecord
from tests.admin_helpers import filter_link, rows
from tests.billing.test_cdr_rating import BERLIN_EVENING, METER_START, plain_tariff, session_started, stopped_quietly
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:billing_chargedetailrecord_changelist")


def rated() -> ChargeDetailRecord:
    session = session_started(connector=ConnectorFactory())
    stopped_quietly(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 23_456)
    return cdr_create_for_session(session_id=session.pk)


@pytest.fixture
def cdr():
    plain_tariff()
    return rated()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def change_url(cdr) -> str:
    return reverse("admin:billing_chargedetailrecord_change", args=[cdr.pk])


def test_the_change_page_shows_the_explanation_vat_and_periods_and_nothing_can_be_edited(staff_client, cdr):
    response = staff_client.get(change_url(cdr))

    page = response.content.decode()
    assert response.status_code == 200
    assert "23.456 kWh x 0.39 EUR/kWh = 9.15 EUR" in page
    assert "<td>19 %</td><td>9.15 EUR</td><td>1.74 EUR</td><td>10.89 EUR</td>" in page
    assert "ENERGY 23.456, TIME 1" in page
    assert 'name="_save"' not in page and "deletelink" not in page


def test_records_cannot_be_added_or_deleted_in_the_admin(staff_client, cdr):
    assert staff_client.get(reverse("admin:billing_chargedetailrecord_add")).status_code == 403
    assert staff_client.post(reverse("admin:billing_chargedetailrecord_delete", args=[cdr.pk]),
                             {"post": "yes"}).status_code == 403
    assert ChargeDetailRecord.objects.filter(pk=cdr.pk).exists()


def test_the_list_searches_transaction_ids_identities_and_record_ids_and_filters_by_kind(staff_client, cdr):
    other = rated()
    staff_client.post(reverse("admin:billing_chargedetailrecord_credit", args=[other.pk]), {"reason": "Goodwill."})

    assert rows(staff_client.get(CHANGELIST, {"q": cdr.charge_point_identity})) == {cdr}
    assert rows(staff_client.get(CHANGELIST, {"q": cdr.ocpi_id})) == {cdr}
    credits = staff_client.get(CHANGELIST + filter_link(staff_client.get(CHANGELIST), "kind", "Credit"))
    assert {record.kind for record in rows(credits)} == {"credit"}


def test_crediting_from_the_reason_form(staff_client, staff_user, cdr):
    url = reverse("admin:billing_chargedetailrecord_credit", args=[cdr.pk])
    assert "reason" in staff_client.get(url).content.decode()

    response = staff_client.post(url, {"reason": "Charged twice."})

    credit = ChargeDetailRecord.objects.get(kind="credit")
    assert response.status_code == 302 and response.url == change_url(credit)
    assert (credit.credited_record, credit.reason, credit.created_by) == (cdr, "Charged twice.", staff_user)


def test_a_credit_without_a_reason_is_refused_on_the_form(staff_client, cdr):
    response = staff_client.post(reverse("admin:billing_chargedetailrecord_credit", args=[cdr.pk]), {"reason": ""})

    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not ChargeDetailRecord.objects.filter(kind="credit").exists()


def test_crediting_twice_shows_the_refusal_on_the_form(staff_client, cdr):
    url = reverse("admin:billing_chargedetailrecord_credit", args=[cdr.pk])
    staff_client.post(url, {"reason": "Once."})

    response = staff_client.post(url, {"reason": "Twice."})

    assert response.status_code == 200 and "is already credited" in response.content.decode()


def test_correcting_with_another_tariff_from_the_form(staff_client, cdr):
    cheaper = plain_tariff()
    cheaper.elements.update(energy_price=Decimal("0.30"))

    response = staff_client.post(reverse("admin:billing_chargedetailrecord_correct", args=[cdr.pk]),
                                 {"reason": "Fleet price.", "tariff": cheaper.pk})

    replacement = ChargeDetailRecord.objects.get(replaces=cdr)
    assert response.url == change_url(replacement) and replacement.total_cost_excl_vat == Decimal("7.04")


def test_the_credit_action_leads_to_the_reason_form_for_one_record(staff_client, cdr):
    response = staff_client.post(CHANGELIST, {"action": "credit_selected", "_selected_action": [cdr.pk]})

    assert response.status_code == 302
    assert response.url == reverse("admin:billing_chargedetailrecord_credit", args=[cdr.pk])


def test_the_correct_action_wants_exactly_one_record(staff_client, cdr):
    other = rated()

    response = staff_client.post(CHANGELIST, {"action": "correct_selected", "_selected_action": [cdr.pk, other.pk]},
                                 follow=True)

    assert "Select exactly one record" in response.content.decode()
    assert ChargeDetailRecord.objects.count() == 2
