"""Admin for the OCPP machinery: commands (and the form that sends one), the frame journal, status history,
station events, reservations and local authorisation lists. Imported by stations/admin.py."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from evbackoffice.admin import ReadOnlyMixin
from staff.roles import command_permitted, commands_permitted
from stations import commands
from stations.dashboard.command_forms import guided_form
from stations.dashboard.station import known_configuration, station_overview
from stations.models import (
    ChargePoint,
    LocalListEntry,
    OcppMessage,
    Reservation,
    StationCommand,
    StationEvent,
    StatusEvent,
)


@admin.register(StationCommand)
class StationCommandAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "charge_point", "action", "state", "requested_by", "completed_at")
    list_select_related = ("charge_point", "requested_by")
    list_filter = ("state", "action")
    search_fields = ("charge_point__identity", "action")
    date_hierarchy = "created_at"
    fields = ("charge_point", "action", "state", "payload_json", "response_json", "error", "requested_by",
              "channel_name", "created_at", "sent_at", "completed_at")
    readonly_fields = fields

    @admin.display(description=_("payload"))
    def payload_json(self, command: StationCommand) -> str:
        return format_html("<pre>{}</pre>", json.dumps(command.payload, indent=2))

    @admin.display(description=_("response"))
    def response_json(self, command: StationCommand) -> str:
        if command.response is None:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(command.response, indent=2))


@admin.register(OcppMessage)
class OcppMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The journal of every frame. Filter by station (search its identity) and by action."""

    list_display = ("created_at", "charge_point", "direction", "message_type", "action", "unique_id", "short_frame")
    list_select_related = ("charge_point",)
    list_filter = ("direction", "message_type", "action")
    search_fields = ("=charge_point__identity", "=unique_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ("charge_point", "direction", "message_type", "action", "unique_id", "created_at", "pretty_frame")
    readonly_fields = fields

    @admin.display(description=_("frame"))
    def short_frame(self, message: OcppMessage) -> str:
        return message.frame if len(message.frame) <= 120 else message.frame[:117] + "..."

    @admin.display(description=_("frame"))
    def pretty_frame(self, message: OcppMessage) -> str:
        try:
            text = json.dumps(json.loads(message.frame), indent=2)
        except ValueError:
            text = message.frame
        return format_html("<pre>{}</pre>", text)


@admin.register(StatusEvent)
class StatusEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("timestamp", "charge_point", "connector", "status", "error_code", "info", "received_at")
    list_select_related = ("charge_point", "connector__evse")
    list_filter = ("status", "error_code")
    search_fields = ("=charge_point__identity",)
    date_hierarchy = "timestamp"
    show_full_result_count = False


@admin.register(StationEvent)
class StationEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("timestamp", "charge_point", "kind", "summary", "needs_review")
    list_select_related = ("charge_point",)
    list_filter = ("kind", "needs_review")
    search_fields = ("=charge_point__identity", "summary")
    date_hierarchy = "timestamp"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "charge_point", "connector_id", "id_tag", "expires_at", "state", "created_at")
    list_select_related = ("charge_point",)
    list_filter = ("state",)
    search_fields = ("=charge_point__identity", "id_tag")


@admin.register(LocalListEntry)
class LocalListEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("charge_point", "id_tag", "status", "expiry_date", "parent_id_tag")
    list_select_related = ("charge_point",)
    list_filter = ("status",)
    search_fields = ("=charge_point__identity", "id_tag")


# --- sending commands from the charge point admin ---------------------------------------------------------
class CommandForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in commands.COMMANDS_16])
    payload = forms.JSONField(
        initial=dict, required=False,
        help_text=_('The OCPP 1.6 request, e.g. {"type": "Soft"} for Reset. For SendLocalList, '
                    '{"updateType": "Differential"} builds the list from our tokens.'),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "style": "font-family: monospace"}),
    )
    confirm = forms.BooleanField(required=False, label=_("Yes, I mean it"))

    # Operations that interrupt charging or take a station out of service ask for confirmation.
    DISRUPTIVE = {"Reset", "RemoteStopTransaction", "UnlockConnector", "ChangeAvailability", "UpdateFirmware",
                  "ClearChargingProfile", "SetChargingProfile", "SendLocalList"}

    def clean(self):
        data = super().clean()
        if data.get("action") in self.DISRUPTIVE and not data.get("confirm"):
            raise ValidationError(_("%(action)s can interrupt charging: tick the confirmation box."),
                                  params={"action": data["action"]})
        if data.get("payload") is None:
            data["payload"] = {}
        if not isinstance(data["payload"], dict):
            self.add_error("payload", _("The payload is a JSON object."))
        return data


# The station view's buttons: (action, extra query, label, disruptive). Disruptive ones ask for confirmation.
GUIDED_BUTTONS = (
    ("RemoteStartTransaction", "", _("Remote start"), False),
    ("RemoteStopTransaction", "", _("Remote stop"), True),
    ("Reset", "type=Soft", _("Soft reset"), True),
    ("Reset", "type=Hard", _("Hard reset"), True),
    ("UnlockConnector", "", _("Unlock"), True),
    ("ChangeAvailability", "type=Inoperative", _("Change availability"), True),
    ("ChangeConfiguration", "", _("Change configuration"), False),
    ("TriggerMessage", "", _("Trigger message"), False),
    ("UpdateFirmware", "", _("Update firmware"), True),
    ("GetDiagnostics", "", _("Get diagnostics"), False),
    ("SendLocalList", "", _("Send local list"), False),
    ("ReserveNow", "", _("Reserve"), False),
    ("CancelReservation", "", _("Cancel reservation"), False),
    ("SetChargingProfile", "", _("Limit power (kW)"), False),
    ("ClearChargingProfile", "", _("Remove power limits"), False),
)

# Harmless commands without parameters: one click on the station view sends them.
QUICK_BUTTONS = (
    ("GetConfiguration", _("Get configuration")),
    ("ClearCache", _("Clear cache")),
    ("GetLocalListVersion", _("Get local list version")),
)


class ChargePointCommandsMixin:
    """Adds to the charge point admin: a page to send any command, recent commands, quick actions."""

    def get_urls(self):
        urls = super().get_urls()
        custom = [path("<path:object_id>/command/", self.admin_site.admin_view(self.command_view),
                       name="stations_chargepoint_command")]
        return custom + urls

    def command_view(self, request, object_id):
        charge_point = get_object_or_404(ChargePoint, pk=object_id)
        # Who may send what is the role's command permissions (staff.roles), not the right to edit the station:
        # support may stop a session or unlock a cable without being able to change the station's settings.
        action = request.GET.get("action", "")
        if not commands_permitted(request.user, commands.COMMANDS_16) or (
                action and action in commands.COMMANDS_16 and not command_permitted(request.user, action)):
            raise PermissionDenied
        guided = None if request.GET.get("raw") else guided_form(
            action, station=charge_point, data=request.POST if request.method == "POST" else None,
            initial=request.GET.dict())
        if guided is not None:
            return self._guided_command(request, charge_point, guided)
        form = CommandForm(request.POST or None, initial={"action": action})
        if request.method == "POST" and form.is_valid():
            command = self._send(request, charge_point, form, form.cleaned_data["action"],
                                 form.cleaned_data["payload"])
            if command is not None:
                return redirect(reverse("admin:stations_chargepoint_change", args=[charge_point.pk]) + "#commands"
                                if request.GET.get("back") else
                                reverse("admin:stations_stationcommand_change", args=[command.pk]))
        return self._command_page(request, charge_point, form, _("Send a command to %s") % charge_point)

    def _guided_command(self, request, charge_point, form):
        if request.method == "POST" and form.is_valid():
            command = self._send(request, charge_point, form, form.action, form.payload(form.cleaned_data))
            if command is not None:
                return redirect(reverse("admin:stations_chargepoint_change", args=[charge_point.pk]) + "#commands")
        title = _("%(command)s: %(station)s") % {"command": form.label, "station": charge_point}
        return self._command_page(request, charge_point, form, title, action=form.action)

    def _send(self, request, charge_point, form, action: str, payload: dict):
        """The command service, its refusal shown on the form; None when refused."""
        try:
            command = commands.command_request_for_operator(
                charge_point=charge_point, action=action, payload=payload, requested_by=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return None
        level = messages.SUCCESS if command.state == StationCommand.State.PENDING else messages.WARNING
        self.message_user(request, _("%(action)s: %(state)s.") % {
            "action": command.action, "state": command.get_state_display()}, level)
        return command

    def _command_page(self, request, charge_point, form, title, action: str = ""):
        context = {**self.admin_site.each_context(request), "title": title, "submit": _("Send"), "form": form,
                   "charge_point": charge_point, "opts": self.model._meta, "guided_action": action,
                   "known_keys": known_configuration(charge_point)["keys"] if action == "ChangeConfiguration" else [],
                   "recent": charge_point.commands.select_related("requested_by")[:10]}
        return TemplateResponse(request, "admin/stations/chargepoint/command.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The station view: live panels above the station's form (see stations/dashboard/station.py)."""
        charge_point = self.get_object(request, object_id)
        if charge_point is not None:
            guided = [button for button in GUIDED_BUTTONS if command_permitted(request.user, button[0])]
            quick = [button for button in QUICK_BUTTONS if command_permitted(request.user, button[0])]
            extra_context = {**(extra_context or {}), **station_overview(charge_point),
                             "can_command": bool(guided or quick),
                             "can_configure": command_permitted(request.user, "ChangeConfiguration"),
                             "guided_actions": guided, "quick_actions": quick}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("commands"))
    def commands_panel(self, charge_point: ChargePoint) -> str:
        if charge_point.pk is None:
            return "-"
        send = reverse("admin:stations_chargepoint_command", args=[charge_point.pk])
        recent = charge_point.commands.all()[:5]
        rows = format_html_join(
            "", "<li>{} {} <strong>{}</strong></li>",
            ((c.created_at.strftime("%Y-%m-%d %H:%M:%S"), c.action, c.get_state_display()) for c in recent),
        )
        history = reverse("admin:stations_stationcommand_changelist") + f"?charge_point__id__exact={charge_point.pk}"
        journal = reverse("admin:stations_ocppmessage_changelist") + f"?q={charge_point.identity}"
        return format_html('<a class="button" href="{}">{}</a> <a href="{}">{}</a> · <a href="{}">{}</a><ul>{}</ul>',
                           send, _("Send a command"), history, _("all commands"), journal, _("message journal"),
                           rows)

    def _queue_for_each(self, request, queryset, action: str, payload: dict) -> None:
        results = {"queued": 0, "offline": 0}
        for charge_point in queryset:
            command = commands.command_request_for_operator(
                charge_point=charge_point, action=action, payload=payload, requested_by=request.user)
            results["queued" if command.state == StationCommand.State.PENDING else "offline"] += 1
        self.message_user(request, _("%(action)s sent to %(queued)d station(s); %(offline)d offline.") % {
            "action": action, **results})

    @admin.action(description=_("Soft reset the selected stations"), permissions=["change"])
    def soft_reset(self, request, queryset):
        self._queue_for_each(request, queryset, "Reset", {"type": "Soft"})

    @admin.action(description=_("Ask the selected stations for their configuration"), permissions=["change"])
    def get_configuration(self, request, queryset):
        self._queue_for_each(request, queryset, "GetConfiguration", {})

    @admin.action(description=_("Send the local authorisation list (changes only)"), permissions=["change"])
    def send_local_list(self, request, queryset):
        self._queue_for_each(request, queryset, "SendLocalList", {"updateType": "Differential"})

    @admin.action(description=_("Ask the selected stations to report their status"), permissions=["change"])
    def trigger_status(self, request, queryset):
        self._queue_for_each(request, queryset, "TriggerMessage", {"requestedMessage": "StatusNotification"})
