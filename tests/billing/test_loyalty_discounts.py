"""Discounts after the tariff: memberships and promotions on a priced session, VAT on the discounted amount,
min/max price, rounding once, and never a negative total."""

from decimal import Decimal

import pytest

from billing.loyalty import Discount, apply_discounts, session_discounts
from billing.models import MembershipPlan, PromoCode
from billing.pricing import VatLine, price_session
from tests.factories import CustomerFactory

from .loyalty_factories import MembershipFactory, MembershipPlanFactory, PromoCodeFactory, PromoRedemptionFactory
from .sessions import Charge, Park, component, element, local, session, tariff

pytestmark = pytest.mark.django_db

START = "2026-06-01 09:30"
AT = local(START)


def energy_tariff(price="0.39", **fields):
    return tariff(element(component("ENERGY", price, vat="19")), **fields)


def priced(kwh=20, price="0.39", **fields):
    return price_session(energy_tariff(price, **fields), session(START, Charge(60, kwh * 1000)))


def member(**plan):
    customer = CustomerFactory()
    MembershipFactory(customer=customer, plan=MembershipPlanFactory(**plan))
    return customer


def rounded(totals) -> tuple[str, str]:
    return str(totals.total.excl_vat), str(totals.total.incl_vat)


def test_member_discount_per_kwh_is_taken_before_vat():
    # 0.39 EUR/kWh x 20 kWh = 7.80 EUR + 19 % = 9.28; a member pays (0.39 - 0.20) x 20 = 3.80 + 19 % = 4.52.
    customer = member(name="Plus", discount_per_kwh=Decimal("0.20"))
    session_price = priced()

    discounts = session_discounts(customer=customer, priced=session_price, at=AT)
    totals = apply_discounts(session_price, discounts)

    assert [d.label for d in discounts] == ["Membership Plus: 0.20 EUR/kWh off on 20 kWh"]
    assert (totals.tariff_total.excl_vat, totals.tariff_total.incl_vat) == (Decimal("7.80"), Decimal("9.28"))
    assert (totals.discount.excl_vat, totals.discount.incl_vat) == (Decimal("4.00"), Decimal("4.76"))
    assert rounded(totals) == ("3.80", "4.52")
    assert totals.vat_lines == (VatLine(Decimal("19"), Decimal("3.80"), Decimal("4.522")),)


def test_member_percentage_is_taken_off_the_tariff_total():
    customer = member(
        name="Green", benefit=MembershipPlan.Benefit.PERCENT_DISCOUNT, discount_per_kwh=None,
        discount_percent=Decimal("15"),
    )  # fmt: skip

    discounts = session_discounts(customer=customer, priced=priced(), at=AT)
    totals = apply_discounts(priced(), discounts)

    assert discounts[0].label == "Membership Green: 15 % off"
    assert (discounts[0].excl_vat, discounts[0].incl_vat) == (Decimal("1.17"), Decimal("1.3923"))
    assert rounded(totals) == ("6.63", "7.89")


def test_member_with_a_tariff_benefit_gets_no_discount_on_top():
    from .factories import TariffFactory

    customer = member(benefit=MembershipPlan.Benefit.TARIFF, discount_per_kwh=None, tariff=TariffFactory())

    assert session_discounts(customer=customer, priced=priced(), at=AT) == []


def test_membership_outside_its_days_gives_nothing():
    customer = CustomerFactory()
    MembershipFactory(customer=customer, starts_on=AT.date().replace(day=2))

    assert session_discounts(customer=customer, priced=priced(), at=AT) == []


def test_discount_per_kwh_is_never_more_than_the_energy_cost():
    # 0.15 EUR/kWh x 20 kWh = 3.00 for energy, plus a 1.00 session fee; 0.20 EUR/kWh off would be 4.00.
    customer = member(name="Plus", discount_per_kwh=Decimal("0.20"))
    with_fee = tariff(element(component("ENERGY", "0.15", vat="19"), component("FLAT", "1.00", vat="19")))
    session_price = price_session(with_fee, session(START, Charge(60, 20_000)))

    discounts = session_discounts(customer=customer, priced=session_price, at=AT)
    totals = apply_discounts(session_price, discounts)

    assert discounts[0].excl_vat == Decimal("3.00")
    assert discounts[0].label.endswith("(up to the energy cost)")
    assert rounded(totals) == ("1.00", "1.19")


def test_promotion_applies_to_what_is_left_after_the_membership():
    customer = member(discount_per_kwh=Decimal("0.20"))
    PromoRedemptionFactory(customer=customer, promo_code=PromoCodeFactory(code="TENOFF", value=Decimal("10")))

    discounts = session_discounts(customer=customer, priced=priced(), at=AT)
    totals = apply_discounts(priced(), discounts)

    # 7.80 - 4.00 = 3.80; 10 % of that is 0.38 -> 3.42 excl. VAT, 3.42 x 1.19 = 4.0698
    assert [d.kind for d in discounts] == ["membership", "promotion"]
    assert discounts[1].label == "Promotion TENOFF: 10 % off"
    assert discounts[1].excl_vat == Decimal("0.38")
    assert rounded(totals) == ("3.42", "4.07")


def test_a_discount_never_makes_the_total_negative():
    customer = member(discount_per_kwh=Decimal("0.20"))
    PromoRedemptionFactory(
        customer=customer, promo_code=PromoCodeFactory(discount=PromoCode.Discount.AMOUNT, value=Decimal("5.00"))
    )

    discounts = session_discounts(customer=customer, priced=priced(), at=AT)
    totals = apply_discounts(priced(), discounts)

    assert discounts[1].excl_vat == Decimal("3.80")  # what was left, not 5.00
    assert discounts[1].label.endswith("5.00 EUR off (up to the price)")
    assert rounded(totals) == ("0.00", "0.00")
    assert all(line.excl_vat >= 0 and line.incl_vat >= 0 for line in totals.vat_lines)


def test_promotion_per_kwh():
    customer = CustomerFactory()
    code = PromoCodeFactory(code="kwh5", discount=PromoCode.Discount.PER_KWH, value=Decimal("0.05"))
    PromoRedemptionFactory(customer=customer, promo_code=code)

    discounts = session_discounts(customer=customer, priced=priced(), at=AT)

    assert discounts[0].label == "Promotion kwh5: 0.05 EUR/kWh off on 20 kWh"
    assert rounded(apply_discounts(priced(), discounts)) == ("6.80", "8.09")  # 6.80 x 1.19 = 8.092


def test_discount_is_split_over_vat_rates_by_their_share_of_the_price():
    # Energy 0.30 x 20 kWh = 6.00 at 19 %, an hour idle at 1.20 at 7 %: 7.20 excl., 7.14 + 1.284 = 8.424 incl.
    mixed = tariff(element(component("ENERGY", "0.30", vat="19"), component("PARKING_TIME", "1.20", vat="7")))
    session_price = price_session(mixed, session(START, Charge(60, 20_000), Park(60)))
    customer = CustomerFactory()
    code = PromoCodeFactory(discount=PromoCode.Discount.AMOUNT, value=Decimal("3.60"))
    PromoRedemptionFactory(customer=customer, promo_code=code)

    discount = session_discounts(customer=customer, priced=session_price, at=AT)[0]
    totals = apply_discounts(session_price, [discount])

    assert discount.vat_lines == (
        VatLine(Decimal("7"), Decimal("0.60"), Decimal("0.642")),
        VatLine(Decimal("19"), Decimal("3.00"), Decimal("3.57")),
    )
    assert totals.vat_lines == (
        VatLine(Decimal("7"), Decimal("0.60"), Decimal("0.642")),
        VatLine(Decimal("19"), Decimal("3.00"), Decimal("3.57")),
    )
    assert rounded(totals) == ("3.60", "4.21")  # 4.212


def test_member_discount_can_go_below_the_tariffs_min_price():
    # 5 kWh x 0.39 = 1.95, raised to the min_price 5.00 (5.95 incl.); the member's 1.00 off comes after it.
    customer = member(discount_per_kwh=Decimal("0.20"))
    session_price = priced(kwh=5, min_price={"excl_vat": Decimal("5.00")})

    totals = apply_discounts(session_price, session_discounts(customer=customer, priced=session_price, at=AT))

    assert (session_price.total.excl_vat, session_price.total.incl_vat) == (Decimal("5.00"), Decimal("5.95"))
    assert rounded(totals) == ("4.00", "4.76")
    assert totals.vat_lines == (VatLine(Decimal("19"), Decimal("4.00"), Decimal("4.76")),)


def test_member_discount_is_taken_from_the_price_capped_by_max_price():
    customer = member(discount_per_kwh=Decimal("0.20"))
    session_price = priced(max_price={"excl_vat": Decimal("5.00")})  # 7.80 capped at 5.00

    totals = apply_discounts(session_price, session_discounts(customer=customer, priced=session_price, at=AT))

    assert rounded(totals) == ("1.00", "1.19")


def test_total_is_rounded_once_from_the_exact_amounts():
    # 0.25 x 10 kWh = 2.50, 2.975 incl. (shown 2.98); a member's 0.50 off is 0.595 incl. Exact: 2.38 (not 2.39).
    customer = member(discount_per_kwh=Decimal("0.05"))
    session_price = priced(kwh=10, price="0.25")

    totals = apply_discounts(session_price, session_discounts(customer=customer, priced=session_price, at=AT))

    assert rounded(totals) == ("2.00", "2.38")
    assert totals.discount_shown.incl_vat == Decimal("0.60")  # 2.98 - 2.38: the lines a driver reads add up


def test_oldest_usable_redemption_is_chosen():
    customer = CustomerFactory()
    chf = PromoCodeFactory(code="CHF5", discount=PromoCode.Discount.AMOUNT, value=Decimal("5"), currency="CHF")
    expired = PromoCodeFactory(code="OLD", valid_until=local("2026-05-01 00:00"))
    inactive = PromoCodeFactory(code="OFF", is_active=False)
    for code in (chf, expired, inactive):
        PromoRedemptionFactory(customer=customer, promo_code=code, redeemed_at=local("2026-05-02 00:00"))
    newest = PromoRedemptionFactory(customer=customer, promo_code=PromoCodeFactory(code="NEW", currency="CHF"))

    discounts = session_discounts(customer=customer, priced=priced(), at=AT)

    # An amount in CHF cannot reduce a price in EUR; a percentage can, whatever currency the code names.
    assert [(d.source_id, d.label) for d in discounts] == [(newest.pk, "Promotion NEW: 10 % off")]


def test_free_session_uses_no_discount():
    customer = member()
    PromoRedemptionFactory(customer=customer)

    assert session_discounts(customer=customer, priced=priced(kwh=0), at=AT) == []
    assert session_discounts(customer=None, priced=priced(), at=AT) == []


def test_discount_json_for_the_charge_record():
    discount = Discount(
        kind="membership", label="Membership Plus: 0.20 EUR/kWh off on 20 kWh", source_id=7,
        excl_vat=Decimal("4.00"), vat_lines=(VatLine(Decimal("19"), Decimal("4.00"), Decimal("4.76")),),
        terms={"name": "Plus", "benefit": "per_kwh", "value": "0.20", "capped": False, "currency": "EUR", "kwh": "20"},
    )  # fmt: skip

    assert discount.to_json() == {
        "kind": "membership", "label": "Membership Plus: 0.20 EUR/kWh off on 20 kWh", "source_id": 7,
        "terms": {"name": "Plus", "benefit": "per_kwh", "value": "0.20", "capped": False, "currency": "EUR",
                  "kwh": "20"},
        "excl_vat": "4.00", "incl_vat": "4.76", "vat_lines": [{"rate": "19", "excl_vat": "4.00", "incl_vat": "4.76"}],
    }  # fmt: skip
