"""Payments: how a customer pays (card/wallet through a provider, prepaid balance, or bank transfer), the
methods they saved, every request that moves money (with an idempotency key derived from our own ids), the
provider's webhook events (processed once), the prepaid ledger (append-only; the balance is its sum) and the
dunning state of invoices whose collection failed.

The database holds the rules that keep money from moving twice: one live or successful collection per
invoice, one refund per credit note, one prepaid debit per invoice, one processed event per provider id.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

MONEY = {"max_digits": 14, "decimal_places": 2, "default_currency": "EUR"}


class PaymentAccount(models.Model):
    """The customer at the payment provider, and how their invoices are settled."""

    class Collection(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer (manual)")
        CARD = "card", _("Saved card or wallet, charged per invoice")
        PREPAID = "prepaid", _("Prepaid balance")

    customer = models.OneToOneField("customers.Customer", on_delete=models.PROTECT, related_name="payment_account")
    collection = models.CharField(max_length=16, choices=Collection.choices, default=Collection.BANK_TRANSFER)
    provider = models.CharField(max_length=16, default="stripe")
    provider_customer_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(collection__in=["bank_transfer", "card", "prepaid"]), name="paymentaccount_collection_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.get_collection_display()})"

    @property
    def is_prepaid(self) -> bool:
        return self.collection == self.Collection.PREPAID


class SavedPaymentMethod(models.Model):
    """A card (or a wallet such as Apple Pay / Google Pay, which providers expose as a card) saved off-session."""

    account = models.ForeignKey(PaymentAccount, on_delete=models.CASCADE, related_name="methods")
    provider_method_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, default="card")
    brand = models.CharField(max_length=32, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    wallet = models.CharField(max_length=32, blank=True, help_text=_("apple_pay, google_pay ... empty for a card."))
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_default=True), name="savedpaymentmethod_one_default"
            ),
        ]

    def __str__(self) -> str:
        label = self.wallet.replace("_", " ").title() if self.wallet else self.brand.title()
        return f"{label} •••• {self.last4}"


class Payment(models.Model):
    """One request to the provider that moves money: an invoice collection attempt, a top-up, a refund."""

    class Purpose(models.TextChoices):
        INVOICE = "invoice", _("Invoice collection")
        TOP_UP = "top_up", _("Prepaid top-up")
        REFUND = "refund", _("Refund")
        HOLD = "hold", _("Ad-hoc hold (manual capture)")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        REQUIRES_ACTION = "requires_action", _("Requires the customer's action")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")
        CANCELED = "canceled", _("Canceled")

    LIVE = ("pending", "requires_action")

    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey(
        "billing.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        help_text=_("The invoice collected, or for a refund the credit note refunded."),
    )
    refunded_payment = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        help_text=_("For a refund: the payment whose money goes back."),
    )
    method = models.ForeignKey(SavedPaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount = MoneyField(**MONEY)
    attempt = models.PositiveSmallIntegerField(default=1)
    provider = models.CharField(max_length=16, default="stripe")
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    provider_intent_id = models.CharField(max_length=64, blank=True, db_index=True)
    provider_refund_id = models.CharField(max_length=64, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # An invoice is collected by at most one live or successful attempt: a second one cannot be made.
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(purpose="invoice", state__in=["pending", "requires_action", "succeeded"]),
                name="payment_invoice_collected_once",
            ),
            models.UniqueConstraint(
                fields=["invoice", "attempt"], condition=Q(purpose="invoice"), name="payment_invoice_attempt_unique"
            ),
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(purpose="refund"), name="payment_credit_note_refunded_once"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=["top_up", "hold"]) | Q(invoice__isnull=False),
                name="payment_invoice_or_top_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.amount} ({self.state})"


class WebhookEvent(models.Model):
    """A provider's event as received: stored by its id so that a redelivered event is processed once."""

    provider = models.CharField(max_length=16, default="stripe")
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhookevent_provider_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


class PrepaidLedgerEntry(models.Model):
    """An append-only movement of a prepaid balance: credits are positive, debits negative."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        INVOICE_DEBIT = "invoice_debit", _("Invoice debit")
        REFUND = "refund", _("Credit note refund")
        ADJUSTMENT = "adjustment", _("Adjustment by staff")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="prepaid_entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = MoneyField(**MONEY)
    payment = models.OneToOneField(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entry",
        help_text=_("For a top-up: the card payment."),
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prepaid_entries",
        help_text=_("The invoice debited, or the credit note refunded to the balance."),
    )
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = _("prepaid ledger entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="prepaidledgerentry_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(kind="top_up", amount__gt=0, payment__isnull=False)
                | Q(kind="invoice_debit", amount__lt=0, invoice__isnull=False)
                | Q(kind="refund", amount__gt=0, invoice__isnull=False)
                | Q(kind="adjustment"),
                name="prepaidledgerentry_kind_shape",
            ),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(kind__in=["invoice_debit", "refund"]),
                name="prepaidledgerentry_invoice_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None and type(self).objects.filter(pk=self.pk).exists():
            raise ValueError("Ledger entries are append-only; add an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only; add an adjustment instead.")


class DunningCase(models.Model):
    """The collection state of one invoice once collection started: retries, failures, blocked tokens."""

    class State(models.TextChoices):
        COLLECTING = "collecting", _("Collecting")
        FAILED = "failed", _("Failed (retrying)")
        PAID = "paid", _("Paid")
        WRITTEN_OFF = "written_off", _("Written off")

    invoice = models.OneToOneField("billing.Invoice", on_delete=models.PROTECT, related_name="dunning")
    state = models.CharField(max_length=16, choices=State.choices, default=State.COLLECTING)
    failures = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_failure = models.CharField(max_length=300, blank=True)
    # The tokens this case blocked, so that payment reinstates exactly those (not ones staff blocked).
    blocked_tokens = models.ManyToManyField("customers.IdToken", blank=True, related_name="+")
    tokens_blocked_at = models.DateTimeField(null=True, blank=True)
    tokens_reinstated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_retry_at"], name="dunningcase_due_idx")]

    def __str__(self) -> str:
        return f"{self.invoice}: {self.get_state_display()}"
