"""Tariffs as operators edit them (OCPI 2.2.1 Tariff, one row per tariff element) and where they apply.

A tariff row turns into the pricing engine's `billing.pricing.Tariff` with `billing.tariffs.tariff_to_pricing()`;
the engine validates it there, so the rules live in one place. A tariff element holds at most one price
component per dimension (the OCPI rule the engine also enforces), so each dimension is a group of columns.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import CurrencyField

from billing.pricing import ReservationRestriction, TariffType

PRICE = {"max_digits": 12, "decimal_places": 4}
OPTIONAL_PRICE = {"null": True, "blank": True, "validators": [MinValueValidator(0)], **PRICE}
VAT = {"max_digits": 7, "decimal_places": 4, "validators": [MinValueValidator(0), MaxValueValidator(100)]}
NON_NEGATIVE = [MinValueValidator(0)]


def own_country_code() -> str:
    return settings.OCPI_COUNTRY_CODE


def own_party_id() -> str:
    return settings.OCPI_PARTY_ID


def new_ocpi_id() -> str:
    return uuid.uuid4().hex[:12].upper()


class Tariff(models.Model):
    """An OCPI 2.2.1 Tariff: currency, limits, validity, texts, and its ordered elements."""

    country_code = models.CharField(
        max_length=2, default=own_country_code, validators=[RegexValidator(r"^[A-Z]{2}$")],
        help_text=_("OCPI country code of the operator (ISO 3166-1 alpha-2)."),
    )
    party_id = models.CharField(
        max_length=3, default=own_party_id, validators=[RegexValidator(r"^[A-Z0-9]{3}$")],
        help_text=_("OCPI party id of the operator."),
    )
    ocpi_id = models.CharField(
        _("OCPI id"), max_length=36, default=new_ocpi_id, validators=[RegexValidator(r"^[A-Za-z0-9._-]{1,36}$")],
        help_text=_("The tariff's id towards roaming partners, unique per country code and party."),
    )
    name = models.CharField(max_length=100, help_text=_("Internal name, e.g. 'AC public 2026'."))
    currency = CurrencyField(default="EUR")
    type = models.CharField(
        max_length=20, blank=True, choices=[(t.value, t.value.replace("_", " ").title()) for t in TariffType],
        help_text=_("OCPI tariff type; empty for a tariff that applies to everyone."),
    )
    alt_text = models.JSONField(
        _("alternative texts"), default=list, blank=True,
        help_text=_('OCPI tariff_alt_text: [{"language": "en", "text": "..."}] shown instead of the summary.'),
    )
    alt_url = models.URLField(_("alternative URL"), blank=True)
    min_price_excl_vat = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    min_price_incl_vat = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    max_price_excl_vat = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    max_price_incl_vat = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    start_date_time = models.DateTimeField(null=True, blank=True, help_text=_("In force from (inclusive)."))
    end_date_time = models.DateTimeField(null=True, blank=True, help_text=_("In force until (exclusive)."))
    energy_mix = models.JSONField(null=True, blank=True, help_text=_("OCPI EnergyMix, passed on as is."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["country_code", "party_id", "ocpi_id"], name="tariff_ocpi_id_unique"),
            models.CheckConstraint(
                condition=Q(end_date_time__isnull=True) | Q(start_date_time__isnull=True)
                | Q(end_date_time__gt=models.F("start_date_time")),
                name="tariff_validity_order",
            ),
            models.CheckConstraint(
                condition=Q(min_price_excl_vat__isnull=True) | Q(max_price_excl_vat__isnull=True)
                | Q(max_price_excl_vat__gte=models.F("min_price_excl_vat")),
                name="tariff_limits_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class TariffElement(models.Model):
    """One OCPI TariffElement: up to one price component per dimension, and the restrictions that switch
    the element on. Elements are evaluated in `position` order; the first that matches prices a dimension."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="elements")
    position = models.PositiveSmallIntegerField(default=0)

    # ENERGY: per kWh, step in Wh; optionally following a price feed (feed price + margin, clamped).
    energy_price = models.DecimalField(_("price per kWh"), null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    energy_vat = models.DecimalField(_("VAT % (energy)"), null=True, blank=True, **VAT)
    energy_step_wh = models.PositiveIntegerField(_("energy step (Wh)"), default=0)
    energy_feed = models.ForeignKey(
        "billing.PriceFeed", null=True, blank=True, on_delete=models.PROTECT, related_name="tariff_elements",
        help_text=_("Dynamic price: the energy price follows this feed (plus the margin, within min/max)."),
    )
    energy_feed_margin = models.DecimalField(_("margin on the feed price"), null=True, blank=True, **PRICE)
    energy_feed_min_price = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    energy_feed_max_price = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    # TIME: per hour of charging, step in seconds.
    time_price = models.DecimalField(_("price per hour charging"), **OPTIONAL_PRICE)
    time_vat = models.DecimalField(_("VAT % (time)"), null=True, blank=True, **VAT)
    time_step_s = models.PositiveIntegerField(_("time step (s)"), default=0)
    # PARKING_TIME: per hour connected without charging, step in seconds.
    parking_price = models.DecimalField(_("price per hour idle"), **OPTIONAL_PRICE)
    parking_vat = models.DecimalField(_("VAT % (idle)"), null=True, blank=True, **VAT)
    parking_step_s = models.PositiveIntegerField(_("idle step (s)"), default=0)
    # FLAT: once per session.
    flat_price = models.DecimalField(_("price per session"), null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    flat_vat = models.DecimalField(_("VAT % (session fee)"), null=True, blank=True, **VAT)
    # A session fee is never rounded, but OCPI requires a step_size on every component and partners send one
    # (the spec's own examples use 1); kept so that a tariff exports as it was imported.
    flat_step = models.PositiveIntegerField(_("session fee step (OCPI)"), default=0)

    # Restrictions (OCPI TariffRestrictions); times and dates are the location's local clock and calendar.
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True, help_text=_("Exclusive; before the start wraps past midnight."))
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True, help_text=_("Exclusive."))
    min_kwh = models.DecimalField(_("min kWh"), null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    max_kwh = models.DecimalField(_("max kWh"), null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    min_current_a = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    max_current_a = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    min_power_kw = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    max_power_kw = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **PRICE)
    min_duration_s = models.PositiveIntegerField(null=True, blank=True)
    max_duration_s = models.PositiveIntegerField(null=True, blank=True)
    days_of_week = models.JSONField(
        default=list, blank=True, help_text=_("Days the element applies on (MONDAY ... SUNDAY); empty: every day."),
    )
    reservation = models.CharField(
        max_length=20, blank=True,
        choices=[(r.value, r.value.replace("_", " ").title()) for r in ReservationRestriction],
    )

    class Meta:
        ordering = ["tariff", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(energy_price__isnull=False) | Q(time_price__isnull=False)
                | Q(parking_price__isnull=False) | Q(flat_price__isnull=False),
                name="tariffelement_has_component",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff} element {self.position}"


class TariffAssignment(models.Model):
    """Which tariff applies where (the whole network, a location, a charge point or a connector), for whom
    (everyone or one customer group) and when. The selection rule is in `billing.tariffs`."""

    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="assignments")
    location = models.ForeignKey(
        "stations.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="tariff_assignments"
    )
    charge_point = models.ForeignKey(
        "stations.ChargePoint", null=True, blank=True, on_delete=models.CASCADE, related_name="tariff_assignments"
    )
    connector = models.ForeignKey(
        "stations.Connector", null=True, blank=True, on_delete=models.CASCADE, related_name="tariff_assignments"
    )
    customer_group = models.ForeignKey(
        "customers.CustomerGroup", null=True, blank=True, on_delete=models.CASCADE,
        related_name="tariff_assignments", help_text=_("Empty: the tariff for everyone without a group tariff."),
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True, help_text=_("Exclusive; empty: open-ended."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(location__isnull=False, charge_point__isnull=False)
                & ~Q(location__isnull=False, connector__isnull=False)
                & ~Q(charge_point__isnull=False, connector__isnull=False),
                name="tariffassignment_one_scope",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="tariffassignment_validity_order",
            ),
        ]
        indexes = [models.Index(fields=["valid_from", "valid_until"], name="tariffassignment_validity_idx")]

    def __str__(self) -> str:
        return f"{self.tariff.name} at {self.scope_label}"

    @property
    def scope_label(self) -> str:
        if self.connector_id:
            return f"connector {self.connector}"
        if self.charge_point_id:
            return f"charge point {self.charge_point}"
        if self.location_id:
            return f"location {self.location}"
        return str(_("the whole network"))
