"""Invoices and credit notes: what accountants trust. Numbers are gapless per series (a counter row locked in
the issuing transaction); an issued document never changes (enforced here and, on PostgreSQL, by triggers in
the migration); corrections are credit notes referencing the invoice.

The operator's legal details (`OperatorProfile`, one row, editable in the admin) and the customer's are
copied into each document when it is issued, so later edits never change an issued invoice.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from djmoney.models.fields import CurrencyField
from djmoney.money import Money

AMOUNT = {"max_digits": 14, "decimal_places": 4}
TOTAL = {"max_digits": 14, "decimal_places": 2}
# Line amounts keep the charge records' exact per-rate amounts (a millionth), so summing many lines per VAT rate
# and rounding once is exact to the cent.
EXACT = {"max_digits": 18, "decimal_places": 6}


class OperatorProfile(models.Model):
    """The operator as the supplier on every invoice (EU VAT Directive 2006/112/EC, art. 226). One row."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    legal_name = models.CharField(max_length=200)
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address (cont.)"), max_length=200, blank=True)
    postal_code = models.CharField(max_length=16)
    city = models.CharField(max_length=100)
    country = CountryField()
    vat_id = models.CharField(_("VAT id"), max_length=15, validators=[RegexValidator(r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$")])
    tax_number = models.CharField(_("tax number"), max_length=32, blank=True)
    registration = models.CharField(
        _("company registration"), max_length=100, blank=True, help_text=_("e.g. 'Amtsgericht Berlin HRB 123456 B'.")
    )
    managing_directors = models.CharField(max_length=200, blank=True)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    website = models.URLField(blank=True)
    bank_name = models.CharField(max_length=100, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(default=14, validators=[MinValueValidator(0)])
    review_drafts = models.BooleanField(
        default=False, help_text=_("Period closes create drafts that staff review and issue, instead of issuing."),
    )
    invoice_footer = models.TextField(blank=True, help_text=_("Printed at the bottom of every invoice."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("operator profile")

    def __str__(self) -> str:
        return self.legal_name


class BillingProfile(models.Model):
    """How one customer is invoiced, where it differs from the default (monthly, PDF; e-invoice for companies)."""

    class Interval(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="billing_profile")
    interval = models.CharField(max_length=16, choices=Interval.choices, default=Interval.MONTHLY)
    einvoice = models.BooleanField(
        _("e-invoice"), null=True, blank=True,
        help_text=_("Factur-X (EN 16931) PDF/A-3. Empty: yes for companies, no for private persons."),
    )
    purchase_order = models.CharField(max_length=64, blank=True, help_text=_("Buyer reference printed on invoices."))

    def __str__(self) -> str:
        return f"{self.customer} ({self.get_interval_display()})"


class NumberSeries(models.Model):
    """A gapless counter: one row per prefix and year, locked (select_for_update) by the transaction that takes
    the next number, so concurrent issuers wait for each other and a rolled-back issue gives its number back."""

    prefix = models.CharField(max_length=8, validators=[RegexValidator(r"^[A-Z]{2,8}$")])
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = _("number series")
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="numberseries_prefix_year_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"


class Invoice(models.Model):
    """An invoice or a credit note (kind), in one currency, for one customer and supply period."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=32, null=True, blank=True, unique=True, help_text=_("Set when issued."))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="invoices")
    currency = CurrencyField()
    period_start = models.DateField(help_text=_("First day of the supply period."))
    period_end = models.DateField(help_text=_("Day after the supply period (exclusive)."))
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes",
        help_text=_("For a credit note: the invoice it corrects."),
    )
    reason = models.TextField(blank=True, help_text=_("For a credit note: why."))
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    supplier = models.JSONField(default=dict, blank=True, help_text=_("The operator's details when issued."))
    buyer = models.JSONField(default=dict, blank=True, help_text=_("The customer's details when issued."))
    total_excl_vat = models.DecimalField(**TOTAL, default=0)
    total_vat = models.DecimalField(**TOTAL, default=0)
    total_incl_vat = models.DecimalField(**TOTAL, default=0)
    vat_breakdown = models.JSONField(
        default=list, blank=True,
        help_text=_("Per VAT category and rate: taxable amount, VAT, and the exemption or reverse-charge mention."),
    )
    notes = models.TextField(blank=True, help_text=_("Mentions printed on the document (e.g. reverse charge)."))
    einvoice = models.BooleanField(default=False, help_text=_("Rendered as Factur-X (EN 16931) PDF/A-3."))
    # The rendered document, written once by the rendering task after issue.
    pdf = models.FileField(upload_to="invoices/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    pdf_attempts = models.PositiveSmallIntegerField(default=0)
    pdf_error = models.TextField(blank=True, help_text=_("Why rendering failed; staff retry from the admin."))
    paid_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(
        _("e-mailed"), null=True, blank=True, help_text=_("When the document was last e-mailed to the customer."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issue_date", "-number", "-id"]
        indexes = [
            models.Index(fields=["customer", "-period_start"], name="invoice_customer_period_idx"),
            models.Index(fields=["status", "issue_date"], name="invoice_status_issued_idx"),
        ]
        constraints = [
            # Idempotent period closes: one invoice per customer, period and currency.
            models.UniqueConstraint(
                fields=["customer", "period_start", "period_end", "currency"], condition=Q(kind="invoice"),
                name="invoice_one_per_customer_period",
            ),
            models.CheckConstraint(condition=Q(period_end__gt=models.F("period_start")), name="invoice_period_order"),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_kind_references",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True)
                | Q(status="issued", number__isnull=False, issue_date__isnull=False),
                name="invoice_issued_has_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number or _('(draft)')}"

    # Once issued, only the rendered PDF (written once), the payment state and when it was e-mailed may be set.
    MUTABLE_WHEN_ISSUED = frozenset(
        {"pdf", "pdf_sha256", "pdf_rendered_at", "pdf_attempts", "pdf_error", "paid_at", "emailed_at"}
    )

    def save(self, *args, **kwargs):
        if self.pk is not None and self.is_issued:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.MUTABLE_WHEN_ISSUED:
                stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
                if stored == self.Status.ISSUED:
                    raise ValidationError(_("An issued invoice never changes; issue a credit note instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_issued:
            raise ValidationError(_("An issued invoice is never deleted; issue a credit note instead."))
        return super().delete(*args, **kwargs)

    @property
    def total(self) -> Money:
        return Money(self.total_incl_vat, self.currency)

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED


class InvoiceLine(models.Model):
    """One line: a charging session (its charge record), a membership fee, a points credit, a credit note's
    correction of a line. Amounts excl. VAT, exact (6 decimals); the invoice rounds per VAT rate once."""

    class Kind(models.TextChoices):
        CHARGING = "charging", _("Charging session")
        MEMBERSHIP_FEE = "membership_fee", _("Membership fee")
        POINTS_CREDIT = "points_credit", _("Loyalty points credit")
        CORRECTION = "correction", _("Correction")

    class VatCategory(models.TextChoices):
        # EN 16931 / UNTDID 5305 codes used on invoices and in Factur-X.
        STANDARD = "S", _("Standard rate")
        ZERO = "Z", _("Zero rated")
        EXEMPT = "E", _("Exempt")
        REVERSE_CHARGE = "AE", _("Reverse charge")
        OUT_OF_SCOPE = "O", _("Not subject to VAT")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=300)
    service_start = models.DateTimeField(null=True, blank=True)
    service_end = models.DateTimeField(null=True, blank=True)
    cdr = models.ForeignKey(
        "billing.ChargeDetailRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    membership = models.ForeignKey(
        "billing.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    points_entry = models.OneToOneField(
        "billing.PointsEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_line"
    )
    credited_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections",
        help_text=_("For a credit note line: the invoice line it corrects."),
    )
    driver_label = models.CharField(
        _("driver"), max_length=150, blank=True,
        help_text=_("Company invoices: the driver of a charging line's token, e.g. 'Mehmet Yilmaz (EVB-300102)'."),
    )
    energy_wh = models.BigIntegerField(null=True, blank=True)
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=1)
    unit = models.CharField(max_length=16, default="session", help_text=_("session, kWh, month, point ..."))
    unit_price_excl_vat = models.DecimalField(**EXACT)
    discount_excl_vat = models.DecimalField(**EXACT, default=0)
    net_amount = models.DecimalField(**EXACT, help_text=_("quantity x unit price - discount, excl. VAT."))
    vat_category = models.CharField(max_length=2, choices=VatCategory.choices, default=VatCategory.STANDARD)
    vat_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoiceline_position_unique"),
            # A charge record is invoiced at most once (credit notes correct lines, not records). A record has
            # one line per VAT rate, always written together, so two invoices taking it collide on its rates.
            models.UniqueConstraint(
                fields=["cdr", "vat_rate"], condition=Q(cdr__isnull=False, credited_line__isnull=True),
                name="invoiceline_cdr_invoiced_once",
            ),
            models.UniqueConstraint(
                fields=["membership", "service_start"], condition=Q(kind="membership_fee", credited_line__isnull=True),
                name="invoiceline_membership_fee_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} line {self.position}: {self.description}"

    def save(self, *args, **kwargs):
        if Invoice.objects.filter(pk=self.invoice_id, status=Invoice.Status.ISSUED).exists():
            raise ValidationError(_("The lines of an issued invoice never change."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if Invoice.objects.filter(pk=self.invoice_id, status=Invoice.Status.ISSUED).exists():
            raise ValidationError(_("The lines of an issued invoice never change."))
        return super().delete(*args, **kwargs)
