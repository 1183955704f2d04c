"""The charging network as operated: locations, charge points, EVSEs and connectors.

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
from django.db.models import Q
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

    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="charge_points",
        help_text=_("Empty only for a station that connected for onboarding and is not placed yet."),
    )
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
    connected_at = models.DateTimeField(null=True, blank=True)
    connection_channel = models.CharField(
        max_length=120, blank=True, editable=False,
        help_text=_("Channel-layer name of the server connection that holds the station's socket."),
    )
    # Connector 0 of OCPP 1.6: the station as a whole.
    status = models.CharField(max_length=16, choices=ConnectorStatus.choices, default=ConnectorStatus.UNKNOWN)
    error_code = models.CharField(max_length=50, blank=True)
    firmware_status = models.CharField(max_length=32, blank=True)
    diagnostics_status = models.CharField(max_length=32, blank=True)
    last_transaction_id = models.PositiveIntegerField(
        default=0, editable=False, help_text=_("Counter for the OCPP 1.6 transaction ids we assign.")
    )
    local_list_version = models.IntegerField(
        default=0, editable=False, help_text=_("Version of the local authorisation list last sent.")
    )
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
        self.password_hash = make_password(raw_password, hasher="pbkdf2_sha256_station")

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
        _("EVSE id (eMI3)"), max_length=48, unique=True, null=True, blank=True, validators=[validate_evse_id],
        help_text=_("Printed on the station and used in roaming, e.g. DE*ABC*E1234*1. Empty only for an EVSE "
                    "a station reported before the operator described it."),
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
        return self.evse_id or f"{self.charge_point} EVSE {self.ocpp_evse_id}"

    def clean_fields(self, exclude=None) -> None:
        # eMI3 ids are case-insensitive; we store them upper-case so that uniqueness holds.
        self.evse_id = (self.evse_id or "").strip().upper() or None
        super().clean_fields(exclude=exclude)


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
    # Plug details are empty only for a connector a station reported before the operator described it.
    standard = models.CharField(max_length=32, choices=Standard.choices, blank=True)
    format = models.CharField(max_length=8, choices=Format.choices, blank=True)
    power_type = models.CharField(max_length=16, choices=PowerType.choices, blank=True)
    max_voltage_v = models.PositiveIntegerField(_("max voltage (V)"), null=True, blank=True)
    max_amperage_a = models.PositiveIntegerField(_("max current (A)"), null=True, blank=True)
    max_power_w = models.PositiveIntegerField(
        _("max power (W)"), null=True, blank=True, validators=[MaxValueValidator(4_000_000)]
    )
    status = models.CharField(max_length=16, choices=ConnectorStatus.choices, default=ConnectorStatus.UNKNOWN)
    error_code = models.CharField(max_length=50, blank=True, help_text=_("Last error code the station reported."))
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["evse", "ocpp_connector_id"]
        constraints = [
            models.UniqueConstraint(fields=["evse", "ocpp_connector_id"], name="connector_ocpp_id_unique_per_evse"),
            models.CheckConstraint(condition=Q(ocpp_connector_id__gte=1), name="connector_ocpp_id_positive"),
            models.CheckConstraint(
                condition=Q(max_power_w__isnull=True) | Q(max_power_w__gt=0), name="connector_max_power_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.evse} #{self.ocpp_connector_id} ({self.get_standard_display() or 'not described'})"
