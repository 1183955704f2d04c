"""Corrections: a charge record is never edited. A credit record cancels it (the same data with negated amounts,
referencing it); a correction is that credit plus a re-rated record that `replaces` it (OCPI "Credit CDRs")."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.loyalty import loyalty_record_cdr, loyalty_record_credit
from billing.models import ChargeDetailRecord, Tariff

from .ocpi import exact
from .rating import RatingRefused, cdr_record, session_locked, session_rating

#: Fields a credit takes over from the record it cancels as they are (amounts are negated separately).
_KEPT = (
    "session", "customer", "id_token", "token_uid", "contract_id", "location", "location_snapshot",
    "charge_point_identity", "transaction_id", "tariff", "tariff_snapshot", "currency", "start_date_time",
    "end_date_time", "total_energy_wh", "total_time_s", "total_parking_time_s", "charging_periods", "discounts",
)
_AMOUNTS = (
    "tariff_cost_excl_vat", "tariff_cost_incl_vat", "discount_excl_vat", "discount_incl_vat",
    "total_cost_excl_vat", "total_cost_incl_vat",
)


def cdr_credit(*, cdr: ChargeDetailRecord, reason: str, by=None) -> ChargeDetailRecord:
    """Cancel a charge record with a credit record (id: the record's id + "-C") and the loyalty it earned.
    Refuses a credit record, a record already credited, and an empty reason."""
    reason = _required(reason)
    with transaction.atomic():
        cdr = ChargeDetailRecord.objects.select_for_update(of=("self",)).get(pk=cdr.pk)
        if cdr.kind == ChargeDetailRecord.Kind.CREDIT:
            raise ValidationError(f"{cdr.ocpi_id} is a credit record: credit records are not credited.")
        if cdr.credits.exists():
            raise ValidationError(f"{cdr.ocpi_id} is already credited.")
        credit = ChargeDetailRecord(
            ocpi_id=f"{cdr.ocpi_id}-C", kind=ChargeDetailRecord.Kind.CREDIT, credited_record=cdr, reason=reason,
            created_by=by, **{name: getattr(cdr, name) for name in _KEPT},
            **{name: -getattr(cdr, name) for name in _AMOUNTS},
            cost_breakdown={key: _negated(amounts) for key, amounts in cdr.cost_breakdown.items()},
            vat_breakdown=[{**line, **_negated({k: line[k] for k in ("excl_vat", "vat", "incl_vat")})}
                           for line in cdr.vat_breakdown],
            explanation=[
                f"Credit for {cdr.ocpi_id}: {reason}",
                f"Credited: {-cdr.total_cost_excl_vat} {cdr.currency} excl. VAT, "
                f"{-cdr.total_cost_incl_vat} {cdr.currency} incl. VAT",
            ],
        )
        credit.save()
        loyalty_record_credit(credit=credit)  # points earned are taken back, a promotion used is free again
    return credit


def cdr_correct(*, cdr: ChargeDetailRecord, reason: str, tariff: Tariff | None = None,
                by=None) -> tuple[ChargeDetailRecord, ChargeDetailRecord]:
    """Credit `cdr` and rate its session again: from its meter values as they are now (after they were fixed),
    with `tariff` or else the tariff snapshot the record was priced with. All or nothing: a session that cannot
    be priced raises ValidationError and nothing is credited."""
    reason = _required(reason)
    with transaction.atomic():
        session = session_locked(cdr.session_id)  # the same lock order as rating: session, then record
        credit = cdr_credit(cdr=cdr, reason=reason, by=by)
        try:
            if tariff is not None:
                rating = session_rating(session, tariff=tariff)
            else:
                rating = session_rating(session, tariff=cdr.tariff, snapshot=cdr.tariff_snapshot)
        except RatingRefused as refusal:
            raise ValidationError(f"The session cannot be rated again: {refusal}.") from None
        replacement = cdr_record(session=session, rating=rating, replaces=cdr, reason=reason, by=by)
        loyalty_record_cdr(cdr=replacement, discounts=rating.discounts)
    return credit, replacement


def _required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why: a credit or correction needs a reason.")
    return reason


def _negated(amounts: dict) -> dict:
    return {key: exact(-Decimal(value)) for key, value in amounts.items()}
