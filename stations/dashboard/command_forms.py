"""Guided forms for the station view's command buttons: each asks for what an operator knows (a connector, a
limit in kW, a configuration key) and builds the OCPP 1.6 request, which then goes through the one command
service like any other (stations.commands.command_request_for_operator)."""

from datetime import UTC, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stations.models import ChargePoint, ChargingSession, Reservation

TRIGGERABLE = ("StatusNotification", "MeterValues", "Heartbeat", "BootNotification", "FirmwareStatusNotification",
               "DiagnosticsStatusNotification")


def ocpp_time(moment) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class GuidedCommandForm(forms.Form):
    """Base: `action`, a `payload()` from the cleaned data, and a confirmation when `disruptive()` says so."""

    action = ""
    label = ""
    confirm_label = _("Yes, I mean it: this interrupts charging or takes the station out of service")

    def __init__(self, *args, station: ChargePoint, **kwargs):
        self.station = station
        super().__init__(*args, **kwargs)
        if self.may_be_disruptive():
            self.fields["confirm"] = forms.BooleanField(required=False, label=self.confirm_label)

    def may_be_disruptive(self) -> bool:
        return False

    def disruptive(self, data: dict) -> bool:
        return self.may_be_disruptive()

    def payload(self, data: dict) -> dict:
        return {}

    def clean(self):
        data = super().clean()
        if not self.errors and self.disruptive(data) and not data.get("confirm"):
            raise ValidationError(_("%(action)s can interrupt charging or take the station out of service: tick "
                                    "the confirmation box."), params={"action": self.label})
        return data

    def connector_choices(self, *, station_wide: str | None = None) -> list[tuple[int, str]]:
        numbers = self.station.evses.order_by("ocpp_evse_id").values_list("ocpp_evse_id", "evse_id")
        choices = [(number, f"{number} ({evse_id})" if evse_id else str(number)) for number, evse_id in numbers]
        return ([(0, station_wide)] if station_wide else []) + choices


class ConnectorMixin:
    station_wide: str | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"] = forms.TypedChoiceField(
            label=_("connector"), coerce=int, choices=self.connector_choices(station_wide=self.station_wide))
        self.order_fields(["connector"])


class RemoteStartForm(ConnectorMixin, GuidedCommandForm):
    action, label = "RemoteStartTransaction", _("Remote start")
    id_tag = forms.CharField(label=_("id tag"), max_length=20, help_text=_("The token to charge for (its UID)."))

    def payload(self, data):
        return {"connectorId": data["connector"], "idTag": data["id_tag"]}


class RemoteStopForm(GuidedCommandForm):
    action, label = "RemoteStopTransaction", _("Remote stop")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        running = ChargingSession.objects.filter(charge_point=self.station, state=ChargingSession.State.ACTIVE)
        self.fields["transaction"] = forms.TypedChoiceField(label=_("session"), coerce=int, choices=[
            (session.transaction_id, f"tx {session.transaction_id} on EVSE {session.evse.ocpp_evse_id}, "
                                     f"{session.id_tag}, since {session.started_at:%Y-%m-%d %H:%M} UTC")
            for session in running.select_related("evse").order_by("started_at")])
        self.order_fields(["transaction"])

    def may_be_disruptive(self):
        return True

    def payload(self, data):
        return {"transactionId": data["transaction"]}


class ResetForm(GuidedCommandForm):
    action, label = "Reset", _("Reset")
    type = forms.ChoiceField(label=_("type"), choices=[("Soft", _("Soft: restart the software")),
                                                       ("Hard", _("Hard: reboot the hardware"))])

    def may_be_disruptive(self):
        return True

    def payload(self, data):
        return {"type": data["type"]}


class UnlockForm(ConnectorMixin, GuidedCommandForm):
    action, label = "UnlockConnector", _("Unlock connector")

    def may_be_disruptive(self):
        return True

    def payload(self, data):
        return {"connectorId": data["connector"]}


class ChangeAvailabilityForm(ConnectorMixin, GuidedCommandForm):
    action, label = "ChangeAvailability", _("Change availability")
    station_wide = _("0 (the whole station)")
    type = forms.ChoiceField(label=_("availability"), choices=[("Operative", _("Operative")),
                                                               ("Inoperative", _("Inoperative"))])

    def may_be_disruptive(self):
        return True

    def disruptive(self, data):
        return data.get("type") == "Inoperative"

    def payload(self, data):
        return {"connectorId": data["connector"], "type": data["type"]}


class GetConfigurationForm(GuidedCommandForm):
    action, label = "GetConfiguration", _("Get configuration")
    keys = forms.CharField(label=_("keys"), required=False,
                           help_text=_("Comma-separated; empty asks for every key (the station view lists them)."))

    def payload(self, data):
        keys = [key.strip() for key in data["keys"].split(",") if key.strip()]
        return {"key": keys} if keys else {}


class ChangeConfigurationForm(GuidedCommandForm):
    action, label = "ChangeConfiguration", _("Change configuration")
    key = forms.CharField(label=_("key"), max_length=50, widget=forms.TextInput(attrs={"list": "known-keys"}))
    value = forms.CharField(label=_("value"), max_length=500, required=False, strip=False)

    def payload(self, data):
        return {"key": data["key"], "value": data["value"]}


class TriggerMessageForm(ConnectorMixin, GuidedCommandForm):
    action, label = "TriggerMessage", _("Trigger message")
    station_wide = _("0 (the whole station)")
    requested_message = forms.ChoiceField(label=_("message"), choices=[(m, m) for m in TRIGGERABLE])

    def payload(self, data):
        return {"requestedMessage": data["requested_message"],
                **({"connectorId": data["connector"]} if data["connector"] else {})}


class UpdateFirmwareForm(GuidedCommandForm):
    action, label = "UpdateFirmware", _("Update firmware")
    location = forms.URLField(label=_("firmware URL"), assume_scheme="https",
                              help_text=_("Where the station downloads the image (http, https or ftp)."))
    retrieve_date = forms.DateTimeField(label=_("not before"), required=False,
                                        help_text=_("Empty: now. Your time zone as set in the admin."))
    retries = forms.IntegerField(label=_("retries"), min_value=0, max_value=10, required=False)

    def may_be_disruptive(self):
        return True

    def payload(self, data):
        return {"location": data["location"], "retrieveDate": ocpp_time(data["retrieve_date"] or timezone.now()),
                **({"retries": data["retries"]} if data["retries"] is not None else {})}


class GetDiagnosticsForm(GuidedCommandForm):
    action, label = "GetDiagnostics", _("Get diagnostics")
    location = forms.URLField(label=_("upload URL"), assume_scheme="https",
                              help_text=_("Where the station uploads its diagnostics file (ftp or http)."))
    start_time = forms.DateTimeField(label=_("from"), required=False)
    stop_time = forms.DateTimeField(label=_("until"), required=False)

    def payload(self, data):
        times = {"startTime": data["start_time"], "stopTime": data["stop_time"]}
        return {"location": data["location"], **{k: ocpp_time(v) for k, v in times.items() if v}}


class SendLocalListForm(GuidedCommandForm):
    action, label = "SendLocalList", _("Send local list")
    update_type = forms.ChoiceField(label=_("send"), choices=[
        ("Differential", _("the changes since the last list sent")), ("Full", _("the full list of our tokens"))])

    def payload(self, data):
        return {"updateType": data["update_type"]}  # the command service fills in the list


class ReserveForm(ConnectorMixin, GuidedCommandForm):
    action, label = "ReserveNow", _("Reserve")
    station_wide = _("0 (any connector of the station)")
    id_tag = forms.CharField(label=_("id tag"), max_length=20)
    minutes = forms.IntegerField(label=_("for minutes"), min_value=1, max_value=24 * 60, initial=30)

    def payload(self, data):
        return {"connectorId": data["connector"], "idTag": data["id_tag"],
                "expiryDate": ocpp_time(timezone.now() + timedelta(minutes=data["minutes"]))}


class CancelReservationForm(GuidedCommandForm):
    action, label = "CancelReservation", _("Cancel reservation")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        open_ones = self.station.reservations.filter(state__in=(Reservation.State.REQUESTED, Reservation.State.ACTIVE))
        self.fields["reservation"] = forms.TypedChoiceField(label=_("reservation"), coerce=int, choices=[
            (r.pk, f"{r.pk}: {r.id_tag} on connector {r.connector_id} until {r.expires_at:%Y-%m-%d %H:%M} UTC")
            for r in open_ones])

    def payload(self, data):
        return {"reservationId": data["reservation"]}


class ChargingLimitForm(ConnectorMixin, GuidedCommandForm):
    """SetChargingProfile as operators think of it: "limit to X kW", for the whole station (its maximum) or for
    each session on one connector (its default). Sending again replaces the previous limit (same profile id)."""

    action, label = "SetChargingProfile", _("Charging limit")
    station_wide = _("0 (the whole station)")
    limit_kw = forms.DecimalField(label=_("limit (kW)"), min_value=Decimal("0"), max_value=Decimal("4000"),
                                  decimal_places=1)

    STATION_PROFILE_ID = 1
    CONNECTOR_PROFILE_BASE = 100

    def payload(self, data):
        limit_w = int(data["limit_kw"] * 1000)
        schedule = {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_w}]}
        if data["connector"] == 0:
            profile = {"chargingProfileId": self.STATION_PROFILE_ID, "stackLevel": 0,
                       "chargingProfilePurpose": "ChargePointMaxProfile", "chargingProfileKind": "Absolute",
                       "chargingSchedule": {**schedule, "startSchedule": ocpp_time(timezone.now())}}
        else:
            profile = {"chargingProfileId": self.CONNECTOR_PROFILE_BASE + data["connector"], "stackLevel": 0,
                       "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Relative",
                       "chargingSchedule": schedule}
        return {"connectorId": data["connector"], "csChargingProfiles": profile}


class ClearLimitForm(ConnectorMixin, GuidedCommandForm):
    action, label = "ClearChargingProfile", _("Remove charging limits")
    station_wide = _("0 (the whole station)")

    def payload(self, data):
        return {"connectorId": data["connector"]} if data["connector"] else {}


class NoFieldsForm(GuidedCommandForm):
    """Commands without parameters (ClearCache, GetLocalListVersion)."""

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = self.label = action


GUIDED = {form.action: form for form in (
    RemoteStartForm, RemoteStopForm, ResetForm, UnlockForm, ChangeAvailabilityForm, GetConfigurationForm,
    ChangeConfigurationForm, TriggerMessageForm, UpdateFirmwareForm, GetDiagnosticsForm, SendLocalListForm,
    ReserveForm, CancelReservationForm, ChargingLimitForm, ClearLimitForm,
)}
WITHOUT_FIELDS = ("ClearCache", "GetLocalListVersion")


def guided_form(action: str, *, station: ChargePoint, data=None, initial=None) -> GuidedCommandForm | None:
    if action in GUIDED:
        return GUIDED[action](data, station=station, initial=initial)
    if action in WITHOUT_FIELDS:
        return NoFieldsForm(data, station=station, initial=initial, action=action)
    return None
