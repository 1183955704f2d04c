"""Loyalty: membership plans and memberships, the points ledger and its campaigns, promotion codes.

Benefits are applied by the rating layer after the tariff (see `billing.loyalty`); this module holds the
data and the invariants the database can keep.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

PRICE = {"max_digits": 12, "decimal_places": 4}


class MembershipPlan(models.Model):
    """A subscription: a monthly fee (pro-rated for partial months) for one benefit on every session."""

    class Benefit(models.TextChoices):
        KWH_DISCOUNT = "kwh_discount", _("Discount per kWh")
        PERCENT_DISCOUNT = "percent_discount", _("Percentage off")
        TARIFF = "tariff", _("A different tariff")

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    monthly_fee = MoneyField(max_digits=12, decimal_places=2, default_currency="EUR", validators=[MinValueValidator(0)])
    benefit = models.CharField(max_length=20, choices=Benefit.choices)
    discount_per_kwh = models.DecimalField(
        null=True, blank=True, validators=[MinValueValidator(0)], help_text=_("Excl. VAT, in the plan's currency."),
        **PRICE,
    )
    discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    tariff = models.ForeignKey(
        "billing.Tariff", null=True, blank=True, on_delete=models.PROTECT, related_name="membership_plans",
        help_text=_("Members are priced with this tariff instead of the one assigned to the charger."),
    )
    points_per_kwh = models.DecimalField(
        max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)],
        help_text=_("Loyalty points members earn per kWh."),
    )
    is_active = models.BooleanField(default=True, help_text=_("Inactive plans take no new members."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(benefit="kwh_discount", discount_per_kwh__isnull=False)
                | Q(benefit="percent_discount", discount_percent__isnull=False)
                | Q(benefit="tariff", tariff__isnull=False),
                name="membershipplan_benefit_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A customer's membership of a plan from one day to another (inclusive start, exclusive end)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="memberships")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="memberships")
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True, help_text=_("Exclusive; empty: until cancelled."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")), name="membership_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.plan}"


class PointsCampaign(models.Model):
    """Points for everyone who charges during the campaign, on top of any plan's points."""

    name = models.CharField(max_length=100)
    points_per_kwh = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="pointscampaign_period_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PointsEntry(models.Model):
    """One movement of a customer's points: earned on a charge record, redeemed as a credit, expired.
    The balance is the sum of the entries; there is no counter to drift."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        ADJUST = "adjust", _("Adjusted by staff")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="points_entries")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    points = models.IntegerField(help_text=_("Positive when earned, negative when redeemed or expired."))
    cdr = models.ForeignKey(
        "billing.ChargeDetailRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="points_entries"
    )
    credit_amount = MoneyField(
        max_digits=12, decimal_places=2, null=True, blank=True, default_currency=None,
        help_text=_("For a redemption: the credit it gives on the next invoice."),
    )
    expires_on = models.DateField(null=True, blank=True, help_text=_("For earned points: when they lapse."))
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("points entries")
        indexes = [models.Index(fields=["customer", "created_at"], name="pointsentry_customer_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="earn", points__gt=0) | Q(kind__in=["redeem", "expire"], points__lt=0)
                | Q(kind="adjust") & ~Q(points=0),
                name="pointsentry_sign_matches_kind",
            ),
            models.UniqueConstraint(fields=["cdr"], condition=Q(kind="earn"), name="pointsentry_earn_once_per_cdr"),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} points ({self.get_kind_display()})"


class PromoCode(models.Model):
    """A code a customer redeems for a discount on their next session(s)."""

    class Discount(models.TextChoices):
        PERCENT = "percent", _("Percentage off the session")
        AMOUNT = "amount", _("Amount off the session")
        PER_KWH = "per_kwh", _("Discount per kWh")

    code = models.CharField(max_length=32, help_text=_("Case-insensitive, e.g. SUMMER26."))
    description = models.CharField(max_length=200, blank=True)
    discount = models.CharField(max_length=8, choices=Discount.choices)
    value = models.DecimalField(
        validators=[MinValueValidator(0)], help_text=_("Percent, or an amount excl. VAT in the currency."), **PRICE
    )
    currency = models.CharField(max_length=3, default="EUR")
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True, help_text=_("In total; empty: unlimited."))
    max_redemptions_per_customer = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="promocode_code_unique_ci"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="promocode_period_order",
            ),
            models.CheckConstraint(
                condition=~Q(discount="percent") | Q(value__lte=100), name="promocode_percent_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PromoRedemption(models.Model):
    """A customer's claim of a promotion code; the next charge record uses it up (`cdr` set)."""

    promo_code = models.ForeignKey(PromoCode, on_delete=models.PROTECT, related_name="redemptions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="promo_redemptions")
    redeemed_at = models.DateTimeField(default=timezone.now)
    cdr = models.OneToOneField(
        "billing.ChargeDetailRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="promo_redemption"
    )

    class Meta:
        ordering = ["-redeemed_at"]

    def __str__(self) -> str:
        return f"{self.promo_code} by {self.customer}"
