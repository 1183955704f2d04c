"""A charge record is never edited or deleted: a credit record cancels it, a correction credits it and rates the
session again into a record that replaces it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.cdrs import cdr_correct, cdr_create_for_session, cdr_credit, cdr_to_ocpi
from billing.loyalty import points_balance
from billing.models import ChargeDetailRecord
from stations.models import MeterValue
from tests.billing.factories import TariffElementFactory, TariffFactory
from tests.billing.loyalty_factories import MembershipFactory, MembershipPlanFactory
from tests.billing.test_cdr_rating import BERLIN_EVENING, METER_START, plain_tariff, session_started, stopped_quietly
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def rated(energy_wh=23_456, hours=1) -> ChargeDetailRecord:
    session = session_started()
    stopped_quietly(session, BERLIN_EVENING + timedelta(hours=hours), METER_START + energy_wh)
    return cdr_create_for_session(session_id=session.pk)


@pytest.fixture
def cdr():
    plain_tariff()
    return rated()


def test_a_credit_negates_the_amounts_and_references_the_record(cdr):
    staff = StaffUserFactory()

    credit = cdr_credit(cdr=cdr, reason="Driver was charged twice.", by=staff)

    assert (credit.kind, credit.credited_record, credit.ocpi_id) == ("credit", cdr, f"{cdr.ocpi_id}-C")
    assert (credit.total_cost_excl_vat, credit.total_cost_incl_vat) == (Decimal("-9.15"), Decimal("-10.89"))
    assert credit.vat_breakdown == [{"rate": "19.000000", "excl_vat": "-9.147840", "vat": "-1.738090",
                                     "incl_vat": "-10.885930"}]
    assert credit.total_energy_wh == cdr.total_energy_wh and credit.session == cdr.session
    assert (credit.reason, credit.created_by) == ("Driver was charged twice.", staff)
    owed = sum(r.total_cost_incl_vat for r in ChargeDetailRecord.objects.filter(customer=cdr.customer))
    assert owed == 0


def test_a_credit_in_ocpi_has_negative_total_cost_only_and_names_the_credited_record(cdr):
    credit = cdr_credit(cdr=cdr, reason="Goodwill.")

    document = cdr_to_ocpi(credit)

    assert document["credit"] is True and document["credit_reference_id"] == cdr.ocpi_id
    assert document["total_cost"] == {"excl_vat": Decimal("-9.15"), "incl_vat": Decimal("-10.89")}
    assert document["total_energy_cost"] == {"excl_vat": Decimal("9.15"), "incl_vat": Decimal("10.89")}
    assert document["total_energy"] == Decimal("23.456") and document["remark"] == "Goodwill."


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_credit_needs_a_reason(cdr, reason):
    with pytest.raises(ValidationError, match="needs a reason"):
        cdr_credit(cdr=cdr, reason=reason)


def test_a_credit_record_is_not_credited(cdr):
    credit = cdr_credit(cdr=cdr, reason="Goodwill.")

    with pytest.raises(ValidationError, match="credit records are not credited"):
        cdr_credit(cdr=credit, reason="Again.")


def test_a_record_is_credited_once(cdr):
    cdr_credit(cdr=cdr, reason="Goodwill.")

    with pytest.raises(ValidationError, match="already credited"):
        cdr_credit(cdr=cdr, reason="Again.")
    assert ChargeDetailRecord.objects.filter(kind="credit").count() == 1


def test_a_correction_after_fixing_the_readings_credits_and_replaces_the_record(cdr):
    session = cdr.session
    session.meter_stop_wh = METER_START + 10_000  # what the meter really read (the station sent a wrong stop)
    type(session).objects.filter(pk=session.pk).update(meter_stop_wh=METER_START + 10_000)

    credit, replacement = cdr_correct(cdr=cdr, reason="Meter stop was misread.")

    assert credit.credited_record == cdr and replacement.replaces == cdr
    assert (replacement.kind, replacement.session, replacement.total_energy_wh) == ("charge", session, 10_000)
    assert (replacement.total_cost_excl_vat, replacement.total_cost_incl_vat) == (Decimal("3.90"), Decimal("4.64"))
    assert replacement.tariff_snapshot == cdr.tariff_snapshot and replacement.ocpi_id != cdr.ocpi_id
    assert cdr_create_for_session(session_id=session.pk) == cdr  # the original stays the session's original


def test_a_correction_with_another_tariff_prices_with_it(cdr):
    cheaper = TariffFactory(elements=False)
    TariffElementFactory(tariff=cheaper, energy_price=Decimal("0.30"), energy_vat=Decimal("19"))

    _, replacement = cdr_correct(cdr=cdr, reason="Fleet price applies.", tariff=cheaper)

    assert replacement.tariff == cheaper and replacement.total_cost_excl_vat == Decimal("7.04")


def test_a_correction_uses_the_tariff_as_it_was_not_as_it_was_edited_since(cdr):
    cdr.tariff.elements.update(energy_price=Decimal("0.99"))

    _, replacement = cdr_correct(cdr=cdr, reason="Re-rated.")

    assert replacement.total_cost_excl_vat == cdr.total_cost_excl_vat


def test_a_correction_that_cannot_be_rated_credits_nothing(cdr):
    MeterValue.objects.create(session=cdr.session, charge_point=cdr.session.charge_point,
                              timestamp=BERLIN_EVENING + timedelta(minutes=30), value=METER_START - 1, unit="Wh")

    with pytest.raises(ValidationError, match="cannot be rated again: meter reading at"):
        cdr_correct(cdr=cdr, reason="Re-rated.")

    assert ChargeDetailRecord.objects.count() == 1


def test_a_corrected_record_cannot_be_corrected_again_but_its_replacement_can(cdr):
    _, replacement = cdr_correct(cdr=cdr, reason="First.")

    with pytest.raises(ValidationError, match="already credited"):
        cdr_correct(cdr=cdr, reason="Second.")
    _, third = cdr_correct(cdr=replacement, reason="Second.")

    assert third.replaces == replacement


def test_a_record_refuses_to_be_saved_again_or_deleted(cdr):
    cdr.total_cost_incl_vat = Decimal("0")

    with pytest.raises(ValidationError, match="never changed"):
        cdr.save()
    with pytest.raises(ValidationError, match="never deleted"):
        cdr.delete()

    assert ChargeDetailRecord.objects.get(pk=cdr.pk).total_cost_incl_vat == Decimal("10.89")


def test_the_database_refuses_a_second_original_for_a_session(cdr):
    twin = ChargeDetailRecord.objects.get(pk=cdr.pk)
    twin.pk, twin.ocpi_id = None, "DEEVBTWIN"

    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_a_correction_takes_back_the_points_of_the_credited_record_and_earns_them_for_the_new_one():
    plain_tariff()
    session = session_started()
    plan = MembershipPlanFactory(discount_per_kwh=Decimal("0"), points_per_kwh=Decimal("1"))
    MembershipFactory(customer=session.customer, plan=plan)
    stopped_quietly(session, BERLIN_EVENING + timedelta(hours=1), METER_START + 10_000)
    cdr = cdr_create_for_session(session_id=session.pk)
    assert points_balance(customer=session.customer) == 10

    type(session).objects.filter(pk=session.pk).update(meter_stop_wh=METER_START + 20_000)
    cdr_correct(cdr=cdr, reason="Meter stop was misread.")

    assert points_balance(customer=session.customer) == 20
