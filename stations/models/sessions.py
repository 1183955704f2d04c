"""What stations report about charging: sessions (transactions) and their meter values."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stations.models.network import ChargePoint, Connector, Evse


class ChargingSession(models.Model):
    """A charging transaction as the station reports it. Energy in integer Wh, times aware UTC."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")

    class StopReason(models.TextChoices):
        # OCPP 1.6 Reason (2.0.1 ReasonEnumType adds a few; stored as reported).
        LOCAL = "Local", _("Stopped at the station")
        REMOTE = "Remote", _("Stopped remotely")
        EV_DISCONNECTED = "EVDisconnected", _("Vehicle disconnected")
        DE_AUTHORIZED = "DeAuthorized", _("De-authorised")
        EMERGENCY_STOP = "EmergencyStop", _("Emergency stop")
        HARD_RESET = "HardReset", _("Hard reset")
        SOFT_RESET = "SoftReset", _("Soft reset")
        POWER_LOSS = "PowerLoss", _("Power loss")
        REBOOT = "Reboot", _("Reboot")
        UNLOCK_COMMAND = "UnlockCommand", _("Unlock command")
        OTHER = "Other", _("Other")

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.PROTECT, related_name="sessions")
    transaction_id = models.CharField(
        max_length=36, help_text=_("Transaction id on the station (OCPP 1.6: the integer we assigned).")
    )
    evse = models.ForeignKey(Evse, on_delete=models.PROTECT, related_name="sessions")
    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="sessions")
    id_token = models.ForeignKey(
        "customers.IdToken", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    id_tag = models.CharField(
        _("id tag as reported"), max_length=36, blank=True,
        help_text=_("Kept even when the token is unknown to us."),
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    meter_start_wh = models.BigIntegerField(_("meter start (Wh)"))
    meter_stop_wh = models.BigIntegerField(_("meter stop (Wh)"), null=True, blank=True)
    stop_reason = models.CharField(max_length=32, choices=StopReason.choices, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    id_tag_status = models.CharField(
        _("authorisation answered"), max_length=16, blank=True,
        help_text=_("The idTagInfo status we answered at start (Accepted, Invalid, Blocked, ...)."),
    )
    needs_review = models.BooleanField(
        default=False, help_text=_("Something about this session was unusual and a person should look at it.")
    )
    review_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["customer", "-started_at"], name="session_customer_started_idx"),
            models.Index(fields=["-started_at"], name="session_started_idx"),
            models.Index(fields=["needs_review"], condition=Q(needs_review=True), name="session_review_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "transaction_id"], name="session_transaction_id_unique_per_station"
            ),
            models.UniqueConstraint(
                fields=["connector"], condition=Q(state="active"), name="session_one_active_per_connector"
            ),
            models.CheckConstraint(condition=Q(meter_start_wh__gte=0), name="session_meter_start_not_negative"),
            models.CheckConstraint(
                condition=Q(meter_stop_wh__isnull=True) | Q(meter_stop_wh__gte=F("meter_start_wh")),
                name="session_meter_stop_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(stopped_at__isnull=True) | Q(stopped_at__gte=F("started_at")),
                name="session_stop_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(state="active", stopped_at__isnull=True)
                | Q(state="completed", stopped_at__isnull=False, meter_stop_wh__isnull=False),
                name="session_state_matches_stop",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point.identity} tx {self.transaction_id}"

    @property
    def energy_wh(self) -> int | None:
        if self.meter_stop_wh is None:
            return None
        return self.meter_stop_wh - self.meter_start_wh

    @property
    def duration_s(self) -> int | None:
        if self.stopped_at is None:
            return None
        return int((self.stopped_at - self.started_at).total_seconds())


class MeterValue(models.Model):
    """One sampled value of one measurand (OCPP SampledValue), at one time, on one connector or session.

    Energy registers are integer Wh (converted from kWh at the edge); other measurands keep the unit the
    station reported, normalised to the SI base unit (W, A, V, %, Hz, ...).
    """

    class Measurand(models.TextChoices):
        ENERGY_IMPORT_REGISTER = "Energy.Active.Import.Register"
        ENERGY_EXPORT_REGISTER = "Energy.Active.Export.Register"
        ENERGY_REACTIVE_IMPORT_REGISTER = "Energy.Reactive.Import.Register"
        ENERGY_REACTIVE_EXPORT_REGISTER = "Energy.Reactive.Export.Register"
        ENERGY_IMPORT_INTERVAL = "Energy.Active.Import.Interval"
        ENERGY_EXPORT_INTERVAL = "Energy.Active.Export.Interval"
        POWER_IMPORT = "Power.Active.Import"
        POWER_EXPORT = "Power.Active.Export"
        POWER_OFFERED = "Power.Offered"
        POWER_FACTOR = "Power.Factor"
        POWER_REACTIVE_IMPORT = "Power.Reactive.Import"
        CURRENT_IMPORT = "Current.Import"
        CURRENT_EXPORT = "Current.Export"
        CURRENT_OFFERED = "Current.Offered"
        VOLTAGE = "Voltage"
        FREQUENCY = "Frequency"
        TEMPERATURE = "Temperature"
        SOC = "SoC"
        RPM = "RPM"

    # No index of their own for session and charge_point: the (session, timestamp) and (charge_point, timestamp)
    # indexes below serve every lookup by either, and each index costs every one of the many inserts.
    # On PostgreSQL these three references are checked per statement by triggers, not by row-level constraints
    # (migration 0004, stations/migrations/_references.py): a migration removing or renaming one must reverse
    # that operation for it first.
    session = models.ForeignKey(
        ChargingSession, null=True, blank=True, on_delete=models.CASCADE, related_name="meter_values",
        db_index=False,
    )
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="meter_values",
                                     db_index=False)
    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.CASCADE, related_name="meter_values",
        help_text=_("Empty for values of the whole station (OCPP connector 0)."),
    )
    timestamp = models.DateTimeField()
    measurand = models.CharField(max_length=40, choices=Measurand.choices, default=Measurand.ENERGY_IMPORT_REGISTER)
    phase = models.CharField(max_length=8, blank=True)
    location = models.CharField(max_length=8, blank=True, help_text=_("Outlet, Inlet, Body, Cable or EV."))
    context = models.CharField(max_length=24, blank=True, help_text=_("Sample.Periodic, Transaction.Begin, ..."))
    value = models.DecimalField(max_digits=20, decimal_places=4)
    unit = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["session", "timestamp"], name="metervalue_session_time_idx"),
            models.Index(fields=["charge_point", "timestamp"], name="metervalue_station_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.measurand} {self.value} {self.unit} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"
