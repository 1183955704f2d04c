"""Reads behind the driver portal's money pages: sessions with their price, a customer's issued documents,
what is still open and why a collection failed, membership savings and the points history.

Every function takes the customer (or a queryset already scoped by customers/portal/access.py): scoping is the
caller's job, these only read what they are given.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import formats
from django.utils.translation import gettext
from djmoney.money import Money

from billing.invoicing import invoices_with_credit_state
from billing.invoicing.periods import billing_zone
from billing.loyalty import discount_words
from billing.loyalty.discounts import MEMBERSHIP
from billing.models import ChargeDetailRecord, Invoice, Membership, MembershipPlan, PointsEntry
from billing.payments import DunningState, dunning_state, invoice_amount_due
from billing.pricing import Amount, quantize_price
from billing.pricing.explain import shown_money, total_incl_vat
from customers.models import Customer
from stations.models import ChargingSession


# --- sessions ------------------------------------------------------------------------------------------------
def month_bounds(first_day: date) -> tuple[datetime, datetime]:
    """A calendar month in the billing time zone, as aware moments [start, end): the sessions of one invoice."""
    following = date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)
    zone = billing_zone()
    return datetime.combine(first_day, time(0), tzinfo=zone), datetime.combine(following, time(0), tzinfo=zone)


def sessions_priced(sessions: QuerySet[ChargingSession], *, month: date | None = None,
                    token_id: int | None = None) -> QuerySet[ChargingSession]:
    """The sessions newest first, each annotated with its valid charge record (the newest one not credited):
    `price_incl_vat`, `price_currency`, `priced_energy_wh`, and `credited` (a credit exists, so a session
    without a valid record was cancelled, not forgotten). One query for a page, whatever its length."""
    valid = ChargeDetailRecord.objects.filter(
        session=OuterRef("pk"), kind=ChargeDetailRecord.Kind.CHARGE, credits__isnull=True
    ).order_by("-created_at", "-pk")
    credits = ChargeDetailRecord.objects.filter(session=OuterRef("pk"), kind=ChargeDetailRecord.Kind.CREDIT)
    if month is not None:
        start, end = month_bounds(month)
        sessions = sessions.filter(started_at__gte=start, started_at__lt=end)
    if token_id is not None:
        sessions = sessions.filter(id_token_id=token_id)
    return (
        sessions.select_related("charge_point__location", "evse", "id_token")
        .annotate(
            price_incl_vat=Subquery(valid.values("total_cost_incl_vat")[:1]),
            price_currency=Subquery(valid.values("currency")[:1]),
            priced_energy_wh=Subquery(valid.values("total_energy_wh")[:1]),
            credited=Exists(credits),
        )
        .order_by("-started_at", "-pk")
    )


@dataclass(frozen=True)
class SessionRow:
    """One line of the history as a driver reads it; `price_state` is charging / priced / review / pricing /
    credited."""

    session: ChargingSession
    location_name: str
    started_local: datetime
    energy_kwh: Decimal | None
    duration_s: int | None
    price: Money | None
    price_state: str


def session_row(session: ChargingSession) -> SessionRow:
    """Needs the annotations of `sessions_priced`."""
    location = session.charge_point.location
    energy_wh = session.priced_energy_wh
    if energy_wh is None and session.meter_stop_wh is not None:
        energy_wh = session.meter_stop_wh - session.meter_start_wh
    duration = int((session.stopped_at - session.started_at).total_seconds()) if session.stopped_at else None
    price = None
    if session.state == ChargingSession.State.ACTIVE:
        state = "charging"
    elif session.price_incl_vat is not None:
        state, price = "priced", Money(quantize_price(session.price_incl_vat, session.price_currency),
                                       session.price_currency)
    elif session.needs_review:
        state = "review"
    elif session.credited:
        state = "credited"
    else:
        state = "pricing"
    return SessionRow(
        session=session,
        location_name=location.name,
        started_local=session.started_at.astimezone(location.tzinfo),
        energy_kwh=None if energy_wh is None else (Decimal(energy_wh) / 1000).quantize(Decimal("0.001")),
        duration_s=duration,
        price=price,
        price_state=state,
    )


def driver_explanation(record: ChargeDetailRecord) -> list[str]:
    """How a record's price came about, as the driver reads it: amounts incl. VAT (the net `explanation` is for
    staff and the CDR API). Records rated before the driver's lines were stored get them from their totals, in
    the active language (stored lines are in the language the record was rated in)."""
    if record.driver_explanation:
        return list(record.driver_explanation)
    currency = str(record.currency)
    kwh = formats.number_format((Decimal(record.total_energy_wh) / 1000).quantize(Decimal("0.001")), decimal_pos=3)
    words = {"fixed": gettext("Session fee"), "energy": gettext("Energy %(kwh)s kWh") % {"kwh": kwh},
             "time": gettext("Charging time %(minutes)s min") % {"minutes": -(-record.total_time_s // 60)},
             "parking": gettext("Parking time %(minutes)s min") % {"minutes": -(-record.total_parking_time_s // 60)},
             "reservation": gettext("Reservation"), "limit_adjustment": gettext("Minimum or maximum price")}
    lines = [f"{words[name]}: {shown_money(Decimal(cost['incl_vat']), currency)}"
             for name, cost in record.cost_breakdown.items() if name in words and Decimal(cost["incl_vat"])]
    lines += [f"{discount_words(discount)}: -{shown_money(Decimal(discount['incl_vat']), currency)}"
              for discount in record.discounts]
    rates = tuple(Decimal(line["rate"]) if line["rate"] is not None else None for line in record.vat_breakdown)
    total = Amount(record.total_cost_excl_vat, record.total_cost_incl_vat)
    return [*lines, total_incl_vat(gettext("Total"), total, rates, currency)]


# --- invoices and what is open -------------------------------------------------------------------------------
def customer_documents(customer: Customer) -> QuerySet[Invoice]:
    """The customer's issued invoices and credit notes, newest first, with `fully_credited` and the dunning
    case joined (drafts are the operator's business until issued)."""
    issued = Invoice.objects.filter(customer=customer, status=Invoice.Status.ISSUED)
    return (
        invoices_with_credit_state(issued)
        .select_related("dunning", "credited_invoice")
        .order_by("-issue_date", "-number", "-pk")
    )


@dataclass(frozen=True)
class OpenInvoice:
    invoice: Invoice
    due: Money
    dunning: DunningState


def open_invoices(customer: Customer) -> list[OpenInvoice]:
    """Issued, unpaid invoices not fully credited, oldest first, with what is still due and their collection
    state."""
    unpaid = customer_documents(customer).filter(
        kind=Invoice.Kind.INVOICE, paid_at__isnull=True, fully_credited=False
    ).order_by("issue_date", "pk")
    rows = [OpenInvoice(invoice, invoice_amount_due(invoice), dunning_state(invoice)) for invoice in unpaid]
    return [row for row in rows if row.due.amount > 0]


def open_totals(rows: list[OpenInvoice]) -> list[Money]:
    """The open amount per currency (a customer normally has one)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[str(row.due.currency)] += row.due.amount
    return [Money(amount, currency) for currency, amount in sorted(totals.items())]


# --- loyalty -------------------------------------------------------------------------------------------------
def membership_current(customer: Customer, *, today: date) -> Membership | None:
    """The membership in force today, else the next one to start (joined for tomorrow)."""
    return (
        Membership.objects.filter(customer=customer)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=today))
        .select_related("plan")
        .order_by("starts_on", "pk")
        .first()
    )


def plans_open_to(customer: Customer) -> QuerySet[MembershipPlan]:
    """Plans that take new members, priced in the customer's currency."""
    return MembershipPlan.objects.filter(is_active=True, monthly_fee_currency=str(customer.currency)).order_by(
        "monthly_fee", "name"
    )


def membership_savings(customer: Customer) -> list[Money]:
    """What membership discounts took off the customer's valid charge records, incl. VAT, per currency (a
    record that was credited no longer counts; its replacement does). Plans that price with their own tariff
    give no discount line, so their advantage is not in this sum."""
    records = ChargeDetailRecord.objects.filter(
        customer=customer, kind=ChargeDetailRecord.Kind.CHARGE, credits__isnull=True
    ).values_list("currency", "discounts")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for currency, discounts in records.iterator(chunk_size=500):
        for discount in discounts or ():
            if discount.get("kind") == MEMBERSHIP:
                totals[str(currency)] += Decimal(discount["incl_vat"])
    return [Money(quantize_price(amount, currency), currency) for currency, amount in sorted(totals.items())]


def points_history(customer: Customer) -> QuerySet[PointsEntry]:
    """The customer's points entries newest first, with the charge record (and its location) they came from."""
    return PointsEntry.objects.filter(customer=customer).select_related("cdr__location").order_by(
        "-created_at", "-pk"
    )
