"""REST API for loyalty: membership plans (read), memberships, promotion codes and their redemption, and a
customer's points (balance and ledger). Writes go through `billing.loyalty`; its ValidationErrors become 400s
in the project's exception handler. Plans and campaigns are configured in the admin.
"""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import loyalty
from billing.models import Membership, MembershipPlan, PointsEntry, PromoCode, PromoRedemption
from customers.models import Customer
from evbackoffice.api import Pagination


class MembershipPlanSerializer(serializers.ModelSerializer):
    monthly_fee = serializers.DecimalField(source="monthly_fee.amount", max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="monthly_fee.currency.code")

    class Meta:
        model = MembershipPlan
        fields = [
            "id", "name", "description", "monthly_fee", "currency", "benefit", "discount_per_kwh", "discount_percent",
            "tariff", "points_per_kwh", "is_active", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    plan_name = serializers.CharField(source="plan.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "customer", "plan", "plan_name", "starts_on", "ends_on", "created_at"]
        read_only_fields = fields


class MembershipStartSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    plan = serializers.PrimaryKeyRelatedField(queryset=MembershipPlan.objects.all())
    starts_on = serializers.DateField()


class MembershipEndSerializer(serializers.Serializer):
    ends_on = serializers.DateField(
        allow_null=True, help_text="First day the membership no longer applies; null: until cancelled again."
    )


class PromoCodeSerializer(serializers.ModelSerializer):
    redemption_count = serializers.IntegerField(read_only=True, help_text="Redeemed by customers, in total.")
    used_count = serializers.IntegerField(read_only=True, help_text="Used up by a charge record.")

    class Meta:
        model = PromoCode
        fields = [
            "id", "code", "description", "discount", "value", "currency", "valid_from", "valid_until",
            "max_redemptions", "max_redemptions_per_customer", "is_active", "created_at", "redemption_count",
            "used_count",
        ]  # fmt: skip
        # Case-insensitive uniqueness is checked by the service, which names the clash.
        extra_kwargs = {"code": {"validators": []}}


class PromoRedeemSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    code = serializers.CharField(max_length=32, help_text="Case-insensitive.")


class PromoRedemptionSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="promo_code.code", read_only=True)

    class Meta:
        model = PromoRedemption
        fields = ["id", "promo_code", "code", "customer", "redeemed_at", "cdr"]
        read_only_fields = fields


class PointsEntrySerializer(serializers.ModelSerializer):
    # A plain string: an enum named "kind" would clash with the customer's in the schema.
    kind = serializers.CharField(read_only=True, help_text="earn, redeem, expire or adjust")
    credit_amount = serializers.DecimalField(
        source="credit_amount.amount", max_digits=12, decimal_places=2, allow_null=True, read_only=True,
        help_text="For a redemption: the credit it gives on the next invoice.",
    )  # fmt: skip
    credit_currency = serializers.CharField(source="credit_amount.currency.code", allow_null=True, read_only=True)

    class Meta:
        model = PointsEntry
        fields = ["id", "kind", "points", "cdr", "credit_amount", "credit_currency", "expires_on", "note", "created_at"]
        read_only_fields = fields


class MembershipPlanViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = MembershipPlan.objects.all()
    serializer_class = MembershipPlanSerializer
    filterset_fields = ["benefit", "is_active"]
    search_fields = ["name"]


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A customer's memberships. Start one with POST; end it (or move its end) with POST .../end/."""
    action_permissions = {"end": "billing.change_membership"}

    queryset = Membership.objects.select_related("plan")
    serializer_class = MembershipSerializer
    filterset_fields = ["customer", "plan"]
    ordering_fields = ["starts_on", "created_at"]

    def get_serializer_class(self):
        return {"create": MembershipStartSerializer, "end": MembershipEndSerializer}.get(
            self.action, MembershipSerializer
        )

    @extend_schema(request=MembershipStartSerializer, responses={201: MembershipSerializer})
    def create(self, request):
        data = _validated(MembershipStartSerializer, request)
        membership = loyalty.membership_start(**data)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipEndSerializer, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        data = _validated(MembershipEndSerializer, request)
        membership = loyalty.membership_end(membership=self.get_object(), ends_on=data["ends_on"])
        return Response(MembershipSerializer(membership).data)


class PromoCodeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Promotion codes. No DELETE: redemptions refer to them; set ``is_active`` to false to stop one."""

    action_permissions = {"redeem": "billing.add_promoredemption"}
    queryset = PromoCode.objects.annotate(
        redemption_count=Count("redemptions"), used_count=Count("redemptions", filter=Q(redemptions__cdr__isnull=False))
    ).order_by("-valid_from", "id")
    serializer_class = PromoCodeSerializer
    filterset_fields = ["discount", "is_active", "currency"]
    search_fields = ["code", "description"]
    ordering_fields = ["code", "valid_from", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = loyalty.promo_code_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = loyalty.promo_code_update(promo_code=serializer.instance, data=serializer.validated_data)

    def get_serializer_class(self):
        return PromoRedeemSerializer if self.action == "redeem" else PromoCodeSerializer

    @extend_schema(
        request=PromoRedeemSerializer, responses={201: PromoRedemptionSerializer},
        description="Claims a code for the customer's next session; 400 says why a code cannot be redeemed.",
    )  # fmt: skip
    @action(detail=False, methods=["post"])
    def redeem(self, request):
        data = _validated(PromoRedeemSerializer, request)
        redemption = loyalty.promo_code_redeem(customer=data["customer"], code=data["code"])
        return Response(PromoRedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)


class PointsLedgerPagination(Pagination):
    """A page of the ledger, with the customer's balance (the sum of all entries, not just this page's)."""

    balance = 0

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {"balance": self.balance, **response.data}
        return response

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["properties"] = {"balance": {"type": "integer", "example": 1200}, **page["properties"]}
        page["required"] = ["balance", *page.get("required", [])]
        return page


class CustomerPointsView(generics.ListAPIView):
    """A customer's points: the balance and the ledger of earned, redeemed, expired and adjusted points,
    newest first."""
    permission_model = PointsEntry

    serializer_class = PointsEntrySerializer
    pagination_class = PointsLedgerPagination
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsEntry.objects.none()
        return PointsEntry.objects.filter(customer=self.customer).order_by("-created_at", "-id")

    @extend_schema(parameters=[OpenApiParameter("customer_id", int, OpenApiParameter.PATH, description="Customer id.")])
    def get(self, request, *args, **kwargs):
        self.customer = get_object_or_404(Customer, pk=self.kwargs["customer_id"])
        self.paginator.balance = loyalty.points_balance(customer=self.customer)
        return self.list(request, *args, **kwargs)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
