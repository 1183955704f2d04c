"""REST API for tariffs (as OCPI 2.2.1 Tariff documents) and tariff assignments; writes go through
`billing.tariffs`.

A tariff is read and written as the OCPI Tariff object, exactly: POST and PUT take a document as a partner
would send it (unknown fields are refused so a misspelt restriction cannot vanish) and answer with the stored
one. Our own metadata is under the one non-OCPI key `_backoffice` ({pk, name, summary}); it is ignored on
input, so a GET can be edited and PUT back. Invalid documents answer 400 keyed by the OCPI path:
`{"elements[0].price_components[1].step_size": ["must not be negative"]}`.
"""

from contextlib import contextmanager

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings

from billing import tariffs
from billing.models import Tariff, TariffAssignment, TariffElement
from billing.pricing import DayOfWeek, Dimension, ReservationRestriction, TariffError, TariffType

META_KEY = "_backoffice"


# --- the OCPI Tariff object, described for the OpenAPI schema (the pricing engine validates documents) -----


def _ocpi_enum(enum):
    """A string field documented with the OCPI enum's values as a pattern: several OCPI enums are called
    `type`, and drf-spectacular would turn an `enum` into named components that collide."""
    values = [member.value for member in enum]

    @extend_schema_field({"type": "string", "pattern": f"^({'|'.join(values)})$", "description": ", ".join(values)})
    class OcpiEnumField(serializers.CharField):
        pass

    return OcpiEnumField


class _PriceSerializer(serializers.Serializer):
    excl_vat = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False)
    incl_vat = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False, required=False)


class _DynamicPriceSerializer(serializers.Serializer):
    feed = serializers.CharField(help_text="Code of a price feed (/api/v1/price-feeds/).")
    margin = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False, required=False)
    min_price = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False, required=False)
    max_price = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False, required=False)


class _PriceComponentSerializer(serializers.Serializer):
    type = _ocpi_enum(Dimension)()
    price = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False,
                                     help_text="Excl. VAT, per kWh, per hour or per session.")
    vat = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=False, required=False)
    step_size = serializers.IntegerField(min_value=0, help_text="Wh for ENERGY, seconds for TIME and PARKING_TIME.")
    dynamic_price = _DynamicPriceSerializer(required=False, help_text="Not OCPI: the energy price follows a feed.")


class _RestrictionsSerializer(serializers.Serializer):
    start_time = serializers.CharField(required=False, help_text="HH:MM, the location's local time.")
    end_time = serializers.CharField(required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    min_kwh = serializers.FloatField(required=False)
    max_kwh = serializers.FloatField(required=False)
    min_current = serializers.FloatField(required=False)
    max_current = serializers.FloatField(required=False)
    min_power = serializers.FloatField(required=False)
    max_power = serializers.FloatField(required=False)
    min_duration = serializers.IntegerField(required=False)
    max_duration = serializers.IntegerField(required=False)
    day_of_week = serializers.ListField(child=_ocpi_enum(DayOfWeek)(), required=False)
    reservation = _ocpi_enum(ReservationRestriction)(required=False)


class _ElementSerializer(serializers.Serializer):
    price_components = _PriceComponentSerializer(many=True)
    restrictions = _RestrictionsSerializer(required=False)


class _DisplayTextSerializer(serializers.Serializer):
    language = serializers.CharField(max_length=2)
    text = serializers.CharField(max_length=512)


class OcpiTariffSerializer(serializers.Serializer):
    """An OCPI 2.2.1 Tariff object; country_code, party_id, id and last_updated are optional here."""

    country_code = serializers.CharField(max_length=2, required=False)
    party_id = serializers.CharField(max_length=3, required=False)
    id = serializers.CharField(max_length=36, required=False)
    currency = serializers.CharField(max_length=3)
    type = _ocpi_enum(TariffType)(required=False)
    tariff_alt_text = _DisplayTextSerializer(many=True, required=False)
    tariff_alt_url = serializers.URLField(required=False)
    min_price = _PriceSerializer(required=False)
    max_price = _PriceSerializer(required=False)
    elements = _ElementSerializer(many=True)
    start_date_time = serializers.DateTimeField(required=False)
    end_date_time = serializers.DateTimeField(required=False)
    energy_mix = serializers.JSONField(required=False)
    last_updated = serializers.DateTimeField(required=False)


class _BackofficeSerializer(serializers.Serializer):
    pk = serializers.IntegerField()
    name = serializers.CharField()
    summary = serializers.CharField(help_text="What drivers see: prices incl. VAT, in plain words.")


class TariffDocumentSerializer(OcpiTariffSerializer):
    """The stored tariff as an OCPI Tariff object, with our metadata under `_backoffice`."""

    def get_fields(self):
        fields = super().get_fields()
        fields[META_KEY] = _BackofficeSerializer()
        return fields


def tariff_document(tariff: Tariff) -> dict:
    document = tariffs.tariff_to_ocpi_document(tariff)
    document[META_KEY] = {"pk": tariff.pk, "name": tariff.name, "summary": tariffs.tariff_summary(tariff)}
    return document


@contextmanager
def _tariff_errors_as_400():
    try:
        yield
    except TariffError as exc:
        field = api_settings.NON_FIELD_ERRORS_KEY if exc.field in ("", "tariff") else exc.field
        raise serializers.ValidationError({field: [exc.rule]}) from None


def _document_from(request) -> dict:
    if not isinstance(request.data, dict):
        raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: ["Send an OCPI Tariff JSON object."]})
    return {key: value for key, value in request.data.items() if key != META_KEY}


_NAME = OpenApiParameter("name", str, description="Internal name (default: the English alt text or the id).")


@extend_schema_view(
    list=extend_schema(responses=TariffDocumentSerializer(many=True)),
    retrieve=extend_schema(responses=TariffDocumentSerializer),
    create=extend_schema(request=OcpiTariffSerializer, responses={201: TariffDocumentSerializer}, parameters=[_NAME]),
    update=extend_schema(request=OcpiTariffSerializer, responses=TariffDocumentSerializer, parameters=[_NAME]),
    destroy=extend_schema(responses={204: None}),
)
class TariffViewSet(viewsets.GenericViewSet):
    """Tariffs as OCPI 2.2.1 Tariff documents; `{id}` is our primary key (`_backoffice.pk`). DELETE is refused
    for a tariff that is assigned or named by charge records."""

    queryset = Tariff.objects.prefetch_related(
        Prefetch("elements", queryset=TariffElement.objects.select_related("energy_feed"))
    )
    serializer_class = TariffDocumentSerializer
    filterset_fields = ["currency", "type"]
    search_fields = ["name", "ocpi_id"]
    ordering_fields = ["name", "last_updated", "created_at"]

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([tariff_document(tariff) for tariff in page])

    def retrieve(self, request, pk=None):
        return Response(tariff_document(self.get_object()))

    def create(self, request):
        with _tariff_errors_as_400():
            tariff = tariffs.tariff_create_from_ocpi(
                document=_document_from(request), name=request.query_params.get("name")
            )
        return Response(tariff_document(tariff), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        tariff = self.get_object()
        with _tariff_errors_as_400():
            tariff = tariffs.tariff_update_from_ocpi(tariff=tariff, document=_document_from(request))
        if request.query_params.get("name"):
            Tariff.objects.filter(pk=tariff.pk).update(name=request.query_params["name"][:100])
            tariff.refresh_from_db()
        return Response(tariff_document(tariff))

    def destroy(self, request, pk=None):
        with _tariff_errors_as_400():
            tariffs.tariff_delete(tariff=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- assignments --------------------------------------------------------------------------------------------


class TariffAssignmentSerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField(help_text="Where the tariff applies, in words.")

    class Meta:
        model = TariffAssignment
        fields = ["id", "tariff", "location", "charge_point", "connector", "customer_group", "valid_from",
                  "valid_until", "scope", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"valid_from": {"required": True}}
        # The one-scope and order rules are the service's, with a message saying which; the database's
        # constraints would only answer a nameless violation.
        validators = []

    def get_scope(self, assignment: TariffAssignment) -> str:
        return str(assignment.scope_label)


class TariffAssignmentFilter(django_filters.FilterSet):
    active_at = django_filters.IsoDateTimeFilter(method="filter_active_at", label="Valid at this moment")

    class Meta:
        model = TariffAssignment
        fields = ["tariff", "location", "charge_point", "connector", "customer_group"]

    def filter_active_at(self, queryset, name, value):
        return queryset.filter(valid_from__lte=value).exclude(valid_until__lte=value)


@extend_schema_view(destroy=extend_schema(description="Only assignments that have not started; end others by "
                                                      "setting valid_until."))
class TariffAssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                              mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Which tariff applies where (network, location, charge point or connector), for whom and when.
    Overlapping or contradictory assignments are refused with 400 naming the conflict."""

    queryset = TariffAssignment.objects.select_related("tariff", "location", "charge_point", "connector",
                                                       "customer_group")
    serializer_class = TariffAssignmentSerializer
    filterset_class = TariffAssignmentFilter
    ordering_fields = ["valid_from", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = tariffs.tariff_assign(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = tariffs.tariff_assignment_update(
            assignment=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        tariffs.tariff_assignment_delete(assignment=instance, now=timezone.now())

