"""Loyalty in the admin: membership plans and memberships, points campaigns, the points ledger (read-only, with
each customer's balance; "Add" is a staff adjustment), promotion codes and their redemptions.

Memberships and adjustments are written by the `billing.loyalty` services; plans, campaigns and codes are
configuration, saved as the forms validate them.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from billing import loyalty
from billing.models import Membership, MembershipPlan, PointsCampaign, PointsEntry, PromoCode, PromoRedemption
from evbackoffice.admin import ReadOnlyMixin

# --- Memberships --------------------------------------------------------------------------------------


@admin.register(MembershipPlan)
class MembershipPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "monthly_fee", "benefit", "benefit_value", "points_per_kwh", "member_count", "is_active")
    list_filter = ("benefit", "is_active")
    search_fields = ("name",)
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("name", "description", "monthly_fee", "is_active")}),
        (_("Benefit on every session"), {
            "fields": ("benefit", "discount_per_kwh", "discount_percent", "tariff"),
            "description": _("Fill in the field of the chosen benefit: excl. VAT per kWh, a percentage, or a tariff."),
        }),
        (_("Points"), {"fields": ("points_per_kwh",)}),
        (_("Record"), {"fields": ("created_at",)}),
    )  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tariff").annotate(member_count=Count("memberships"))

    @admin.display(description=_("benefit"))
    def benefit_value(self, plan: MembershipPlan) -> str:
        if plan.benefit == MembershipPlan.Benefit.KWH_DISCOUNT:
            return f"{plan.discount_per_kwh.normalize():f} {plan.monthly_fee.currency.code}/kWh"
        if plan.benefit == MembershipPlan.Benefit.PERCENT_DISCOUNT:
            return f"{plan.discount_percent.normalize():f} %"
        return str(plan.tariff)

    @admin.display(description=_("memberships"), ordering="member_count")
    def member_count(self, plan: MembershipPlan) -> int:
        return plan.member_count


class MembershipForm(forms.ModelForm):
    """Checks with the services' own rules, so the reason shows beside the field instead of as an error page."""

    class Meta:
        model = Membership
        fields = ("customer", "plan", "starts_on", "ends_on")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if self.instance.pk is None:
            loyalty.membership_check_start(customer=data["customer"], plan=data["plan"], starts_on=data["starts_on"])
        else:
            loyalty.membership_check_end(membership=self.instance, ends_on=data.get("ends_on"))
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """New memberships start open-ended; ending one (or moving its end) is the only change."""

    form = MembershipForm
    list_display = ("customer", "plan", "starts_on", "ends_on")
    list_select_related = ("customer", "plan")
    list_filter = ("plan",)
    search_fields = ("customer__name", "customer__number", "plan__name")
    autocomplete_fields = ("customer",)
    date_hierarchy = "starts_on"

    def get_fields(self, request, obj=None):
        return ("customer", "plan", "starts_on") if obj is None else ("customer", "plan", "starts_on", "ends_on")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("customer", "plan", "starts_on")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # fees and sessions were priced with it

    def save_model(self, request, obj, form, change) -> None:
        if change:
            loyalty.membership_end(membership=obj, ends_on=form.cleaned_data["ends_on"])
        else:
            obj.pk = loyalty.membership_start(customer=obj.customer, plan=obj.plan, starts_on=obj.starts_on).pk


# --- Points ---------------------------------------------------------------------------------------------


@admin.register(PointsCampaign)
class PointsCampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "points_per_kwh", "valid_from", "valid_until")
    search_fields = ("name",)
    date_hierarchy = "valid_from"


class PointsAdjustmentForm(forms.ModelForm):
    class Meta:
        model = PointsEntry
        fields = ("customer", "points", "note")
        help_texts = {"points": _("Positive to add points, negative to remove them."), "note": _("Why.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.kind = PointsEntry.Kind.ADJUST  # the model's sign rule is checked for this kind

    def clean(self):
        data = super().clean()
        if not self.errors:
            loyalty.points_check_adjust(customer=data["customer"], points=data["points"], note=data["note"])
        return data


@admin.register(PointsEntry)
class PointsEntryAdmin(admin.ModelAdmin):
    """The ledger is never edited: "Add" writes a staff adjustment; corrections are further adjustments."""

    list_display = ("created_at", "customer", "kind", "points", "balance", "credit_amount", "expires_on", "cdr", "note")
    list_select_related = ("customer", "cdr")
    list_filter = ("kind",)
    search_fields = ("customer__name", "customer__number", "note")
    date_hierarchy = "created_at"
    autocomplete_fields = ("customer",)

    def get_queryset(self, request):
        balance = (
            PointsEntry.objects.filter(customer=OuterRef("customer"))
            .values("customer")
            .annotate(total=Sum("points"))
            .values("total")
        )
        return super().get_queryset(request).annotate(
            customer_balance=Coalesce(Subquery(balance, output_field=IntegerField()), 0)
        )

    @admin.display(description=_("customer's balance"))
    def balance(self, entry: PointsEntry) -> int:
        return entry.customer_balance

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PointsAdjustmentForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer", "points", "note")
        return ("customer", "kind", "points", "balance", "cdr", "credit_amount", "expires_on", "note", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        entry = loyalty.points_adjust(
            customer=data["customer"], points=data["points"], note=data["note"], by=request.user
        )
        obj.pk, obj.note, obj.created_at = entry.pk, entry.note, entry.created_at


# --- Promotions -----------------------------------------------------------------------------------------


class PromoCodeForm(forms.ModelForm):
    class Meta:
        model = PromoCode
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin decides what is shown

    def clean_code(self) -> str:
        # Said in words: the database's case-insensitive constraint would only report its own name.
        code = self.cleaned_data["code"].strip()
        if PromoCode.objects.filter(code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This code exists already (in any case)."))
        return code


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin):
    form = PromoCodeForm
    list_display = (
        "code", "discount", "value", "currency", "valid_from", "valid_until", "max_redemptions",
        "max_redemptions_per_customer", "redemption_count", "used_count", "is_active",
    )  # fmt: skip
    list_filter = ("discount", "is_active", "currency")
    search_fields = ("code", "description")
    date_hierarchy = "valid_from"
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                redemption_count=Count("redemptions"),
                used_count=Count("redemptions", filter=Q(redemptions__cdr__isnull=False)),
            )
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # redemptions refer to it; deactivate it instead

    @admin.display(description=_("redeemed"), ordering="redemption_count")
    def redemption_count(self, promo: PromoCode) -> int:
        return promo.redemption_count

    @admin.display(description=_("used"), ordering="used_count")
    def used_count(self, promo: PromoCode) -> int:
        return promo.used_count


@admin.register(PromoRedemption)
class PromoRedemptionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Customers redeem codes through the API; a charge record uses the redemption up."""

    list_display = ("redeemed_at", "promo_code", "customer", "cdr")
    list_select_related = ("promo_code", "customer", "cdr")
    list_filter = (("cdr", admin.EmptyFieldListFilter),)
    search_fields = ("promo_code__code", "customer__name", "customer__number")
    date_hierarchy = "redeemed_at"
