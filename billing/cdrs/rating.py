"""Rating: a stopped session becomes an immutable charge detail record, priced with the tariff that applied
when it started, after the customer's discounts; or, when it cannot be priced, a session flagged for review
with the reason.

Which tariff: the customer's membership tariff (`billing.loyalty.membership_tariff`) wins over the one assigned
to the connector (`billing.tariffs.tariff_for_session`), both as they were at the session's start. Sessions
already flagged for review (by the station layer or an earlier rating) are left for a person: once the cause is
fixed, the sessions admin's "price again" action rates them (`review.session_reprice`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from billing import pricing
from billing.feeds import price_feed_for
from billing.loyalty import (
    Discount,
    DiscountedTotals,
    apply_discounts,
    discount_words,
    loyalty_record_cdr,
    membership_tariff,
    session_discounts,
)
from billing.models import AdHocSession, ChargeDetailRecord, Tariff
from billing.pricing import PricedSession, PricingError, SessionFacts, SessionFactsError, quantize_price
from billing.pricing.explain import (
    describe_periods_incl_vat,
    explain_session_incl_vat,
    shown_money,
    total_incl_vat,
    vat_rates,
)
from billing.tariffs import tariff_for_session, tariff_to_pricing
from billing.tariffs.public import describe_restrictions
from stations.models import ChargingSession

from .facts import session_facts
from .ocpi import charging_periods, cost_breakdown, exact, json_safe, location_snapshot, operator_ids
from .review import session_flag_for_review

logger = logging.getLogger(__name__)


class RatingRefused(Exception):
    """The session cannot be priced; the message says why, for the person who reviews it."""


@dataclass(frozen=True)
class Rating:
    tariff: Tariff | None
    tariff_snapshot: dict  # OCPI Tariff JSON, with our dynamic-price extension
    facts: SessionFacts
    priced: PricedSession
    discounts: list[Discount]
    totals: DiscountedTotals
    engine_tariff: pricing.Tariff | None = None  # what priced it: the driver's lines word its restrictions


def cdr_create_for_session(*, session_id: int) -> ChargeDetailRecord | None:
    """The session's charge record: the existing original, or a new one. None when the session is not stopped,
    is waiting for review, or cannot be priced (then it is flagged for review with the reason)."""
    with transaction.atomic():
        session = session_locked(session_id)
        existing = session.cdrs.filter(kind=ChargeDetailRecord.Kind.CHARGE, replaces__isnull=True).first()
        if existing is not None:
            return existing
        if session.state != ChargingSession.State.COMPLETED or session.needs_review:
            return None
        try:
            rating = session_rating(session)
        except RatingRefused as refusal:
            logger.info("Session %s not priced: %s", session.pk, refusal)
            session_flag_for_review(session=session, reason=f"Not priced: {refusal}.")
            return None
        cdr = cdr_record(session=session, rating=rating)
        loyalty_record_cdr(cdr=cdr, discounts=rating.discounts)
    return cdr


def session_locked(session_id: int) -> ChargingSession:
    """The session, locked for the rating transaction, with everything a record snapshots."""
    return (
        ChargingSession.objects.select_for_update(of=("self",))
        .select_related("charge_point__location", "evse", "connector", "id_token", "customer")
        .get(pk=session_id)
    )


def session_rating(session: ChargingSession, *, tariff: Tariff | None = None, snapshot: dict | None = None) -> Rating:
    """Price `session`: with `snapshot` (a stored OCPI tariff, e.g. to re-rate with the tariff as agreed), with
    `tariff`, or with the tariff that applied at its start. Raises `RatingRefused`."""
    try:
        facts = session_facts(session)
    except SessionFactsError as error:
        raise RatingRefused(error.rule) from None
    if snapshot is None:
        tariff = tariff or _applicable_tariff(session)
        try:
            engine_tariff = tariff_to_pricing(tariff)
        except PricingError as error:
            raise RatingRefused(f"tariff {tariff.name!r} is invalid: {error}") from None
        snapshot = json_safe(pricing.tariff_to_ocpi(engine_tariff))
    else:
        engine_tariff = pricing.tariff_from_ocpi(snapshot)
    name = tariff.name if tariff is not None else snapshot.get("id", "")
    try:
        priced = pricing.price_session(engine_tariff, facts, price_feed=_price_feed(engine_tariff, facts))
    except PricingError as error:
        raise RatingRefused(f"cannot be priced with tariff {name!r}: {error}") from None
    discounts = session_discounts(customer=session.customer, priced=priced, at=session.started_at)
    return Rating(tariff, snapshot, facts, priced, discounts, apply_discounts(priced, discounts), engine_tariff)


def _applicable_tariff(session: ChargingSession) -> Tariff:
    at, customer = session.started_at, session.customer
    tariff = membership_tariff(customer=customer, at=at) if customer is not None else None
    tariff = tariff or tariff_for_session(connector=session.connector, customer=customer, at=at)
    if tariff is None:
        whom = f"customer {customer.number}" if customer is not None else "a session without a customer"
        raise RatingRefused(
            f"no tariff assigned to connector {session.charge_point.identity}/{session.evse.ocpp_evse_id} "
            f"for {whom} at {at.isoformat()}"
        )
    return tariff


def _price_feed(tariff: pricing.Tariff, facts: SessionFacts) -> pricing.PriceFeed | None:
    codes = {
        component.dynamic.feed
        for element in tariff.elements for component in element.price_components if component.dynamic is not None
    }
    if not codes:
        return None
    if len(codes) > 1:  # the engine follows one feed per session
        raise RatingRefused(f"the tariff follows several price feeds ({', '.join(sorted(codes))})")
    return price_feed_for(code=codes.pop(), start=facts.start, stop=facts.stop)


def new_cdr_id() -> str:
    """Our country code and party id and a random part: 25 characters, so that a credit's "-C" still fits the
    36 characters OCPI allows an original's id (39 for a credit)."""
    country, party = operator_ids()
    return f"{country}{party}{uuid.uuid4().hex[:20].upper()}"


def cdr_record(*, session: ChargingSession, rating: Rating, replaces: ChargeDetailRecord | None = None,
               reason: str = "", by=None) -> ChargeDetailRecord:
    """Create the record of a rating (call inside the rating transaction). The driver's explanation is
    written in the driver's language, as stored text (like an invoice line's description)."""
    priced, totals, token = rating.priced, rating.totals, session.id_token
    with translation.override(explanation_language(session)):
        drivers_lines = driver_explanation(rating)
    return ChargeDetailRecord.objects.create(
        ocpi_id=new_cdr_id(), session=session, replaces=replaces, reason=reason, created_by=by,
        customer=session.customer, id_token=token, token_uid=token.uid if token else session.id_tag,
        contract_id=token.contract_id if token else "", location=session.charge_point.location,
        location_snapshot=location_snapshot(session), charge_point_identity=session.charge_point.identity,
        transaction_id=session.transaction_id, tariff=rating.tariff, tariff_snapshot=rating.tariff_snapshot,
        currency=priced.currency, start_date_time=session.started_at, end_date_time=session.stopped_at,
        total_energy_wh=priced.energy_wh, total_time_s=_whole_seconds(priced.charging_time_s),
        total_parking_time_s=_whole_seconds(priced.parking_time_s),
        charging_periods=charging_periods(priced, start=session.started_at, tariff_id=rating.tariff_snapshot.get("id")),
        tariff_cost_excl_vat=totals.tariff_total.excl_vat, tariff_cost_incl_vat=totals.tariff_total.incl_vat,
        discount_excl_vat=totals.discount_shown.excl_vat, discount_incl_vat=totals.discount_shown.incl_vat,
        total_cost_excl_vat=totals.total.excl_vat, total_cost_incl_vat=totals.total.incl_vat,
        cost_breakdown=cost_breakdown(priced), vat_breakdown=vat_breakdown(totals.vat_lines),
        discounts=[discount.to_json() for discount in rating.discounts], explanation=explanation(rating),
        driver_explanation=drivers_lines,
    )


def explanation_language(session: ChargingSession) -> str:
    """The driver's language: the customer's; for an ad-hoc session (the guest customer's token) the language of
    the page the guest paid on, as its receipt (one query, only for those); else the default."""
    customer, language = session.customer, None
    if customer is not None and customer.number == settings.ADHOC_GUEST_CUSTOMER_NUMBER:
        if session.id_token_id is not None:
            language = AdHocSession.objects.filter(id_token_id=session.id_token_id).values_list(
                "language", flat=True).first()
    elif customer is not None:
        language = customer.language
    codes = {code for code, _ in settings.LANGUAGES}
    language = (language or "").lower()
    if language in codes:
        return language
    return language[:2] if language[:2] in codes else settings.LANGUAGE_CODE


def vat_breakdown(lines) -> list[dict]:
    return [
        {"rate": exact(line.rate) if line.rate is not None else None, "excl_vat": exact(line.excl_vat),
         "vat": exact(line.vat), "incl_vat": exact(line.incl_vat)}
        for line in lines
    ]


def explanation(rating: Rating) -> list[str]:
    """The engine's lines (periods, VAT, the tariff's total), then each discount and what is left to pay."""
    lines = list(rating.priced.explanation)
    if not rating.discounts:
        return lines
    currency = rating.priced.currency
    for discount in rating.discounts:
        lines.append(
            f"{discount.label}: -{quantize_price(discount.excl_vat, currency)} {currency} excl. VAT, "
            f"-{quantize_price(discount.incl_vat, currency)} {currency} incl. VAT"
        )
    total = rating.totals.total
    lines.append(f"To pay: {total.excl_vat} {currency} excl. VAT, {total.incl_vat} {currency} incl. VAT")
    return lines


def driver_explanation(rating: Rating) -> list[str]:
    """What the driver reads (the portal): the engine's lines incl. VAT, then each discount incl. VAT and what
    is left to pay. Amounts incl. VAT only, as drivers are quoted them; the VAT rate once, in the last line.
    In the active language (the caller overrides it with the driver's)."""
    priced = rating.priced
    conditions = _conditions(rating.engine_tariff)
    if not rating.discounts:
        return list(explain_session_incl_vat(priced, conditions))
    currency = priced.currency
    lines = describe_periods_incl_vat(priced, conditions)
    lines.append(gettext("Price: %(amount)s") % {"amount": shown_money(rating.totals.tariff_total.incl_vat, currency)})
    lines += [f"{discount_words(discount.to_json())}: -{shown_money(discount.incl_vat, currency)}"
              for discount in rating.discounts]
    lines.append(total_incl_vat(gettext("To pay"), rating.totals.total, vat_rates(priced), currency))
    return lines


def _conditions(tariff: pricing.Tariff | None) -> dict[int, str]:
    """Each restricted element's conditions in the reader's words, as the tariff pages word them."""
    if tariff is None:
        return {}
    return {index: describe_restrictions(element.restrictions) for index, element in enumerate(tariff.elements)
            if element.restrictions is not None}


def _whole_seconds(seconds) -> int:
    return int(seconds.to_integral_value())
