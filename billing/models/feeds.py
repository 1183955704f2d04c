"""Price feeds for dynamic tariffs: a named time series of energy prices (e.g. day-ahead market prices per
15 minutes or per hour) that operators import from CSV or through the API."""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import CurrencyField


class PriceFeed(models.Model):
    code = models.SlugField(
        max_length=40, unique=True, validators=[RegexValidator(r"^[a-z0-9-]+$")],
        help_text=_("Short name tariffs refer to, e.g. 'epex-de-lu'."),
    )
    name = models.CharField(max_length=100)
    currency = CurrencyField(default="EUR")
    interval_s = models.PositiveIntegerField(
        _("interval (s)"), default=900, validators=[MinValueValidator(60)],
        help_text=_("Length of one price interval: 900 for quarter hours, 3600 for hours."),
    )
    description = models.TextField(blank=True, help_text=_("Where the prices come from."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PriceFeedValue(models.Model):
    """The energy price of one feed interval, per kWh excl. VAT in the feed's currency. Negative market
    prices are stored as they are; tariffs never pay them out."""

    feed = models.ForeignKey(PriceFeed, on_delete=models.CASCADE, related_name="values")
    starts_at = models.DateTimeField()
    price_per_kwh = models.DecimalField(max_digits=12, decimal_places=6)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["feed", "starts_at"]
        constraints = [models.UniqueConstraint(fields=["feed", "starts_at"], name="pricefeedvalue_one_per_interval")]

    def __str__(self) -> str:
        return f"{self.feed.code} {self.starts_at:%Y-%m-%d %H:%M}: {self.price_per_kwh}"
