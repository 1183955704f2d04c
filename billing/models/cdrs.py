"""Charge detail records: the immutable, priced record of one charging session (OCPI 2.2.1 CDR).

A record is written once and never changed. A correction is a credit record (the negated amounts of the
record it cancels, referencing it) followed by a new charge record that `replaces` it. Amounts are exact to
the currency's minor unit (rounded once by the pricing engine); credit records hold negative amounts so
that summing a customer's records gives what they owe.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import CurrencyField
from djmoney.money import Money

AMOUNT = {"max_digits": 14, "decimal_places": 4}


class ChargeDetailRecord(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        CREDIT = "credit", _("Credit")

    ocpi_id = models.CharField(_("CDR id"), max_length=39, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CHARGE)
    session = models.ForeignKey("stations.ChargingSession", on_delete=models.PROTECT, related_name="cdrs")
    credited_record = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credits",
        help_text=_("For a credit record: the charge record it cancels."),
    )
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replacements",
        help_text=_("For a corrected charge record: the (credited) record it replaces."),
    )
    reason = models.TextField(blank=True, help_text=_("Why a credit or correction was made."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Who made a credit or correction; empty for records rated automatically."),
    )

    # Who and where, as they were when the session was priced.
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="cdrs"
    )
    id_token = models.ForeignKey(
        "customers.IdToken", null=True, blank=True, on_delete=models.PROTECT, related_name="cdrs"
    )
    token_uid = models.CharField(max_length=36)
    contract_id = models.CharField(max_length=36, blank=True)
    location = models.ForeignKey(
        "stations.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="cdrs"
    )
    location_snapshot = models.JSONField(help_text=_("OCPI CdrLocation at the time of the session."))
    charge_point_identity = models.CharField(max_length=48)
    transaction_id = models.CharField(max_length=36)

    # What it cost and why.
    tariff = models.ForeignKey(
        "billing.Tariff", null=True, blank=True, on_delete=models.SET_NULL, related_name="cdrs"
    )
    tariff_snapshot = models.JSONField(help_text=_("The OCPI tariff the session was priced with."))
    currency = CurrencyField()
    start_date_time = models.DateTimeField()
    end_date_time = models.DateTimeField()
    total_energy_wh = models.BigIntegerField()
    total_time_s = models.PositiveIntegerField(help_text=_("Charging time."))
    total_parking_time_s = models.PositiveIntegerField(help_text=_("Connected without charging."))
    charging_periods = models.JSONField(help_text=_("OCPI CdrDimension periods."))
    tariff_cost_excl_vat = models.DecimalField(**AMOUNT, help_text=_("Before discounts."))
    tariff_cost_incl_vat = models.DecimalField(**AMOUNT)
    discount_excl_vat = models.DecimalField(**AMOUNT, default=0)
    discount_incl_vat = models.DecimalField(**AMOUNT, default=0)
    total_cost_excl_vat = models.DecimalField(**AMOUNT)
    total_cost_incl_vat = models.DecimalField(**AMOUNT)
    cost_breakdown = models.JSONField(
        default=dict, help_text=_("Cost per dimension (energy, time, parking, fixed), excl. and incl. VAT."),
    )
    vat_breakdown = models.JSONField(default=list, help_text=_("Per VAT rate: rate, excl. VAT, VAT, incl. VAT."))
    discounts = models.JSONField(default=list, help_text=_("Memberships and promotions applied after the tariff."))
    explanation = models.JSONField(default=list, help_text=_("Why it costs what it costs, line by line."))
    driver_explanation = models.JSONField(
        default=list, blank=True,
        help_text=_("The same for the driver: the prices they pay, incl. VAT. Empty for records rated before it."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-start_date_time", "-id"]
        verbose_name = _("charge detail record")
        indexes = [
            models.Index(fields=["customer", "-start_date_time"], name="cdr_customer_start_idx"),
            models.Index(fields=["charge_point_identity", "transaction_id"], name="cdr_station_transaction_idx"),
            models.Index(fields=["-start_date_time"], name="cdr_start_idx"),
        ]
        constraints = [
            # One original record per session: rating twice is impossible, not just unlikely.
            models.UniqueConstraint(
                fields=["session"], condition=Q(kind="charge", replaces__isnull=True),
                name="cdr_one_original_per_session",
            ),
            models.UniqueConstraint(fields=["credited_record"], name="cdr_one_credit_per_record"),
            models.UniqueConstraint(fields=["replaces"], name="cdr_one_replacement_per_record"),
            models.CheckConstraint(
                condition=Q(kind="charge", credited_record__isnull=True)
                | Q(kind="credit", credited_record__isnull=False, replaces__isnull=True),
                name="cdr_kind_references",
            ),
            models.CheckConstraint(
                condition=Q(end_date_time__gte=models.F("start_date_time")), name="cdr_time_order"
            ),
            models.CheckConstraint(
                condition=Q(kind="credit")
                | Q(total_cost_incl_vat__gte=models.F("total_cost_excl_vat"), total_cost_excl_vat__gte=0),
                name="cdr_charge_amounts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ocpi_id}: {self.total_cost_incl}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("A charge detail record is never changed; issue a credit record instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A charge detail record is never deleted; issue a credit record instead."))

    @property
    def total_cost_incl(self) -> Money:
        return Money(self.total_cost_incl_vat, self.currency)

    @property
    def total_cost_excl(self) -> Money:
        return Money(self.total_cost_excl_vat, self.currency)

