"""Ad-hoc charging: a guest without an account pays one session by card (AFIR). The hold is a Payment (purpose
`hold`); the session, its one-off token and the receipt (a simplified invoice, number series RCPT) live here."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .payments import MONEY

AMOUNT = {"max_digits": 14, "decimal_places": 2}


class AdHocSession(models.Model):
    """One guest's card-paid session at one EVSE, from the hold to the capture and the receipt."""

    class State(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Waiting for the card")
        AUTHORIZED = "authorized", _("Hold authorised, starting")
        CHARGING = "charging", _("Charging")
        COMPLETED = "completed", _("Completed")
        COMPLETED_WITH_SHORTFALL = "completed_with_shortfall", _("Completed, cost above the hold")
        CANCELED = "canceled", _("Canceled (hold released)")
        FAILED = "failed", _("Failed")

    OPEN = ("pending_payment", "authorized", "charging")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    evse = models.ForeignKey("stations.Evse", on_delete=models.PROTECT, related_name="adhoc_sessions")
    connector = models.ForeignKey("stations.Connector", on_delete=models.PROTECT, related_name="+")
    id_token = models.OneToOneField("customers.IdToken", on_delete=models.PROTECT, related_name="adhoc_session")
    hold = models.OneToOneField(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="adhoc_session"
    )
    charging_session = models.OneToOneField(
        "stations.ChargingSession", null=True, blank=True, on_delete=models.PROTECT, related_name="adhoc_session"
    )
    cdr = models.OneToOneField(
        "billing.ChargeDetailRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="adhoc_session"
    )
    state = models.CharField(max_length=32, choices=State.choices, default=State.PENDING_PAYMENT)
    email = models.EmailField(blank=True, help_text=_("Where the receipt goes, if the guest gave one."))
    language = models.CharField(
        max_length=8, blank=True, default="",
        help_text=_("The language of the page the guest paid on; the receipt is written in it."),
    )
    currency = models.CharField(max_length=3, default=MONEY["default_currency"])
    hold_amount = models.DecimalField(**AMOUNT)
    total_incl_vat = models.DecimalField(**AMOUNT, null=True, blank=True, help_text=_("The session's cost."))
    captured_amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    shortfall = models.DecimalField(
        **AMOUNT, default=0, help_text=_("Cost above the hold, not collected (the guest has no account).")
    )
    failure = models.CharField(max_length=300, blank=True)
    start_command = models.ForeignKey(
        "stations.StationCommand", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    receipt_number = models.CharField(max_length=24, null=True, blank=True, unique=True)
    receipt_snapshot = models.JSONField(
        default=dict, blank=True, help_text=_("What the receipt prints, frozen when it is issued.")
    )
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    authorized_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ad-hoc session")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(hold_amount__gt=0), name="adhocsession_hold_positive"),
            models.CheckConstraint(condition=Q(shortfall__gte=0), name="adhocsession_shortfall_not_negative"),
            # Capturing more than the hold is impossible at the provider; the database says so too.
            models.CheckConstraint(
                condition=Q(captured_amount__isnull=True) | Q(captured_amount__lte=models.F("hold_amount")),
                name="adhocsession_capture_within_hold",
            ),
        ]

    def __str__(self) -> str:
        return f"Ad-hoc {self.evse} {self.created_at:%Y-%m-%d %H:%M} ({self.get_state_display()})"
