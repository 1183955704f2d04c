"""REST API for charge detail records: read-only, in the OCPI 2.2.1 CDR form, with the plain-language explanation
of each record's price at `/cdrs/{id}/explanation/` (kept out of the CDR object so that it stays pure OCPI)."""

from datetime import UTC, datetime, time

from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.cdrs import cdr_list, cdr_to_ocpi
from billing.models import ChargeDetailRecord

NUMBER = {"max_digits": 20, "decimal_places": 4, "coerce_to_string": False, "read_only": True}


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeField(serializers.Field):
    """An ISO 8601 date (its midnight, UTC) or date-time (without an offset: UTC)."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date (2026-06-01) or date-time (2026-06-01T08:00:00Z).",
    }

    def to_internal_value(self, data) -> datetime:
        text = str(data).strip()
        try:
            moment = parse_datetime(text)
            if moment is None and (day := parse_date(text)) is not None:
                moment = datetime.combine(day, time.min)
        except ValueError:  # well-formed but impossible, e.g. 2026-02-30
            moment = None
        if moment is None:
            self.fail("invalid")
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def to_representation(self, value):
        return value.isoformat()


class CdrQuerySerializer(serializers.Serializer):
    charge_point = serializers.CharField(required=False, help_text="OCPP identity of the charge point.")
    transaction_id = serializers.CharField(required=False, help_text="The station's transaction id.")
    customer = serializers.CharField(required=False, help_text="Customer id or customer number (C...).")
    date_from = DateOrDateTimeField(required=False, help_text="Sessions started at or after this (UTC).")
    date_to = DateOrDateTimeField(required=False, help_text="Sessions started before this (UTC, exclusive).")


class CdrPriceSerializer(serializers.Serializer):
    excl_vat = serializers.DecimalField(**NUMBER)
    incl_vat = serializers.DecimalField(**NUMBER)


class CdrTokenSerializer(serializers.Serializer):
    country_code = serializers.CharField(read_only=True)
    party_id = serializers.CharField(read_only=True)
    uid = serializers.CharField(read_only=True)
    type = serializers.CharField(read_only=True, help_text="OCPI TokenType: RFID, APP_USER, AD_HOC_USER or OTHER.")
    contract_id = serializers.CharField(read_only=True)


class CdrGeoLocationSerializer(serializers.Serializer):
    latitude = serializers.CharField(read_only=True)
    longitude = serializers.CharField(read_only=True)


class CdrLocationSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    city = serializers.CharField(read_only=True)
    postal_code = serializers.CharField(read_only=True)
    country = serializers.CharField(read_only=True, help_text="ISO 3166-1 alpha-3.")
    coordinates = CdrGeoLocationSerializer(read_only=True)
    evse_uid = serializers.CharField(read_only=True)
    evse_id = serializers.CharField(read_only=True)
    connector_id = serializers.CharField(read_only=True)
    connector_standard = serializers.CharField(read_only=True)
    connector_format = serializers.CharField(read_only=True)
    connector_power_type = serializers.CharField(read_only=True)


class CdrDimensionSerializer(serializers.Serializer):
    type = serializers.CharField(
        read_only=True,
        help_text="ENERGY (kWh), TIME, PARKING_TIME, RESERVATION_TIME (h), MAX_POWER (kW), MAX_CURRENT (A).",
    )
    volume = serializers.DecimalField(**NUMBER)


class CdrChargingPeriodSerializer(serializers.Serializer):
    start_date_time = serializers.DateTimeField(read_only=True)
    dimensions = CdrDimensionSerializer(many=True, read_only=True)
    tariff_id = serializers.CharField(read_only=True, required=False)


class OcpiCdrSerializer(serializers.Serializer):
    """An OCPI 2.2.1 CDR object (mod_cdrs). Amounts of a credit record's `total_cost` are negative."""

    country_code = serializers.CharField(read_only=True)
    party_id = serializers.CharField(read_only=True)
    id = serializers.CharField(read_only=True)
    start_date_time = serializers.DateTimeField(read_only=True)
    end_date_time = serializers.DateTimeField(read_only=True)
    session_id = serializers.CharField(read_only=True)
    cdr_token = CdrTokenSerializer(read_only=True)
    auth_method = serializers.CharField(read_only=True)
    cdr_location = CdrLocationSerializer(read_only=True)
    currency = serializers.CharField(read_only=True)
    tariffs = serializers.ListField(child=serializers.DictField(), read_only=True, help_text="OCPI Tariff objects.")
    charging_periods = CdrChargingPeriodSerializer(many=True, read_only=True)
    total_cost = CdrPriceSerializer(read_only=True)
    total_fixed_cost = CdrPriceSerializer(read_only=True)
    total_energy = serializers.DecimalField(**NUMBER, help_text="kWh.")
    total_energy_cost = CdrPriceSerializer(read_only=True)
    total_time = serializers.DecimalField(**NUMBER, help_text="Hours, charging and not charging.")
    total_time_cost = CdrPriceSerializer(read_only=True)
    total_parking_time = serializers.DecimalField(**NUMBER, help_text="Hours not charging.")
    total_parking_cost = CdrPriceSerializer(read_only=True)
    total_reservation_cost = CdrPriceSerializer(read_only=True, required=False)
    remark = serializers.CharField(read_only=True, required=False)
    credit = serializers.BooleanField(read_only=True)
    credit_reference_id = serializers.CharField(read_only=True, required=False)
    last_updated = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: ChargeDetailRecord) -> dict:
        return cdr_to_ocpi(instance)


class CdrVatLineSerializer(serializers.Serializer):
    rate = serializers.CharField(read_only=True, allow_null=True, help_text="VAT %; null: no VAT applies.")
    excl_vat = serializers.CharField(read_only=True)
    vat = serializers.CharField(read_only=True)
    incl_vat = serializers.CharField(read_only=True)


class CdrExplanationSerializer(serializers.Serializer):
    """Why a record costs what it costs: the lines drivers and staff read, and the exact VAT breakdown after
    discounts (decimal strings, to a millionth; an invoice rounds per VAT rate once)."""

    id = serializers.CharField(source="ocpi_id", read_only=True)
    kind = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    lines = serializers.ListField(source="explanation", child=serializers.CharField(), read_only=True)
    tariff_cost_excl_vat = serializers.DecimalField(**NUMBER)
    tariff_cost_incl_vat = serializers.DecimalField(**NUMBER)
    discount_excl_vat = serializers.DecimalField(**NUMBER)
    discount_incl_vat = serializers.DecimalField(**NUMBER)
    total_cost_excl_vat = serializers.DecimalField(**NUMBER)
    total_cost_incl_vat = serializers.DecimalField(**NUMBER)
    vat_breakdown = CdrVatLineSerializer(many=True, read_only=True)
    discounts = serializers.ListField(child=serializers.DictField(), read_only=True)
    reason = serializers.CharField(read_only=True)


class ChargeDetailRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Charge detail records, newest first, as OCPI 2.2.1 CDR objects. Records are never changed: a correction
    is a credit record (`credit`: true, negative `total_cost`) and a new record."""
    permission_model = ChargeDetailRecord

    serializer_class = OcpiCdrSerializer
    filter_backends = []  # the filters are the query parameters below, validated as a whole

    def get_queryset(self):
        if self.action != "list":
            return cdr_list()
        query = CdrQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return cdr_list(**query.validated_data)

    @extend_schema(parameters=[CdrQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=CdrExplanationSerializer)
    @action(detail=True, methods=["get"], serializer_class=CdrExplanationSerializer)
    def explanation(self, request, pk=None):
        return Response(CdrExplanationSerializer(self.get_object()).data)
