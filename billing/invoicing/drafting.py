"""Drafting a customer's invoices for a period: one draft per currency, from the charge records no invoice has
taken yet, the membership fees of the period (pro-rated) and the open loyalty points credits.

Which records: every charge and credit record of the customer that starts before the period's end (in the
billing time zone) and is on no invoice yet. That is the period's records plus any earlier one no invoice took
(rated late, or a credit record for an already invoiced session): nothing is left behind. A record gives one
line per VAT rate of its breakdown (exact amounts); the database refuses to invoice a record twice.

Fleets: a company's charging lines carry their driver (`driver_label`, see `driver_label`) and are ordered by
driver, then time, so that the document can group and subtotal them; a private person's invoice has none."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import formats, translation
from django.utils.translation import gettext

from billing.loyalty import membership_fee, points_credits_open
from billing.models import ChargeDetailRecord, Invoice, InvoiceLine, Membership, OperatorProfile, PointsEntry
from customers.models import Customer, IdToken

from .periods import billing_zone, day_start
from .vat import (
    VatTreatment,
    all_mentions,
    breakdown_notes,
    breakdown_totals,
    fee_vat_rate,
    vat_breakdown,
    vat_treatment,
)

Line = InvoiceLine.Kind
DESCRIPTION_LENGTH = InvoiceLine._meta.get_field("description").max_length
DRIVER_LENGTH = InvoiceLine._meta.get_field("driver_label").max_length


def invoice_draft_for_period(*, customer: Customer, period_start: date, period_end: date) -> list[Invoice]:
    """The customer's invoices for [period_start, period_end), one per currency: those that exist already
    (idempotent: never a second one), and a new draft for each other currency with something to bill."""
    if period_end <= period_start:
        raise ValidationError("A billing period ends after it starts.")
    with transaction.atomic():
        # Drafting is serialised per customer, so two closes cannot both take the same records.
        customer = Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
        existing = {
            str(invoice.currency): invoice
            for invoice in Invoice.objects.filter(
                kind=Invoice.Kind.INVOICE, customer=customer, period_start=period_start, period_end=period_end
            )
        }
        operator_country = OperatorProfile.objects.values_list("country", flat=True).first()
        treatment = vat_treatment(customer=customer, operator_country=operator_country)
        # Line descriptions are written in the customer's language: they are stored and printed as they are.
        with translation.override(line_language(customer)):
            lines = _lines_by_currency(customer, period_start, period_end, treatment)
            invoices = list(existing.values())
            for currency, currency_lines in sorted(lines.items()):
                if currency not in existing:
                    currency_lines += _points_credit_lines(customer, currency, currency_lines)
                    invoices.append(_draft_create(customer, currency, period_start, period_end, currency_lines))
    return sorted(invoices, key=lambda invoice: str(invoice.currency))


def line_language(customer: Customer) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    return customer.language if customer.language in codes else settings.LANGUAGE_CODE


def _day(value: date) -> str:
    """A date in a line's description: ISO in English, 01.06.2026 in German."""
    return formats.date_format(value, "d.m.Y") if translation.get_language() == "de" else f"{value:%Y-%m-%d}"


def invoice_totals_fill(invoice: Invoice, lines) -> Invoice:
    """Sets the invoice's VAT breakdown, totals and mentions from its lines (not saved)."""
    groups = vat_breakdown(lines, str(invoice.currency))
    invoice.vat_breakdown = groups
    invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat = breakdown_totals(groups)
    # Mentions follow the lines (a draft's lines may have been edited); staff's own notes are kept.
    known = set(all_mentions())
    kept = [text for text in invoice.notes.splitlines() if text.strip() and text not in known]
    invoice.notes = "\n".join([*kept, *breakdown_notes(groups).splitlines()])
    return invoice


def records_to_invoice(*, before):
    """Charge and credit records starting before `before` (aware) that no invoice has taken yet."""
    invoiced = InvoiceLine.objects.filter(cdr=OuterRef("pk"), credited_line__isnull=True)
    # Ad-hoc sessions were paid by card on the spot and have their own receipt: never on a monthly invoice.
    return ChargeDetailRecord.objects.filter(start_date_time__lt=before, id_token__adhoc_session__isnull=True).filter(
        ~Exists(invoiced)
    )


def memberships_in(*, period_start: date, period_end: date):
    return Membership.objects.filter(starts_on__lt=period_end).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=period_start)
    )


def _draft_create(customer, currency, period_start, period_end, lines) -> Invoice:
    invoice = Invoice.objects.create(
        customer=customer, currency=currency, period_start=period_start, period_end=period_end,
    )
    for position, line in enumerate(lines, start=1):
        line.invoice, line.position = invoice, position
    InvoiceLine.objects.bulk_create(lines)
    invoice_totals_fill(invoice, lines)
    invoice.save(update_fields=["vat_breakdown", "total_excl_vat", "total_vat", "total_incl_vat", "notes"])
    return invoice


def _lines_by_currency(customer, period_start, period_end, treatment) -> dict[str, list[InvoiceLine]]:
    lines: dict[str, list[InvoiceLine]] = defaultdict(list)
    records = records_to_invoice(before=day_start(period_end)).filter(customer=customer)
    fleet = customer.kind == Customer.Kind.COMPANY
    related = ["credited_record", "id_token__user"] if fleet else ["credited_record"]
    for cdr in records.select_related(*related).order_by("start_date_time", "id"):
        driver = driver_label(token=cdr.id_token, token_uid=cdr.token_uid) if fleet else ""
        lines[str(cdr.currency)] += cdr_lines(cdr, treatment, driver=driver)
    if fleet:  # by driver, then time (the sort is stable); a record without a token last
        for currency_lines in lines.values():
            currency_lines.sort(key=lambda line: (not line.driver_label, line.driver_label.casefold()))
    memberships = memberships_in(period_start=period_start, period_end=period_end).filter(customer=customer)
    for membership in memberships.select_related("plan").order_by("starts_on", "id"):
        line = _membership_fee_line(membership, period_start, period_end, treatment)
        if line is not None:
            lines[str(membership.plan.monthly_fee.currency)].append(line)
    return lines


def driver_label(*, token: IdToken | None, token_uid: str) -> str:
    """Who charged, as a fleet's invoice names them: the token's driver and its printed number (else its uid),
    "Mehmet Yilmaz (EVB-300102)"; just the number for a token without a named driver."""
    number = (token.visual_number or token.uid) if token is not None else token_uid
    user = token.user if token is not None else None
    name = user.get_full_name() if user is not None else ""
    return (f"{name} ({number})" if name and number else name or number)[:DRIVER_LENGTH]


def cdr_lines(cdr: ChargeDetailRecord, treatment: VatTreatment, *, driver: str = "") -> list[InvoiceLine]:
    """One line per VAT rate of the record: its tariff amount, discount and net (exact), at that rate; `driver`
    labels the lines of a fleet's invoice."""
    sign = -1 if cdr.kind == ChargeDetailRecord.Kind.CREDIT else 1
    discounts = _discounts_by_rate(cdr.discounts)
    breakdown = cdr.vat_breakdown or _breakdown_from_totals(cdr)
    description = _cdr_description(cdr)
    lines = []
    for part in breakdown:
        rate = None if part.get("rate") is None else Decimal(part["rate"])
        category, vat_rate = treatment.classify(rate)
        net = Decimal(part["excl_vat"])
        discount = sign * discounts.get(rate, Decimal(0))
        suffix = (gettext(" (VAT %(rate)s %%)") % {"rate": formats.number_format(rate.normalize())}
                  if len(breakdown) > 1 and rate is not None else "")
        lines.append(InvoiceLine(
            kind=Line.CHARGING, description=(description + suffix)[:DESCRIPTION_LENGTH], cdr=cdr,
            service_start=cdr.start_date_time, service_end=cdr.end_date_time, energy_wh=cdr.total_energy_wh,
            duration_s=int((cdr.end_date_time - cdr.start_date_time).total_seconds()), quantity=Decimal(1),
            unit="session", unit_price_excl_vat=net + discount, discount_excl_vat=discount, net_amount=net,
            vat_category=category, vat_rate=vat_rate, driver_label=driver,
        ))  # fmt: skip
    return lines


def _breakdown_from_totals(cdr: ChargeDetailRecord) -> list[dict]:
    # A record without a VAT breakdown (nothing was priced, or written before breakdowns existed): one part at
    # the rate its totals imply, to 0.1 %; a free session at the fee rate.
    excl, incl = Decimal(cdr.total_cost_excl_vat), Decimal(cdr.total_cost_incl_vat)
    rate = fee_vat_rate() if excl == 0 else ((incl / excl - 1) * 100).quantize(Decimal("0.1"))
    return [{"rate": str(rate), "excl_vat": str(excl)}]


def _discounts_by_rate(discounts: list[dict]) -> dict[Decimal | None, Decimal]:
    by_rate: dict[Decimal | None, Decimal] = defaultdict(Decimal)
    for discount in discounts or []:
        for part in discount.get("vat_lines", []):
            rate = None if part.get("rate") is None else Decimal(part["rate"])
            by_rate[rate] += Decimal(part["excl_vat"])
    return by_rate


def _cdr_description(cdr: ChargeDetailRecord) -> str:
    place = cdr.location_snapshot or {}
    where = ", ".join(filter(None, [place.get("name"), place.get("city")])) or cdr.charge_point_identity
    # The date, energy and duration have columns of their own; the description says when in the day and where,
    # short enough for one line, so a month of sessions stays a page or two.
    started = cdr.start_date_time.astimezone(billing_zone())
    text = gettext("Charging from %(time)s, %(where)s") % {"time": f"{started:%H:%M}", "where": where}
    if cdr.kind == ChargeDetailRecord.Kind.CREDIT:
        credited = cdr.credited_record.ocpi_id if cdr.credited_record else ""
        text = gettext("Credit for %(record)s: %(text)s") % {"record": credited, "text": text} + (
            f" ({cdr.reason})" if cdr.reason else "")
    return text


def _membership_fee_line(membership, period_start, period_end, treatment) -> InvoiceLine | None:
    start = max(period_start, membership.starts_on)
    end = period_end if membership.ends_on is None else min(period_end, membership.ends_on)
    already = InvoiceLine.objects.filter(
        membership=membership, kind=Line.MEMBERSHIP_FEE, credited_line__isnull=True, service_start=day_start(start)
    )
    fee = membership_fee(membership=membership, period_start=period_start, period_end=period_end)
    if fee.amount == 0 or already.exists():
        return None
    category, rate = treatment.classify(fee_vat_rate())
    last_day = end - timedelta(days=1)
    return InvoiceLine(
        kind=Line.MEMBERSHIP_FEE, membership=membership, service_start=day_start(start), service_end=day_start(end),
        description=(gettext("Membership %(plan)s, %(start)s to %(end)s") % {
            "plan": membership.plan.name, "start": _day(start), "end": _day(last_day)})[:DESCRIPTION_LENGTH],
        quantity=Decimal(1), unit="period", unit_price_excl_vat=fee.amount, net_amount=fee.amount,
        vat_category=category, vat_rate=rate,
    )


def _points_credit_lines(customer, currency: str, lines: list[InvoiceLine]) -> list[InvoiceLine]:
    """The open points credits in this currency, as negative lines on the invoice's largest VAT group, oldest
    first, as long as that group's net stays at or above zero (a credit that does not fit waits)."""
    nets: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        nets[(line.vat_category, line.vat_rate)] += line.net_amount
    if not nets or max(nets.values()) <= 0:
        return []
    (category, rate), room = max(nets.items(), key=lambda item: item[1])
    credits = points_credits_open(customer=customer).filter(credit_amount_currency=currency)
    taken = []
    for entry in credits:
        amount = entry.credit_amount.amount
        if amount > room:
            break
        room -= amount
        taken.append(_points_line(entry, amount, category, rate))
    return taken


def _points_line(entry: PointsEntry, amount: Decimal, category: str, rate: Decimal) -> InvoiceLine:
    return InvoiceLine(
        kind=Line.POINTS_CREDIT, points_entry=entry, quantity=Decimal(1), unit="credit",
        description=gettext("Loyalty points credit: %(points)s points redeemed on %(date)s") % {
            "points": -entry.points, "date": _day(entry.created_at.date())},
        unit_price_excl_vat=-amount, net_amount=-amount, vat_category=category, vat_rate=rate,
    )
