"""Promotion codes: redeeming one (case-insensitive) and every reason a code is refused."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.loyalty import promo_code_create, promo_code_redeem, promo_redemptions_open
from billing.models import PromoCode
from customers.models import Customer
from tests.factories import CustomerFactory

from .loyalty_factories import PromoCodeFactory

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2026-06-01T12:00:00+00:00")


def refusal(customer, code, at=NOW) -> str:
    with pytest.raises(ValidationError) as error:
        promo_code_redeem(customer=customer, code=code, at=at)
    return " ".join(message for messages in error.value.message_dict.values() for message in messages)


def test_code_is_redeemed_whatever_its_case_and_waits_for_the_next_session():
    customer = CustomerFactory()
    code = PromoCodeFactory(code="Summer26")

    redemption = promo_code_redeem(customer=customer, code="  sUMMER26 ", at=NOW)

    assert (redemption.promo_code, redemption.customer, redemption.redeemed_at) == (code, customer, NOW)
    assert list(promo_redemptions_open(customer=customer)) == [redemption]


def test_unknown_and_inactive_codes_are_refused():
    PromoCodeFactory(code="PAUSED", is_active=False)

    assert refusal(CustomerFactory(), "NOSUCH") == "There is no promotion code NOSUCH."
    assert refusal(CustomerFactory(), "paused") == "The promotion code PAUSED is no longer active."


def test_codes_are_refused_before_and_after_their_validity():
    PromoCodeFactory(
        code="JUNE", valid_from=datetime.fromisoformat("2026-06-01T00:00:00+00:00"),
        valid_until=datetime.fromisoformat("2026-07-01T00:00:00+00:00"),
    )  # fmt: skip

    early = refusal(CustomerFactory(), "JUNE", at=datetime.fromisoformat("2026-05-31T23:59:00+00:00"))
    late = refusal(CustomerFactory(), "JUNE", at=datetime.fromisoformat("2026-07-01T00:00:00+00:00"))

    assert early == "The promotion code JUNE is valid from 2026-06-01 00:00 UTC."
    assert late == "The promotion code JUNE expired on 2026-07-01 00:00 UTC."


def test_total_limit_is_kept():
    PromoCodeFactory(code="FIRST2", max_redemptions=2)
    promo_code_redeem(customer=CustomerFactory(), code="FIRST2", at=NOW)
    promo_code_redeem(customer=CustomerFactory(), code="FIRST2", at=NOW)

    assert refusal(CustomerFactory(), "FIRST2") == (
        "The promotion code FIRST2 has been redeemed the most times allowed (2)."
    )


def test_per_customer_limit_is_kept():
    customer = CustomerFactory()
    PromoCodeFactory(code="ONCE")
    PromoCodeFactory(code="TWICE", max_redemptions_per_customer=2)
    promo_code_redeem(customer=customer, code="ONCE", at=NOW)
    promo_code_redeem(customer=customer, code="TWICE", at=NOW)
    promo_code_redeem(customer=customer, code="TWICE", at=NOW)

    assert "already been redeemed by this customer (at most once per customer)" in refusal(customer, "ONCE")
    assert "(at most 2 times per customer)" in refusal(customer, "TWICE")
    promo_code_redeem(customer=CustomerFactory(), code="ONCE", at=NOW)  # another customer still may


def test_amount_codes_must_be_in_the_customers_currency():
    PromoCodeFactory(code="FIVECHF", discount=PromoCode.Discount.AMOUNT, value=Decimal("5"), currency="CHF")
    PromoCodeFactory(code="TENPCT", currency="CHF")

    assert refusal(CustomerFactory(currency="EUR"), "FIVECHF") == (
        "The promotion code FIVECHF gives CHF; the customer pays in EUR."
    )
    promo_code_redeem(customer=CustomerFactory(currency="EUR"), code="TENPCT", at=NOW)


def test_closed_customer_cannot_redeem():
    PromoCodeFactory(code="HELLO")

    assert refusal(CustomerFactory(status=Customer.Status.CLOSED), "HELLO") == "The customer's account is closed."


def test_codes_are_unique_whatever_their_case():
    PromoCodeFactory(code="SUMMER26")

    with pytest.raises(ValidationError) as error:
        promo_code_create(code="summer26", discount=PromoCode.Discount.PERCENT, value=Decimal("10"))

    assert error.value.message_dict == {"code": ["The promotion code summer26 exists already (in any case)."]}


def test_percent_codes_are_at_most_100():
    with pytest.raises(ValidationError):
        promo_code_create(code="FREE", discount=PromoCode.Discount.PERCENT, value=Decimal("150"))
    assert promo_code_create(code=" ALL ", discount=PromoCode.Discount.PERCENT, value=Decimal("100")).code == "ALL"
