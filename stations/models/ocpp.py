"""The OCPP machinery around the network: status history, station events, the frame journal, operator
commands, reservations and the local authorisation list as last sent to each station."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stations.models.network import ChargePoint, Connector, ConnectorStatus


class StatusEvent(models.Model):
    """One StatusNotification: the history behind each connector's current status."""

    # Looked up by station through statusevent_station_time_idx; no index of its own (each costs every insert).
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="status_events",
                                     db_index=False)
    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.CASCADE, related_name="status_events",
        help_text=_("Empty for the station as a whole (OCPP connector 0)."),
    )
    status = models.CharField(max_length=16, choices=ConnectorStatus.choices)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    timestamp = models.DateTimeField(help_text=_("When it happened, by the station's clock."))
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["charge_point", "-timestamp"], name="statusevent_station_time_idx")]

    def __str__(self) -> str:
        return f"{self.status} {self.error_code}".strip()


class StationEvent(models.Model):
    """Something a station reported that is not a session or a status: firmware and diagnostics progress,
    security events, data transfers, and stop reports we could not match (kept for review)."""

    class Kind(models.TextChoices):
        BOOT = "boot", _("Boot")
        FIRMWARE_STATUS = "firmware_status", _("Firmware status")
        DIAGNOSTICS_STATUS = "diagnostics_status", _("Diagnostics status")
        SECURITY_EVENT = "security_event", _("Security event")
        DATA_TRANSFER = "data_transfer", _("Data transfer")
        UNMATCHED_STOP = "unmatched_stop", _("Stop of an unknown or finished transaction")
        UNMATCHED_METER_VALUES = "unmatched_meter_values", _("Meter values for an unknown connector")

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    summary = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    needs_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["charge_point", "kind", "-timestamp"], name="stationevent_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class OcppMessage(models.Model):
    """The journal: every frame exchanged with a station, exactly as sent, kept for OCPP_JOURNAL_DAYS."""

    class Direction(models.TextChoices):
        IN = "in", _("Station → us")
        OUT = "out", _("Us → station")

    # Looked up by station through ocppmessage_station_time_idx; no index of its own (each costs every insert).
    # Checked per statement on PostgreSQL, like MeterValue's references (migration 0004).
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="journal", db_index=False)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("2 call, 3 result, 4 error"))
    unique_id = models.CharField(max_length=36, blank=True)
    action = models.CharField(max_length=48, blank=True)
    frame = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("OCPP message")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["charge_point", "-created_at"], name="ocppmessage_station_time_idx"),
            models.Index(fields=["action", "-created_at"], name="ocppmessage_action_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.action or '?'} {self.unique_id}"


class StationCommand(models.Model):
    """An operation we asked a station to perform, from request to the station's answer."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent, awaiting answer")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")
        TIMEOUT = "timeout", _("Timed out")
        OFFLINE = "offline", _("Station offline")

    FINAL_STATES = (State.ACCEPTED, State.REJECTED, State.FAILED, State.TIMEOUT, State.OFFLINE)

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="commands")
    action = models.CharField(max_length=48)
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    response = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel_name = models.CharField(max_length=120, blank=True, help_text=_("Connection that sent it."))
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["charge_point", "-created_at"], name="command_station_time_idx"),
            models.Index(fields=["state"], condition=Q(state__in=["pending", "sent"]), name="command_open_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | ~Q(state__in=["pending", "sent"]),
                name="stationcommand_open_not_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} → {self.charge_point_id}: {self.state}"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class Reservation(models.Model):
    """A ReserveNow we sent: holds a connector (or the whole station, connector 0) for one id tag."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ACTIVE = "active", _("Active")
        USED = "used", _("Used")
        CANCELLED = "cancelled", _("Cancelled")
        REJECTED = "rejected", _("Rejected by the station")

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="reservations")
    connector_id = models.PositiveIntegerField(help_text=_("OCPP connector id; 0 reserves the station."))
    id_tag = models.CharField(max_length=36)
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Reservation {self.pk} ({self.state})"


class LocalListEntry(models.Model):
    """One id tag as the station's local authorisation list holds it after our last SendLocalList."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="local_list")
    id_tag = models.CharField(max_length=36)
    status = models.CharField(max_length=16)
    expiry_date = models.DateTimeField(null=True, blank=True)
    parent_id_tag = models.CharField(max_length=36, blank=True)

    class Meta:
        verbose_name_plural = _("local list entries")
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "id_tag"], name="locallistentry_one_per_tag"),
        ]

    def __str__(self) -> str:
        return f"{self.id_tag}: {self.status}"
