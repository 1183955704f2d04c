"""The charging network as operated: locations, charge points, EVSEs, connectors, and what stations report
(charging sessions and their meter values).

Identifiers follow the standards: OCPP identities for charge points, eMI3 ids for EVSEs, OCPI enums for
connector standards and formats. In OCPP 1.6 a station numbers its connectors 1..n; we map connector N to
the EVSE with ``ocpp_evse_id = N`` and its single connector ``ocpp_connector_id = 1``, which is what
OCPP 2.0.1 makes explicit.
"""

import zoneinfo
from decimal import Decimal

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

# eMI3 EVSE id: country, operator id, "E", power outlet id; the "*" separators are optional (OCPI 2.2.1).
EVSE_ID_RE = r"^[A-Z]{2}\*?[A-Z0-9]{3}\*?E[A-Z0-9*]{1,30}$"
# OCPP identity: it is the last path segment of the websocket URL and the Basic-auth user name, so no
# ":" (RFC 7617) and nothing that needs URL-encoding; it also names channel-layer groups, which allow only
# letters, digits, "-", "_" and ".". OCPP 1.6 security whitepaper: at most 48 characters.
IDENTITY_RE = r"^[A-Za-z0-9._\-]{1,48}$"

validate_evse_id = RegexValidator(EVSE_ID_RE, _("Enter an eMI3 EVSE id such as DE*ABC*E1234*1."))
validate_identity = RegexValidator(
    IDENTITY_RE, _("1-48 characters: letters, digits, '.', '_' or '-'.")
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone such as Europe/Berlin."), params={"value": value})


def validate_opening_hours(value: dict) -> None:
    """OCPI Hours: {"twentyfourseven": true} or regular hours per ISO weekday (1 = Monday)."""
    if not isinstance(value, dict):
        raise ValidationError(_("Opening hours must be an object."))
    if value.get("twentyfourseven") is True:
        return
    regular = value.get("regular_hours")
    if not isinstance(regular, list) or not regular:
        raise ValidationError(_('Give {"twentyfourseven": true} or a non-empty "regular_hours" list.'))
    time_re = RegexValidator(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
    for period in regular:
        if not isinstance(period, dict) or period.get("weekday") not in range(1, 8):
            raise ValidationError(_("Each regular_hours entry needs a weekday from 1 (Monday) to 7 (Sunday)."))
        for key in ("period_begin", "period_end"):
            try:
                time_re(str(period.get(key, "")))
            except ValidationError:
                raise ValidationError(_("%(key)s must be a time HH:MM."), params={"key": key}) from None
        if period["period_begin"] >= period["period_end"]:
            raise ValidationError(_("period_begin must be before period_end."))


def always_open() -> dict:
    return {"twentyfourseven": True}


class Location(models.Model):
    """An operator's site: one address, one time zone, any number of charge points."""

    code = models.SlugField(
        max_length=36, unique=True, help_text=_("Stable id used in OCPI and the API, e.g. berlin-mitte-1.")
    )
    name = models.CharField(max_length=255)
    address = models.CharField(max_length=255)
    postal_code = models.CharField(max_length=16)
    city = models.CharField(max_length=100)
    country = CountryField()
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    time_zone = models.CharField(
        max_length=64, validators=[validate_time_zone], help_text=_("IANA zone; tariffs use its local time.")
    )
    opening_hours = models.JSONField(default=always_open, validators=[validate_opening_hours])
    is_published = models.BooleanField(
        default=True, help_text=_("Shown to drivers, apps and roaming partners.")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "city", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=Decimal(-90), latitude__lte=Decimal(90)), name="location_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=Decimal(-180), longitude__lte=Decimal(180)),
                name="location_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.city}"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class ChargePoint(models.Model):
    """A charging station as an OCPP client: its identity, credentials and what it told us about itself."""

    class OcppVersion(models.TextChoices):
        V16 = "ocpp1.6", "OCPP 1.6J"
        V201 = "ocpp2.0.1", "OCPP 2.0.1"
        V21 = "ocpp2.1", "OCPP 2.1"

    class SecurityProfile(models.IntegerChoices):
        NONE = 0, _("0: no authentication (private networks only)")
        BASIC = 1, _("1: Basic auth over plain websocket")
        BASIC_TLS = 2, _("2: Basic auth over TLS")
        CLIENT_CERT = 3, _("3: TLS with client certificate")

    class RegistrationStatus(models.TextChoices):
        ACCEPTED = "Accepted", _("Accepted")
        PENDING = "Pending", _("Pending")
        REJECTED = "Rejected", _("Rejected")

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="charge_points")
    identity = models.CharField(
        _("OCPP identity"), max_length=48, unique=True, validators=[validate_identity],
        help_text=_("Charge box identity: the last segment of the station's websocket URL."),
    )
    vendor = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=20, blank=True)
    serial_number = models.CharField(max_length=25, blank=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    iccid = models.CharField(_("ICCID"), max_length=20, blank=True)
    imsi = models.CharField(_("IMSI"), max_length=20, blank=True)
    meter_type = models.CharField(max_length=25, blank=True)
    meter_serial_number = models.CharField(max_length=25, blank=True)
    ocpp_version = models.CharField(max_length=16, choices=OcppVersion.choices, default=OcppVersion.V16)
    security_profile = models.PositiveSmallIntegerField(
        choices=SecurityProfile.choices, default=SecurityProfile.BASIC
    )
    password_hash = models.CharField(
        max_length=128, blank=True, editable=False, help_text=_("Hash of the Basic-auth password.")
    )
    registration_status = models.CharField(
        max_length=16, choices=RegistrationStatus.choices, default=RegistrationStatus.PENDING
    )
    is_connected = models.BooleanField(_("connected"), default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["identity"]
        constraints = [
            models.CheckConstraint(
                condition=Q(security_profile__gte=0, security_profile__lte=3), name="chargepoint_security_profile_range"
            ),
            models.CheckConstraint(condition=~Q(identity=""), name="chargepoint_identity_not_empty"),
        ]

    def __str__(self) -> str:
        return self.identity

    # OCPP 1.6 security whitepaper: the Basic-auth password is 16 to 40 characters.
    PASSWORD_MIN_LENGTH = 16
    PASSWORD_MAX_LENGTH = 40

    def set_password(self, raw_password: str) -> None:
        if not self.PASSWORD_MIN_LENGTH <= len(raw_password) <= self.PASSWORD_MAX_LENGTH:
            raise ValidationError(
                {"password": _("A station password has 16 to 40 characters (OCPP security profile 1/2).")}
            )
        self.password_hash = make_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        return bool(self.password_hash) and check_password(raw_password, self.password_hash)

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)


class Evse(models.Model):
    """An EVSE: the part of a station that charges one vehicle at a time, with one or more connectors."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="evses")
    ocpp_evse_id = models.PositiveIntegerField(
        _("OCPP EVSE id"), validators=[MinValueValidator(1)],
        help_text=_("1, 2, ... as the station numbers it (OCPP 1.6: the connector id)."),
    )
    evse_id = models.CharField(
        _("EVSE id (eMI3)"), max_length=48, unique=True, validators=[validate_evse_id],
        help_text=_("Printed on the station and used in roaming, e.g. DE*ABC*E1234*1."),
    )
    physical_reference = models.CharField(max_length=16, blank=True, help_text=_("Label on the station."))

    class Meta:
        verbose_name = "EVSE"
        ordering = ["charge_point", "ocpp_evse_id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "ocpp_evse_id"], name="evse_ocpp_id_unique_per_station"),
            models.CheckConstraint(condition=Q(ocpp_evse_id__gte=1), name="evse_ocpp_id_positive"),
            models.CheckConstraint(condition=Q(evse_id__regex=EVSE_ID_RE), name="evse_evse_id_emi3"),
        ]

    def __str__(self) -> str:
        return self.evse_id

    def clean_fields(self, exclude=None) -> None:
        # eMI3 ids are case-insensitive; we store them upper-case so that uniqueness holds.
        self.evse_id = (self.evse_id or "").strip().upper()
        super().clean_fields(exclude=exclude)


class ConnectorStatus(models.TextChoices):
    """OCPP 1.6 ChargePointStatus and OCPP 2.0.1 ConnectorStatusEnumType (Occupied)."""

    AVAILABLE = "Available", _("Available")
    PREPARING = "Preparing", _("Preparing")
    CHARGING = "Charging", _("Charging")
    SUSPENDED_EVSE = "SuspendedEVSE", _("Suspended by station")
    SUSPENDED_EV = "SuspendedEV", _("Suspended by vehicle")
    FINISHING = "Finishing", _("Finishing")
    OCCUPIED = "Occupied", _("Occupied")
    RESERVED = "Reserved", _("Reserved")
    UNAVAILABLE = "Unavailable", _("Unavailable")
    FAULTED = "Faulted", _("Faulted")
    UNKNOWN = "Unknown", _("Unknown")


class Connector(models.Model):
    """A plug or socket of an EVSE, described as OCPI describes it."""

    class Standard(models.TextChoices):
        TYPE2 = "IEC_62196_T2", _("Type 2")
        CCS2 = "IEC_62196_T2_COMBO", _("CCS (Combo 2)")
        TYPE1 = "IEC_62196_T1", _("Type 1")
        CCS1 = "IEC_62196_T1_COMBO", _("CCS (Combo 1)")
        CHADEMO = "CHADEMO", _("CHAdeMO")
        TYPE3C = "IEC_62196_T3C", _("Type 3C")
        DOMESTIC_F = "DOMESTIC_F", _("Schuko (CEE 7/4)")
        DOMESTIC_G = "DOMESTIC_G", _("BS 1363")
        TESLA_S = "TESLA_S", _("Tesla")
        GBT_DC = "GBT_DC", _("GB/T DC")
        NACS = "SAE_J3400", _("NACS (SAE J3400)")
        MCS = "MCS", _("Megawatt Charging System")

    class Format(models.TextChoices):
        SOCKET = "SOCKET", _("Socket")
        CABLE = "CABLE", _("Tethered cable")

    class PowerType(models.TextChoices):
        AC_1_PHASE = "AC_1_PHASE", _("AC single phase")
        AC_3_PHASE = "AC_3_PHASE", _("AC three phase")
        DC = "DC", _("DC")

    evse = models.ForeignKey(Evse, on_delete=models.CASCADE, related_name="connectors")
    ocpp_connector_id = models.PositiveIntegerField(_("OCPP connector id"), default=1)
    standard = models.CharField(max_length=32, choices=Standard.choices)
    format = models.CharField(max_length=8, choices=Format.choices)
    power_type = models.CharField(max_length=16, choices=PowerType.choices)
    max_voltage_v = models.PositiveIntegerField(_("max voltage (V)"))
    max_amperage_a = models.PositiveIntegerField(_("max current (A)"))
    max_power_w = models.PositiveIntegerField(_("max power (W)"), validators=[MaxValueValidator(4_000_000)])
    status = models.CharField(max_length=16, choices=ConnectorStatus.choices, default=ConnectorStatus.UNKNOWN)
    error_code = models.CharField(max_length=50, blank=True, help_text=_("Last error code the station reported."))
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["evse", "ocpp_connector_id"]
        constraints = [
            models.UniqueConstraint(fields=["evse", "ocpp_connector_id"], name="connector_ocpp_id_unique_per_evse"),
            models.CheckConstraint(condition=Q(ocpp_connector_id__gte=1), name="connector_ocpp_id_positive"),
            models.CheckConstraint(condition=Q(max_power_w__gt=0), name="connector_max_power_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.evse.evse_id} #{self.ocpp_connector_id} ({self.get_standard_display()})"


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
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["customer", "-started_at"], name="session_customer_started_idx"),
            models.Index(fields=["-started_at"], name="session_started_idx"),
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

    session = models.ForeignKey(
        ChargingSession, null=True, blank=True, on_delete=models.CASCADE, related_name="meter_values"
    )
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="meter_values")
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
