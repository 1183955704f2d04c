"""REST API for locations and charge points (with their EVSEs and connectors); writes go through services.

There is no DELETE: charging sessions and charge records refer to this equipment.
"""

from contextlib import contextmanager

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from rest_framework import mixins, serializers, viewsets
from rest_framework.settings import api_settings

from stations import commands
from stations.models import ChargePoint, Connector, Evse, Location, StationCommand
from stations.services import network as network_services


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = [
            "id", "code", "name", "address", "postal_code", "city", "country", "latitude", "longitude",
            "time_zone", "opening_hours", "is_published", "created_at", "updated_at",
        ]
        # The database's range constraints would only report a nameless violation; say which field.
        extra_kwargs = {
            "latitude": {"min_value": -90, "max_value": 90},
            "longitude": {"min_value": -180, "max_value": 180},
        }


class ConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = [
            "id", "ocpp_connector_id", "standard", "format", "power_type", "max_voltage_v", "max_amperage_a",
            "max_power_w", "status", "error_code", "status_changed_at",
        ]
        # Status comes from the station (StatusNotification), never from an operator's request.
        read_only_fields = ["status", "error_code", "status_changed_at"]
        # As for Location: name the field rather than report a nameless "... positive" constraint violation.
        extra_kwargs = {"ocpp_connector_id": {"min_value": 1}, "max_power_w": {"min_value": 1}}


class EvseSerializer(serializers.ModelSerializer):
    connectors = ConnectorSerializer(many=True, required=False)

    class Meta:
        model = Evse
        fields = ["id", "ocpp_evse_id", "evse_id", "physical_reference", "connectors"]
        # The model normalises the id (case, blanks) before validating it, and uniqueness depends on which
        # EVSE an entry updates: both are for the service's full_clean(), not for validators on raw input.
        extra_kwargs = {"evse_id": {"validators": []}}

    def validate(self, attrs):
        # Required even in a PATCH: it is the key that matches an entry to an existing EVSE.
        if "ocpp_evse_id" not in attrs:
            raise serializers.ValidationError({"ocpp_evse_id": ["This field is required."]})
        return attrs


class ChargePointSerializer(serializers.ModelSerializer):
    """A charge point with its EVSEs and their connectors.

    Create takes nested ``evses``, each with nested ``connectors``, in one transaction. PUT and PATCH
    change the station's own fields; without ``evses`` its EVSEs are left alone; with ``evses`` each
    entry updates the EVSE with the same ``ocpp_evse_id`` (its connectors matched by ``ocpp_connector_id``,
    default 1) or adds it. EVSEs and connectors not listed are kept, never deleted. ``password`` is
    write-only and stored hashed; leaving it out keeps the current one.
    """

    evses = EvseSerializer(many=True, required=False)
    password = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, style={"input_type": "password"},
        min_length=ChargePoint.PASSWORD_MIN_LENGTH, max_length=ChargePoint.PASSWORD_MAX_LENGTH,
        help_text="Basic-auth password of the station (OCPP security profiles 1 and 2), 16 to 40 characters.",
    )
    has_password = serializers.BooleanField(read_only=True)

    class Meta:
        model = ChargePoint
        fields = [
            "id", "location", "identity", "ocpp_version", "security_profile", "registration_status",
            "password", "has_password", "vendor", "model", "serial_number", "firmware_version", "iccid", "imsi",
            "meter_type", "meter_serial_number", "is_connected", "connected_at", "last_seen_at", "status",
            "error_code", "firmware_status", "diagnostics_status", "created_at", "updated_at", "evses",
        ]
        # What the station reports about its connection and state; an operator's request cannot change it.
        read_only_fields = ["is_connected", "connected_at", "last_seen_at", "status", "error_code",
                            "firmware_status", "diagnostics_status"]


class LocationFilter(django_filters.FilterSet):
    city = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Location
        fields = ["country", "city", "is_published"]


class ChargePointFilter(django_filters.FilterSet):
    class Meta:
        model = ChargePoint
        fields = ["location", "registration_status", "is_connected", "ocpp_version"]


def _nest(errors: dict) -> dict:
    """Turns the services' dotted error paths (``evses.1.evse_id``) into DRF's nested error shape.

    Like DRF 3.18's own list errors, entries of a list are keyed by their index, only those with errors.
    """
    tree: dict = {}
    for path, messages in errors.items():
        node = tree
        *parents, leaf = [int(part) if part.isdigit() else part for part in path.split(".")]
        for part in parents:
            node = node.setdefault(part, {})
        node[api_settings.NON_FIELD_ERRORS_KEY if leaf == "__all__" else leaf] = messages
    return tree


@contextmanager
def _service_errors_as_400():
    # The project's exception handler would answer 400 too, but with the dotted paths flat and "__all__".
    try:
        yield
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        raise serializers.ValidationError(_nest(detail)) from None


class _NoDeleteViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    pass


class LocationViewSet(_NoDeleteViewSet):
    queryset = Location.objects.all()
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    search_fields = ["name", "city", "code"]
    ordering_fields = ["name", "city", "code", "created_at"]

    def perform_create(self, serializer):
        with _service_errors_as_400():
            serializer.instance = network_services.location_create(**serializer.validated_data)

    def perform_update(self, serializer):
        with _service_errors_as_400():
            serializer.instance = network_services.location_update(
                location=serializer.instance, data=serializer.validated_data
            )


class ChargePointViewSet(_NoDeleteViewSet):
    queryset = ChargePoint.objects.prefetch_related("evses__connectors")
    serializer_class = ChargePointSerializer
    filterset_class = ChargePointFilter
    search_fields = ["identity", "vendor", "model", "serial_number"]
    ordering_fields = ["identity", "last_seen_at", "created_at"]

    def perform_create(self, serializer):
        with _service_errors_as_400():
            serializer.instance = network_services.charge_point_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        password, evses = data.pop("password", ""), data.pop("evses", None)
        with _service_errors_as_400():
            serializer.instance = network_services.charge_point_update(
                charge_point=serializer.instance, data=data, password=password, evses=evses
            )


# --- commands to a station ----------------------------------------------------------------------------------
class StationCommandSerializer(serializers.ModelSerializer):
    """An OCPP operation sent to the station. ``payload`` is the OCPP 1.6 request exactly as the
    specification names its fields (camelCase). For SendLocalList, give only ``{"updateType": "Full"}`` or
    ``{"updateType": "Differential"}`` and the list is built from our tokens; ReserveNow gets its
    ``reservationId`` from us. The answer arrives asynchronously: poll the command until ``state`` is final.
    """

    action = serializers.ChoiceField(choices=commands.COMMANDS_16)
    payload = serializers.JSONField(default=dict, help_text="The OCPP request payload (camelCase fields).")
    requested_by = serializers.StringRelatedField()

    class Meta:
        model = StationCommand
        fields = ["id", "action", "payload", "state", "response", "error", "requested_by", "created_at",
                  "sent_at", "completed_at"]
        read_only_fields = ["state", "response", "error", "created_at", "sent_at", "completed_at"]

    def validate_payload(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("The payload is a JSON object.")
        return value


class StationCommandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            viewsets.GenericViewSet):
    """Commands of one charge point, addressed by its OCPP identity."""
    permission_model = StationCommand

    serializer_class = StationCommandSerializer
    filterset_fields = ["state", "action"]
    ordering_fields = ["created_at"]

    def get_charge_point(self) -> ChargePoint:
        return get_object_or_404(ChargePoint, identity=self.kwargs["identity"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StationCommand.objects.none()
        return StationCommand.objects.filter(charge_point=self.get_charge_point()).select_related("requested_by")

    def perform_create(self, serializer):
        charge_point = self.get_charge_point()
        with _service_errors_as_400():
            serializer.instance = commands.command_request_for_operator(
                charge_point=charge_point, action=serializer.validated_data["action"],
                payload=serializer.validated_data["payload"], requested_by=self.request.user,
            )
