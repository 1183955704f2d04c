"""The operator's admin for the charging network: sites, stations, EVSEs and connectors, and read-only views
of what stations reported (sessions and meter values). The OCPP machinery is in admin_ocpp.py.

Registration changes are plain status updates for now; they move to stations.services once it has them.
"""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from billing.cdrs import session_reprice
from billing.cdrs.review import REPRICE_FLAGGED, REPRICE_HAS_RECORD, REPRICE_PRICED
from evbackoffice.admin import ReadOnlyMixin, export_as_csv
from stations.admin_ocpp import ChargePointCommandsMixin
from stations.models import ChargePoint, ChargingSession, Connector, Evse, Location, MeterValue


def kilowatts(watts: int) -> Decimal:
    """22000 -> 22, 7400 -> 7.4: exact, without trailing zeros."""
    return Decimal(watts) / 1000


# --- Locations ---------------------------------------------------------------------------------------


class ChargePointInline(admin.TabularInline):
    """The site's stations as read-only rows, each linking to its own page."""

    model = ChargePoint
    fields = ("identity", "vendor", "model", "ocpp_version", "registration_status", "is_connected", "last_seen_at")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "city", "country", "time_zone", "charge_point_count", "is_published")
    list_filter = (("country", CountryFilter), "is_published")
    search_fields = ("name", "code", "city", "postal_code")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "code", "is_published")}),
        (_("Address"), {"fields": ("address", "postal_code", "city", "country", "latitude", "longitude")}),
        (_("Time and opening hours"), {"fields": ("time_zone", "opening_hours")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    inlines = (ChargePointInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(charge_point_count=Count("charge_points"))

    @admin.display(description=_("charge points"), ordering="charge_point_count")
    def charge_point_count(self, location: Location) -> int:
        return location.charge_point_count


# --- Charge points -----------------------------------------------------------------------------------


class ChargePointAdminForm(forms.ModelForm):
    """Sets the station's Basic-auth password; the stored hash is never shown."""

    new_password = forms.CharField(
        label=_("set new password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("16 to 40 characters, as the station sends it in Basic auth. Leave empty to keep the current one."),
    )

    class Meta:
        model = ChargePoint
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin's fieldsets decide what is shown

    def clean_new_password(self) -> str:
        raw = self.cleaned_data["new_password"]
        if raw:
            # Hash once, here: set_password owns the OCPP length rule, and the admin's save stores the instance.
            try:
                self.instance.set_password(raw)
            except ValidationError as error:
                raise ValidationError(error.message_dict["password"]) from None
        return raw


class EvseInline(admin.TabularInline):
    """EVSEs of a station; their connectors are edited on the EVSE's own page (no nested inlines)."""

    model = Evse
    fields = ("ocpp_evse_id", "evse_id", "physical_reference", "connector_summary")
    readonly_fields = ("connector_summary",)
    show_change_link = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("connectors")

    @admin.display(description=_("connectors"))
    def connector_summary(self, evse: Evse) -> str:
        return ", ".join(
            f"{c.get_standard_display()} {kilowatts(c.max_power_w)} kW ({c.get_status_display()})"
            for c in evse.connectors.all()
        )


@admin.register(ChargePoint)
class ChargePointAdmin(ChargePointCommandsMixin, admin.ModelAdmin):
    form = ChargePointAdminForm
    list_display = (
        "identity", "location", "vendor", "model", "firmware_version", "ocpp_version",
        "registration_status", "is_connected", "last_seen_at",
    )
    list_select_related = ("location",)
    list_filter = (
        "registration_status", "is_connected", "ocpp_version", "security_profile",
        ("location__country", CountryFilter), "vendor",
    )
    search_fields = ("identity", "serial_number", "vendor", "model", "location__name")
    autocomplete_fields = ("location",)
    inlines = (EvseInline,)
    actions = ("accept_registration", "reject_registration", "soft_reset", "get_configuration", "send_local_list",
               "trigger_status")

    # What the station tells us in BootNotification: typed in when a station is added, then its own word.
    REPORTED_BY_STATION = (
        "vendor", "model", "serial_number", "firmware_version", "iccid", "imsi", "meter_type", "meter_serial_number",
    )
    # Connection state comes only from the OCPP server, never from a form.
    ALWAYS_READ_ONLY = (
        "password_set", "is_connected", "connected_at", "last_seen_at", "status", "error_code", "firmware_status",
        "diagnostics_status", "local_list_version", "commands_panel", "created_at", "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("identity", "location", "registration_status")}),
        (_("Protocol and credentials"), {
            "fields": ("ocpp_version", "security_profile", "new_password", "password_set"),
        }),
        (_("Reported by the station"), {"fields": REPORTED_BY_STATION}),
        (_("Connection and state"), {"fields": (
            "is_connected", "connected_at", "last_seen_at", "status", "error_code", "firmware_status",
            "diagnostics_status", "local_list_version", "created_at", "updated_at",
        )}),
        (_("Commands"), {"fields": ("commands_panel",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.ALWAYS_READ_ONLY
        return self.ALWAYS_READ_ONLY + self.REPORTED_BY_STATION

    @admin.display(description=_("password set"))
    def password_set(self, charge_point: ChargePoint) -> str:
        return _("yes") if charge_point.has_password else _("no")

    @admin.action(description=_("Accept registration of the selected stations"), permissions=["change"])
    def accept_registration(self, request, queryset) -> None:
        self._set_registration_status(request, queryset, ChargePoint.RegistrationStatus.ACCEPTED)

    @admin.action(description=_("Reject registration of the selected stations"), permissions=["change"])
    def reject_registration(self, request, queryset) -> None:
        self._set_registration_status(request, queryset, ChargePoint.RegistrationStatus.REJECTED)

    def _set_registration_status(self, request, queryset, status: str) -> None:
        changed = queryset.exclude(registration_status=status).update(
            registration_status=status, updated_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d station set to %(status)s; it learns so from its next BootNotification.",
                "%(count)d stations set to %(status)s; each learns so from its next BootNotification.",
                changed,
            ) % {"count": changed, "status": ChargePoint.RegistrationStatus(status).label},
        )


# --- EVSEs and connectors ----------------------------------------------------------------------------


class ConnectorInline(admin.TabularInline):
    model = Connector
    fields = (
        "ocpp_connector_id", "standard", "format", "power_type", "max_voltage_v", "max_amperage_a", "max_power_w",
        "status", "error_code",
    )
    readonly_fields = ("status", "error_code")
    extra = 0


@admin.register(Evse)
class EvseAdmin(admin.ModelAdmin):
    list_display = ("evse_id", "charge_point", "ocpp_evse_id", "physical_reference", "charge_point__location")
    list_select_related = ("charge_point__location",)
    list_filter = (("charge_point__location__country", CountryFilter),)
    search_fields = ("evse_id", "physical_reference", "charge_point__identity")
    autocomplete_fields = ("charge_point",)
    inlines = (ConnectorInline,)
    readonly_fields = ("adhoc_qr_code",)

    @admin.display(description=_("ad-hoc QR code"))
    def adhoc_qr_code(self, obj):
        # The sticker for drivers without an account: it opens the public price and card payment page.
        if obj is None or not obj.evse_id:
            return "-"
        return format_html('<a href="{}" target="_blank">{}</a>', reverse("adhoc:qr", args=[obj.evse_id]),
                           _("print the QR code"))


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = (
        "evse", "ocpp_connector_id", "evse__charge_point", "standard", "format", "power_type", "max_power_kw",
        "status", "error_code", "status_changed_at",
    )
    list_select_related = ("evse__charge_point",)
    list_filter = ("status", "standard", "power_type")
    search_fields = ("evse__evse_id", "evse__charge_point__identity", "error_code")
    autocomplete_fields = ("evse",)
    # Status and errors are what the station last reported (StatusNotification).
    readonly_fields = ("status", "error_code", "status_changed_at")

    @admin.display(description=_("max power (kW)"), ordering="max_power_w")
    def max_power_kw(self, connector: Connector) -> Decimal:
        return kilowatts(connector.max_power_w)


# --- What stations reported --------------------------------------------------------------------------


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Records that only the OCPP server writes: staff may look, not add, edit or delete."""


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows: an exact COUNT(*) of a million sessions costs more than the page itself.
    Beyond the cap the list offers COUNT_CAP / per_page pages; filters narrow it down from there."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.COUNT_CAP].count()


class StartedFilter(admin.SimpleListFilter):
    """When a session started, in fixed periods (bounded range scans on the started_at index)."""

    title = _("started")
    parameter_name = "started"
    PERIODS = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}

    def lookups(self, request, model_admin):
        return [("1d", _("last 24 hours")), ("7d", _("last 7 days")), ("30d", _("last 30 days"))]

    def queryset(self, request, queryset):
        if self.value() in self.PERIODS:
            return queryset.filter(started_at__gte=timezone.now() - self.PERIODS[self.value()])
        return queryset


class AuthorisationFilter(admin.SimpleListFilter):
    """The OCPP 1.6 AuthorizationStatus values as fixed choices: listing the distinct answers would scan every
    session."""

    title = _("authorisation answered")
    parameter_name = "id_tag_status"
    STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")

    def lookups(self, request, model_admin):
        return [(status, status) for status in self.STATUSES]

    def queryset(self, request, queryset):
        if self.value() in self.STATUSES:
            return queryset.filter(id_tag_status=self.value())
        return queryset


@admin.register(ChargingSession)
class ChargingSessionAdmin(ReadOnlyAdmin):
    """Sessions as stations reported them over OCPP. They are read-only here because every change comes from
    the station (StartTransaction / TransactionEvent / StopTransaction); corrections are credit records in
    billing, not edits of what the station said."""

    list_display = (
        "transaction_id", "charge_point", "evse", "id_tag", "customer", "started_at", "stopped_at",
        "energy_kwh", "duration", "state", "stop_reason",
    )
    list_select_related = ("charge_point", "evse", "customer")
    list_filter = ("state", "needs_review", StartedFilter, AuthorisationFilter, "stop_reason",
                   "charge_point__location")
    # No date_hierarchy: its year links need a DISTINCT over every session (a second on a million rows).
    search_fields = ("transaction_id", "id_tag", "charge_point__identity", "customer__name")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50  # rendering rows is most of this page's time once its queries are bounded
    fieldsets = (
        (None, {"fields": ("transaction_id", "state", "stop_reason", "needs_review", "review_reason")}),
        (_("Where"), {"fields": ("charge_point", "evse", "connector")}),
        (_("Who"), {"fields": ("id_tag", "id_tag_status", "id_token", "customer")}),
        (_("Time and energy"), {
            "fields": ("started_at", "stopped_at", "duration", "meter_start_wh", "meter_stop_wh", "energy_kwh"),
        }),
        (_("Meter values"), {"fields": ("meter_values_link",)}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("duration", "energy_kwh", "meter_values_link")
    actions = ("reprice", export_as_csv)
    #: Reasons listed in the message after pricing again; the rest are counted.
    REPRICE_REASONS_SHOWN = 20

    @admin.display(description=_("energy (kWh)"), ordering=F("meter_stop_wh") - F("meter_start_wh"))
    def energy_kwh(self, session: ChargingSession) -> str:
        energy_wh = session.energy_wh
        if energy_wh is None:  # still charging
            return self.get_empty_value_display()
        return f"{Decimal(energy_wh) / 1000:.3f}"

    @admin.display(description=_("duration"), ordering=F("stopped_at") - F("started_at"))
    def duration(self, session: ChargingSession) -> str:
        duration_s = session.duration_s
        if duration_s is None:
            return self.get_empty_value_display()
        return str(timedelta(seconds=duration_s))

    def has_reprice_permission(self, request, obj=None) -> bool:
        # Pricing makes charge records: the permission that lets staff credit and correct them.
        return request.user.has_perm("billing.add_chargedetailrecord")

    @admin.action(description=_("Price the selected flagged sessions again (after fixing tariff or readings)"),
                  permissions=["reprice"])
    def reprice(self, request, queryset) -> None:
        """Rates each flagged session again: priced (flag cleared) or flagged again with the new reason. A
        session with a charge record is skipped: its record is corrected from the record's page."""
        outcomes: dict[str, list] = {}
        sessions = queryset.select_related("charge_point").order_by("pk")
        for session in sessions.filter(needs_review=True).iterator(chunk_size=200):
            result = session_reprice(session_id=session.pk)
            outcomes.setdefault(result.outcome, []).append((session, result))
        self._report_repricing(request, outcomes, not_flagged=sessions.filter(needs_review=False).count())

    def _report_repricing(self, request, outcomes: dict[str, list], *, not_flagged: int) -> None:
        if priced := len(outcomes.pop(REPRICE_PRICED, [])):
            self.message_user(request, ngettext(
                "%(count)d session priced; its review flag is cleared.",
                "%(count)d sessions priced; their review flags are cleared.", priced) % {"count": priced},
                messages.SUCCESS)
        if flagged := outcomes.pop(REPRICE_FLAGGED, []):
            self.message_user(request, ngettext(
                "%(count)d session still cannot be priced and stays flagged:",
                "%(count)d sessions still cannot be priced and stay flagged:", len(flagged)) % {
                "count": len(flagged)}, messages.WARNING)
            for session, result in flagged[: self.REPRICE_REASONS_SHOWN]:
                self.message_user(request, f"{session}: {result.reason}", messages.WARNING)
            if len(flagged) > self.REPRICE_REASONS_SHOWN:
                self.message_user(request, _("… and %(count)d more: filter the list by \"needs review\".") % {
                    "count": len(flagged) - self.REPRICE_REASONS_SHOWN}, messages.WARNING)
        if rated := len(outcomes.pop(REPRICE_HAS_RECORD, [])):
            self.message_user(request, ngettext(
                "%(count)d session skipped: it has a charge record; correct the record instead.",
                "%(count)d sessions skipped: they have charge records; correct the records instead.", rated) % {
                "count": rated}, messages.WARNING)
        if skipped := not_flagged + sum(len(rows) for rows in outcomes.values()):
            self.message_user(request, ngettext(
                "%(count)d session skipped: not flagged for review, or still charging.",
                "%(count)d sessions skipped: not flagged for review, or still charging.", skipped) % {
                "count": skipped}, messages.INFO)

    @admin.display(description=_("meter values"))
    def meter_values_link(self, session: ChargingSession) -> str:
        # A session can have thousands of values: link to the list rather than render them here.
        count = session.meter_values.count()
        url = reverse("admin:stations_metervalue_changelist") + f"?session__id__exact={session.pk}"
        label = ngettext("%(count)d meter value", "%(count)d meter values", count) % {"count": count}
        return format_html('<a href="{}">{}</a>', url, label)


class MeasurandFilter(admin.SimpleListFilter):
    """Measurands by their OCPP names, which staff read in station logs (the generated labels drop words)."""

    title = _("measurand")
    parameter_name = "measurand"

    def lookups(self, request, model_admin):
        return [(value, value) for value in MeterValue.Measurand.values]

    def queryset(self, request, queryset):
        if self.value() in MeterValue.Measurand.values:
            return queryset.filter(measurand=self.value())
        return queryset


class PhaseFilter(admin.SimpleListFilter):
    """The OCPP phases as fixed choices: listing the distinct values of a huge table would scan it."""

    title = _("phase")
    parameter_name = "phase"
    PHASES = ("L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1")

    def lookups(self, request, model_admin):
        return [(phase, phase) for phase in self.PHASES] + [("none", _("not reported"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(phase="")
        if self.value() in self.PHASES:
            return queryset.filter(phase=self.value())
        return queryset


@admin.register(MeterValue)
class MeterValueAdmin(ReadOnlyAdmin):
    list_display = ("timestamp", "charge_point", "session__transaction_id", "ocpp_measurand", "phase", "value", "unit")
    list_select_related = ("charge_point", "session")
    list_filter = (MeasurandFilter, PhaseFilter)
    date_hierarchy = "timestamp"
    # Exact matches on the small tables let the database use the (station, time) and (session, time) indexes.
    search_fields = ("=charge_point__identity", "=session__transaction_id")
    search_help_text = _("Exact station identity or transaction id.")
    show_full_result_count = False

    @admin.display(description=_("measurand"), ordering="measurand")
    def ocpp_measurand(self, meter_value: MeterValue) -> str:
        return meter_value.measurand
