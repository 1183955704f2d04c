"""What a new charge record does to loyalty: it uses up the promotion it was discounted with and earns points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import ChargeDetailRecord, PointsCampaign, PointsEntry, PromoRedemption

from .discounts import PROMOTION, Discount
from .memberships import membership_day, membership_on
from .points import NOTE_LENGTH


@dataclass(frozen=True)
class EarnRate:
    points_per_kwh: Decimal
    sources: tuple[str, ...]  # "plan Plus 1", "campaign Summer 2"


def points_earn_rate(*, customer, at: datetime) -> EarnRate:
    """Points per kWh for a session starting at `at`: the member's plan plus every campaign running then."""
    sources, rate = [], Decimal(0)
    membership = membership_on(customer=customer, day=membership_day(at)) if customer is not None else None
    if membership is not None and membership.plan.points_per_kwh:
        rate += membership.plan.points_per_kwh
        sources.append(f"plan {membership.plan.name} {membership.plan.points_per_kwh.normalize():f}")
    campaigns = PointsCampaign.objects.filter(valid_from__lte=at).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=at)
    )
    for campaign in campaigns.order_by("valid_from", "id"):
        rate += campaign.points_per_kwh
        sources.append(f"campaign {campaign.name} {campaign.points_per_kwh.normalize():f}")
    return EarnRate(rate, tuple(sources))


@transaction.atomic
def loyalty_record_cdr(*, cdr: ChargeDetailRecord, discounts: list[Discount]) -> None:
    """Called in the rating transaction once the charge record exists. Calling it again for the same record
    changes nothing (the redemption already points at it; points are earned once per record). A record that
    replaces a credited one first takes back the points the credited one earned."""
    if cdr.replaces_id is not None:
        credit = ChargeDetailRecord.objects.filter(credited_record_id=cdr.replaces_id).first()
        if credit is not None:
            loyalty_record_credit(credit=credit)
    for discount in discounts:
        if discount.kind == PROMOTION:
            _use_redemption(redemption_id=discount.source_id, cdr=cdr)
    _earn_points(cdr)


@transaction.atomic
def loyalty_record_credit(*, credit: ChargeDetailRecord) -> PointsEntry | None:
    """A credit record cancels its record's loyalty too: the points it earned are taken back (an ADJUST entry
    on the credit record, written once), and the promotion it used counts as unused again (see
    `promo_redemptions_open`), so the re-rated session or the next one gets it."""
    earned = PointsEntry.objects.filter(cdr_id=credit.credited_record_id, kind=PointsEntry.Kind.EARN).first()
    if earned is None:
        return None
    entry, _ = PointsEntry.objects.get_or_create(
        cdr=credit, kind=PointsEntry.Kind.ADJUST,
        defaults={
            "customer_id": earned.customer_id, "points": -earned.points,
            "note": f"Taken back: {credit.credited_record.ocpi_id} was credited"[:NOTE_LENGTH],
        },
    )  # fmt: skip
    return entry


def _use_redemption(*, redemption_id: int, cdr: ChargeDetailRecord) -> None:
    redemption = PromoRedemption.objects.select_for_update(of=("self",)).get(pk=redemption_id)
    if redemption.cdr_id == cdr.pk:
        return
    credited = ChargeDetailRecord.objects.filter(credited_record_id=redemption.cdr_id).exists()
    if (redemption.cdr_id is not None and not credited) or redemption.customer_id != cdr.customer_id:
        # Two sessions rated at once chose the same redemption: this rating fails and, retried, prices
        # the session without it.
        raise ValidationError(f"The promotion code redemption {redemption_id} cannot be used by {cdr.ocpi_id}.")
    redemption.cdr = cdr
    redemption.save(update_fields=["cdr"])


def _earn_points(cdr: ChargeDetailRecord) -> PointsEntry | None:
    if cdr.kind != ChargeDetailRecord.Kind.CHARGE or cdr.customer_id is None:
        return None
    rate = points_earn_rate(customer=cdr.customer, at=cdr.start_date_time)
    points = int((rate.points_per_kwh * cdr.total_energy_wh / 1000).to_integral_value(rounding=ROUND_FLOOR))
    if points <= 0:
        return None
    kwh = (Decimal(cdr.total_energy_wh) / 1000).normalize()
    note = f"{kwh:f} kWh x {rate.points_per_kwh.normalize():f} points/kWh ({', '.join(rate.sources)})"
    entry, _ = PointsEntry.objects.get_or_create(
        cdr=cdr, kind=PointsEntry.Kind.EARN,
        defaults={
            "customer_id": cdr.customer_id, "points": points, "note": note[:NOTE_LENGTH],
            "expires_on": timezone.localdate(cdr.end_date_time) + timedelta(days=settings.LOYALTY_POINTS_VALID_DAYS),
        },
    )  # fmt: skip
    return entry
