"""REST API for invoices and credit notes: read-only (issuing and crediting are services), for staff who may
view invoices (accountants, operators). `pdf_url` is the permission-checked download, never a storage URL."""

from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets

from billing.accounting.roles import can_list_invoices
from billing.accounting.selectors import STATES, InvoiceFilters, invoice_list, invoices_annotated, month_start
from billing.invoicing import invoice_status
from billing.models import Invoice, InvoiceLine

AMOUNT = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": False, "read_only": True}
EXACT = {"max_digits": 14, "decimal_places": 4, "coerce_to_string": False, "read_only": True}


class CanViewInvoices(permissions.BasePermission):
    """Staff with `billing.view_invoice` only (roles.can_list_invoices): an accountant reads invoices here
    without being let into anything else the API offers."""

    def has_permission(self, request, view) -> bool:
        return can_list_invoices(request.user)


class InvoiceQuerySerializer(serializers.Serializer):
    number = serializers.CharField(required=False, help_text="Exact document number, e.g. INV-2026-000123.")
    customer = serializers.CharField(required=False, help_text="Customer id or customer number.")
    status = serializers.ChoiceField(
        required=False, choices=STATES,
        help_text="issued: open and not yet due; overdue: an unpaid invoice past its due date; paid; credited: an "
                  "invoice whose credit notes add up to its total; draft.",
    )
    kind = serializers.ChoiceField(required=False, choices=Invoice.Kind.choices)
    period = serializers.CharField(
        required=False, validators=[RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "Enter a month as YYYY-MM.")],
        help_text="Supply period starting in this month (YYYY-MM).",
    )
    issued_from = serializers.DateField(required=False, help_text="Issued on or after this day.")
    issued_to = serializers.DateField(required=False, help_text="Issued on or before this day.")

    def filters(self) -> InvoiceFilters:
        data = dict(self.validated_data)
        period = month_start(data.pop("period")) if "period" in data else None
        return InvoiceFilters(state=data.pop("status", ""), period=period, **data)


class InvoiceCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class InvoiceVatSerializer(serializers.Serializer):
    category = serializers.CharField(read_only=True, help_text="EN 16931 VAT category: S, Z, E, AE or O.")
    rate = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=False, read_only=True)
    excl_vat = serializers.DecimalField(**AMOUNT)
    vat = serializers.DecimalField(**AMOUNT)
    incl_vat = serializers.DecimalField(**AMOUNT)
    mention = serializers.CharField(read_only=True, default="")
    reason_code = serializers.CharField(read_only=True, default="", help_text="VATEX exemption reason code.")


class InvoiceLineSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="charging, membership_fee, points_credit or correction.")
    driver = serializers.CharField(
        source="driver_label", read_only=True,
        help_text="A company's charging line: the driver and token, e.g. 'Mehmet Yilmaz (EVB-300102)'; else empty.",
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "position", "kind", "description", "service_start", "service_end", "cdr", "energy_wh", "duration_s",
            "quantity", "unit", "unit_price_excl_vat", "discount_excl_vat", "net_amount", "vat_category", "vat_rate",
            "driver",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {name: {"coerce_to_string": False} for name in [
            "quantity", "unit_price_excl_vat", "discount_excl_vat", "net_amount", "vat_rate"]}


class InvoiceSerializer(serializers.ModelSerializer):
    # Plain strings naming their values: an enum called after the field ("kind", "status") would collide
    # with other models' choices of the same name in the schema.
    kind = serializers.CharField(read_only=True, help_text="invoice or credit_note.")
    status = serializers.SerializerMethodField(help_text="draft, issued, overdue, paid or credited.")
    customer = InvoiceCustomerSerializer(read_only=True)
    currency = serializers.CharField(read_only=True)
    credited_invoice = serializers.SlugRelatedField(slug_field="number", read_only=True)
    total_excl_vat = serializers.DecimalField(**AMOUNT)
    total_vat = serializers.DecimalField(**AMOUNT)
    total_incl_vat = serializers.DecimalField(**AMOUNT)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "kind", "status", "customer", "currency", "period_start", "period_end", "issue_date",
            "due_date", "credited_invoice", "total_excl_vat", "total_vat", "total_incl_vat", "paid_at", "pdf_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_status(self, invoice: Invoice) -> str:
        return invoice_status(invoice)

    @extend_schema_field(serializers.URLField(allow_null=True, help_text="The PDF download; null until rendered."))
    def get_pdf_url(self, invoice: Invoice) -> str | None:
        if not invoice.pdf:
            return None
        url = reverse("accounting:invoice-pdf", args=[invoice.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class InvoiceDetailSerializer(InvoiceSerializer):
    vat_breakdown = InvoiceVatSerializer(many=True, read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = InvoiceSerializer.Meta.fields + [
            "reason", "notes", "supplier", "buyer", "vat_breakdown", "pdf_sha256", "lines"]
        read_only_fields = fields


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices and credit notes, newest first. Read-only: documents are issued and credited by services."""

    permission_classes = [CanViewInvoices]
    filter_backends = []  # the filters are the query parameters below, validated as a whole
    queryset = Invoice.objects.none()  # for the schema; get_queryset reads through the selectors

    def get_serializer_class(self):
        return InvoiceDetailSerializer if self.action == "retrieve" else InvoiceSerializer

    def get_queryset(self):
        if self.action != "list":
            return invoices_annotated().prefetch_related("lines")
        query = InvoiceQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return invoice_list(query.filters())

    @extend_schema(parameters=[InvoiceQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
