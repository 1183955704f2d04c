"""REST API for customer accounts and their ID tokens; writes go through services.

There is no DELETE, as sessions and invoices refer to both: close an account or block a token by its ``status``.
"""

import django_filters
from rest_framework import mixins, serializers, viewsets

from customers import services
from customers.models import Customer, IdToken


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id", "number", "kind", "name", "email", "phone", "address_line1", "address_line2", "postal_code",
            "city", "country", "vat_id", "currency", "language", "status", "created_at", "updated_at",
        ]
        # The model strips spaces and dashes before it validates; raw input would fail its validator here.
        extra_kwargs = {"vat_id": {"validators": []}}


class IdTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = IdToken
        fields = [
            "id", "uid", "type", "visual_number", "contract_id", "status", "expires_at", "group_id", "customer",
            "user", "label", "created_at", "updated_at",
        ]
        # The model upper-cases contract ids before it validates them (see customer vat_id).
        extra_kwargs = {"contract_id": {"validators": []}}


class CustomerFilter(django_filters.FilterSet):
    class Meta:
        model = Customer
        fields = ["kind", "status", "country", "currency"]


class IdTokenFilter(django_filters.FilterSet):
    class Meta:
        model = IdToken
        fields = ["status", "type", "customer"]


class _NoDeleteViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    pass


class CustomerViewSet(_NoDeleteViewSet):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    search_fields = ["name", "email", "number", "vat_id"]
    ordering_fields = ["name", "number", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.customer_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.customer_update(customer=serializer.instance, data=serializer.validated_data)


class IdTokenViewSet(_NoDeleteViewSet):
    queryset = IdToken.objects.all()
    serializer_class = IdTokenSerializer
    filterset_class = IdTokenFilter
    search_fields = ["uid", "visual_number", "contract_id"]
    ordering_fields = ["uid", "created_at", "expires_at"]

    def perform_create(self, serializer):
        serializer.instance = services.id_token_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.id_token_update(id_token=serializer.instance, data=serializer.validated_data)
