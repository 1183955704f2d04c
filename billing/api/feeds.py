"""REST API for price feeds (dynamic tariffs follow them) and importing their values; writes go through
`billing.feeds`. Values come as JSON `[{"start": ..., "price_per_kwh": ...}]` or as a CSV body
(`Content-Type: text/csv`, "start,price" lines, `?unit=mwh` for per-MWh prices)."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import exceptions, mixins, parsers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import feeds
from billing.models import PriceFeed


class PriceFeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceFeed
        fields = ["code", "name", "currency", "interval_s", "description", "created_at"]
        read_only_fields = ["created_at"]


class AwareDateTimeField(serializers.DateTimeField):
    """Refuses a time without offset instead of guessing the server's zone: the hour would be wrong twice."""

    def enforce_timezone(self, value):
        if value.utcoffset() is None:
            self.fail("naive")
        return super().enforce_timezone(value)

    default_error_messages = {"naive": "Give the UTC offset (Z or +01:00)."}


class PriceFeedValueInSerializer(serializers.Serializer):
    start = AwareDateTimeField(help_text="Interval start, ISO 8601 with an offset or Z.")
    price_per_kwh = serializers.DecimalField(max_digits=18, decimal_places=9, coerce_to_string=False,
                                             help_text="Excl. VAT, in the feed's currency; may be negative.")


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    first_start = serializers.DateTimeField(allow_null=True)
    last_start = serializers.DateTimeField(allow_null=True)


class CsvTextParser(parsers.BaseParser):
    """A text/csv body, handed over as text; `billing.feeds` reads it."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return stream.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise exceptions.ParseError("The CSV body is not UTF-8 text.") from None


_UNIT = OpenApiParameter("unit", str, enum=["kwh", "mwh"], description="CSV only: unit of the prices (default kwh).")


class PriceFeedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       viewsets.GenericViewSet):
    """Price feeds by code. There is no DELETE: tariffs and charge records depend on their values."""
    action_permissions = {"values": "billing.add_pricefeedvalue"}

    queryset = PriceFeed.objects.all()
    serializer_class = PriceFeedSerializer
    lookup_field = "code"
    lookup_value_regex = "[a-z0-9-]+"
    search_fields = ["code", "name"]

    def perform_create(self, serializer):
        with transaction.atomic():  # one write, no workflow: the model's own save is the service
            serializer.save()

    @extend_schema(
        request={"application/json": PriceFeedValueInSerializer(many=True),
                 "text/csv": OpenApiRequest(OpenApiTypes.STR)},
        parameters=[_UNIT],
        responses=ImportResultSerializer,
        description="Add or replace values (all or nothing). A bad entry or line answers 400 naming it.",
    )
    @action(detail=True, methods=["post"], url_path="values",
            parser_classes=[parsers.JSONParser, CsvTextParser])
    def values(self, request, code=None):
        feed = self.get_object()
        if isinstance(request.data, str):
            result = feeds.price_feed_import_csv(feed=feed, file=request.data,
                                                 unit=request.query_params.get("unit", "kwh"))
        else:
            entries = PriceFeedValueInSerializer(data=request.data, many=True)
            entries.is_valid(raise_exception=True)
            result = feeds.price_feed_import_values(
                feed=feed, values=[(entry["start"], entry["price_per_kwh"]) for entry in entries.validated_data]
            )
        return Response(ImportResultSerializer(result).data)
