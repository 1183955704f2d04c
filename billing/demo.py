"""The demo network's prices, loyalty offers and invoices, written by `manage.py seed_demo` after the stations
and the month of sessions: public AC and DC tariffs per country (19 % VAT in Germany, 20 % in Austria) with a
night price and idle fees, a fleet deal, a membership plan, a promotion code, a charge record for every
finished demo session (priced through the same rating service as a real one), the demo operator's legal
details, and the invoices of the last closed month (issued, numbered and rendered as real ones are).

Prices are chosen so that drivers see round prices incl. VAT; tariffs store them excl. VAT (4 decimals).
Every object is looked up by its name or code first, so running the seed again changes nothing.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from djmoney.money import Money

from billing.cdrs import cdr_create_for_session
from billing.cdrs.selectors import sessions_to_rate
from billing.invoicing import billing_period_close
from billing.invoicing.periods import billing_today, previous_month
from billing.loyalty import membership_start
from billing.models import MembershipPlan, OperatorProfile, PromoCode, Tariff, TariffAssignment
from billing.tariffs import tariff_assign, tariff_create_from_ocpi
from customers.models import Customer, CustomerGroup, User
from stations.models import ChargePoint, Connector, Location

VAT = {"DE": Decimal(19), "AT": Decimal(20)}


def _energy(price: str, vat: Decimal, **restrictions) -> dict:
    element = {"price_components": [{"type": "ENERGY", "price": Decimal(price), "vat": vat, "step_size": 1}]}
    return element | ({"restrictions": restrictions} if restrictions else {})


def _idle_fee(per_hour: str, vat: Decimal, **restrictions) -> dict:
    """PARKING_TIME: connected without charging, per started minute."""
    element = {"price_components": [{"type": "PARKING_TIME", "price": Decimal(per_hour), "vat": vat, "step_size": 60}]}
    return element | ({"restrictions": restrictions} if restrictions else {})


def _texts(text: str) -> list[dict]:
    return [{"language": "en", "text": text}]


# name -> OCPI elements; AC: a night price and an idle fee after 4 hours (cars left all day
# block the charger); DC: an idle fee from the first minute after charging ends.
TARIFFS = {
    "AC Germany": [
        _energy("0.3277", VAT["DE"], start_time="22:00", end_time="06:00"),  # 0.39 EUR/kWh incl. VAT
        _energy("0.4118", VAT["DE"]),  # 0.49 EUR/kWh incl. VAT
        _idle_fee("5.0420", VAT["DE"], min_duration=4 * 3600),  # 0.10 EUR/min incl. VAT
    ],
    "DC Germany": [
        _energy("0.5798", VAT["DE"]),  # 0.69 EUR/kWh incl. VAT
        _idle_fee("5.0420", VAT["DE"]),
    ],
    "AC Austria": [
        _energy("0.3000", VAT["AT"], start_time="22:00", end_time="06:00"),  # 0.36 EUR/kWh incl. VAT
        _energy("0.3750", VAT["AT"]),  # 0.45 EUR/kWh incl. VAT
        _idle_fee("5.0000", VAT["AT"], min_duration=4 * 3600),  # 0.10 EUR/min incl. VAT
    ],
    "DC Austria": [
        _energy("0.5417", VAT["AT"]),  # 0.65 EUR/kWh incl. VAT
        _idle_fee("5.0000", VAT["AT"]),
    ],
    "Fleet Germany": [_energy("0.3361", VAT["DE"])],  # 0.40 EUR/kWh incl. VAT, no idle fees
}
FLEET_GROUP = "Fleet customers (Germany)"
FLEET_ACCOUNTS = ("Spreewerk Logistik GmbH", "Hanse Elektro Service GmbH")
PLAN = "EVB Plus"
PROMO = "WELCOME26"


def billing_demo_create(*, now: datetime) -> dict[str, int]:
    """Create what is missing; returns counts of what was created."""
    since = now - timedelta(days=60)
    created = {"tariffs": 0, "tariff assignments": 0, "charge records": 0}
    tariffs = {}
    for name, elements in TARIFFS.items():
        tariffs[name] = Tariff.objects.filter(name=name).first()
        if tariffs[name] is None:
            document = {"currency": "EUR", "type": "REGULAR", "elements": elements, "tariff_alt_text": []}
            tariffs[name] = tariff_create_from_ocpi(document=document, name=name)
            created["tariffs"] += 1
    if not TariffAssignment.objects.exists():
        created["tariff assignments"] = _assignments(tariffs, since)
    _loyalty(tariffs, now)
    created["charge records"] = rate_finished_sessions()
    created["invoices"] = _last_month_invoices(now)
    return created


def _assignments(tariffs: dict[str, Tariff], since: datetime) -> int:
    """AC tariff per location, DC tariff on each DC charge point (more specific, so it wins there), the fleet
    deal on every German location for the fleet group (a group tariff wins over the public one)."""
    group, _ = CustomerGroup.objects.get_or_create(
        name=FLEET_GROUP, defaults={"description": "Companies with a fleet contract: 0.40 EUR/kWh in Germany."}
    )
    group.customers.add(*Customer.objects.filter(name__in=FLEET_ACCOUNTS))
    count = 0
    for location in Location.objects.order_by("pk"):
        country = "Germany" if str(location.country) == "DE" else "Austria"
        tariff_assign(tariff=tariffs[f"AC {country}"], location=location, valid_from=since)
        count += 1
        if country == "Germany":
            tariff_assign(tariff=tariffs["Fleet Germany"], location=location, customer_group=group, valid_from=since)
            count += 1
    dc_stations = ChargePoint.objects.filter(evses__connectors__power_type=Connector.PowerType.DC).distinct()
    for charge_point in dc_stations.select_related("location").order_by("pk"):
        country = "Germany" if str(charge_point.location.country) == "DE" else "Austria"
        tariff_assign(tariff=tariffs[f"DC {country}"], charge_point=charge_point, valid_from=since)
        count += 1
    return count


def _loyalty(tariffs: dict[str, Tariff], now: datetime) -> None:
    plan, _ = MembershipPlan.objects.get_or_create(
        name=PLAN,
        defaults={
            "description": "11.99 EUR a month: 0.20 EUR/kWh off every session, one point per kWh.",
            "monthly_fee": Money("11.99", "EUR"), "benefit": MembershipPlan.Benefit.KWH_DISCOUNT,
            "discount_per_kwh": Decimal("0.1681"),  # 0.20 EUR incl. 19 % VAT
            "points_per_kwh": Decimal(1),
        },
    )
    driver = User.objects.filter(username="driver").select_related("customer").first()
    if driver is not None and driver.customer is not None and not driver.customer.memberships.exists():
        membership_start(customer=driver.customer, plan=plan, starts_on=(now - timedelta(days=45)).date())
    PromoCode.objects.get_or_create(
        code=PROMO,
        defaults={
            "description": "20 % off the first session for new drivers", "discount": PromoCode.Discount.PERCENT,
            "value": Decimal(20), "valid_from": now - timedelta(days=30), "valid_until": now + timedelta(days=90),
            "max_redemptions": 1000, "max_redemptions_per_customer": 1,
        },
    )


# A fictitious operator: the demo's invoices need a supplier with complete legal details.
DEMO_OPERATOR = {
    "legal_name": "EVB Demo Charging GmbH", "address_line1": "Heidestraße 50", "postal_code": "10557",
    "city": "Berlin", "country": "DE", "vat_id": "DE999999999", "tax_number": "27/123/45678",
    "registration": "Amtsgericht Berlin-Charlottenburg HRB 000000 B (demo)", "managing_directors": "Demo Director",
    "email": "billing@evbackoffice.example", "bank_name": "Demo Bank", "iban": "DE02120300000000202051",
    "bic": "BYLADEM1001", "invoice_footer": "Demo data: this company and its invoices do not exist.",
}


def _last_month_invoices(now: datetime) -> int:
    """Close the last full month, as the 1st-of-month beat task would (idempotent: nothing twice)."""
    if not OperatorProfile.objects.exists():
        OperatorProfile.objects.create(**DEMO_OPERATOR)
    this_month = billing_today().replace(day=1)
    return billing_period_close(period_start=previous_month(this_month), period_end=this_month)


def rate_finished_sessions() -> int:
    """Charge records for the finished sessions that have none (the demo history is written in bulk, so no
    stop message rated them)."""
    count, after = 0, 0
    while ids := sessions_to_rate(settled_for=timedelta(0), after_id=after, limit=500):
        for session_id in ids:
            count += cdr_create_for_session(session_id=session_id) is not None
        after = ids[-1]
    return count
