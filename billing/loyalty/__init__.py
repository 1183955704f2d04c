"""Loyalty: memberships, the points ledger and promotion codes, and the discounts they give a priced session.

The rating service prices a session with the tariff (`billing.pricing`), then asks this package:

    tariff = membership_tariff(customer=c, at=start) or the charger's tariff   # before pricing
    discounts = session_discounts(customer=c, priced=priced, at=start)        # pure read
    totals = apply_discounts(priced, discounts)                               # what the CDR shows
    ... create the ChargeDetailRecord ...
    loyalty_record_cdr(cdr=cdr, discounts=discounts)                          # same transaction

Rules (where the issue leaves a choice)
---------------------------------------
1. Order. The tariff (with its min/max price) gives the tariff price; discounts come after it. So a
   member's discount can take a session below the tariff's min_price (the minimum bounds what the tariff
   charges, not what a member pays), and a session capped by max_price is discounted from the capped price.
   The membership benefit is applied first, then one promotion on what is left; no discount makes a total
   negative. A per-kWh discount (membership or promotion) is never more than what the energy cost.
2. VAT. A discount reduces the taxable amount, so VAT is charged on the discounted price. A discount is split
   over the VAT rates in proportion to each rate's share of the tariff price excl. VAT, and it takes the same
   share of that rate's amount incl. VAT (so each line keeps its rate). For a session capped by min/max
   price, the rates' shares are those of the components, scaled to the capped total.
3. Rounding. Amounts stay exact; `apply_discounts` rounds the totals excl. and incl. VAT once, with
   `quantize_price`, from the exact tariff price minus the exact discounts.
4. Dates. Memberships run from a day to a day; a session belongs to the day (UTC, the settings' TIME_ZONE)
   on which it starts. Fees are pro-rated per calendar month by days: see `membership_fee`.
5. Promotions. A redeemed code waits for the customer's next session: the oldest unused redemption whose
   code is still active and valid when the session starts, and, for amount and per-kWh codes, in the
   session's currency (a percentage applies in any currency). A session that a code would not reduce
   (it cost nothing) leaves the redemption for the next one.
6. Points are a ledger (earn, redeem, expire, adjust); the balance is their sum. Points earned per kWh are
   the plan's rate plus every campaign running when the session starts, floored to whole points. Redemptions
   (and staff removals) use the points that lapse first, which for a fixed validity are the oldest earned:
   first in, first out; so what lapses is what was earned by then minus everything used or lapsed before.
   A redemption's credit waits for the next invoice (`points_credits_open`), whose line consumes it.
"""

# Celery's autodiscovery looks for `billing.tasks`; importing the task here registers `billing.expire_points`
# wherever loyalty is loaded (the admin loads it in every process).
from . import tasks  # noqa: F401
from .cdrs import loyalty_record_cdr, loyalty_record_credit, points_earn_rate
from .discounts import Discount, DiscountedTotals, apply_discounts, discount_words, session_discounts
from .memberships import (
    membership_check_end,
    membership_check_start,
    membership_end,
    membership_fee,
    membership_on,
    membership_start,
    membership_tariff,
)
from .points import (
    points_adjust,
    points_balance,
    points_check_adjust,
    points_credits_open,
    points_expire,
    points_redeem,
)
from .promotions import promo_code_create, promo_code_redeem, promo_code_update, promo_redemptions_open

__all__ = [
    "Discount", "DiscountedTotals", "apply_discounts", "discount_words", "loyalty_record_cdr", "loyalty_record_credit",
    "membership_check_end",
    "membership_check_start", "membership_end", "membership_fee", "membership_on", "membership_start",
    "membership_tariff", "points_adjust", "points_balance", "points_check_adjust", "points_credits_open",
    "points_earn_rate", "points_expire", "points_redeem", "promo_code_create", "promo_code_redeem",
    "promo_code_update", "promo_redemptions_open", "session_discounts",
]  # fmt: skip
