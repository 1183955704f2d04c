"""Payments in the admin: accounts and saved methods, payments, webhook events (read-only: only services and
the provider write them) and the prepaid ledger (read-only, plus an adjustment form that goes through the
`prepaid_adjust` service), dunning cases."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from djmoney.forms.fields import MoneyField as MoneyFormField

from billing.models import DunningCase, Payment, PaymentAccount, PrepaidLedgerEntry, SavedPaymentMethod, WebhookEvent
from billing.payments import prepaid_adjust, prepaid_balance
from customers.models import Customer
from evbackoffice.admin import ReadOnlyMixin


class SavedPaymentMethodInline(ReadOnlyMixin, admin.TabularInline):
    model = SavedPaymentMethod
    fields = ("brand", "wallet", "last4", "exp_month", "exp_year", "is_default", "created_at")
    readonly_fields = fields
    extra = 0


@admin.register(PaymentAccount)
class PaymentAccountAdmin(admin.ModelAdmin):
    list_display = ("customer", "collection", "provider", "provider_customer_id", "balance")
    list_filter = ("collection", "provider")
    search_fields = ("customer__name", "customer__number", "provider_customer_id")
    fields = ("customer", "collection", "provider", "provider_customer_id", "created_at")
    readonly_fields = ("provider", "provider_customer_id", "created_at")
    autocomplete_fields = ("customer",)
    inlines = [SavedPaymentMethodInline]

    @admin.display(description="prepaid balance")
    def balance(self, obj):
        return prepaid_balance(customer=obj.customer) if obj.is_prepaid else "—"

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "customer") if obj else self.readonly_fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "purpose", "customer", "invoice", "amount", "attempt", "state", "failure_code")
    list_filter = ("purpose", "state", "provider")
    search_fields = ("customer__name", "customer__number", "invoice__number", "provider_intent_id", "idempotency_key")
    list_select_related = ("customer", "invoice")
    date_hierarchy = "created_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("received_at", "provider", "type", "event_id", "processed_at")
    list_filter = ("provider", "type")
    search_fields = ("event_id",)


@admin.register(DunningCase)
class DunningCaseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "invoice",
        "state",
        "failures",
        "next_retry_at",
        "last_failure",
        "tokens_blocked_at",
        "tokens_reinstated_at",
    )
    list_filter = ("state",)
    search_fields = ("invoice__number", "invoice__customer__name")
    list_select_related = ("invoice",)


class AdjustmentForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.filter(payment_account__collection="prepaid"))
    amount = MoneyFormField(max_digits=14, decimal_places=2, help_text="Positive credits, negative debits.")
    note = forms.CharField(max_length=300)


@admin.register(PrepaidLedgerEntry)
class PrepaidLedgerEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "customer", "kind", "amount", "invoice", "payment", "note", "created_by")
    list_filter = ("kind",)
    search_fields = ("customer__name", "customer__number", "invoice__number", "note")
    list_select_related = ("customer", "invoice", "payment", "created_by")
    change_list_template = "billing/payments/ledger_change_list.html"

    def get_urls(self):
        extra = [path("adjust/", self.admin_site.admin_view(self.adjust_view), name="billing_prepaid_adjust")]
        return extra + super().get_urls()

    def adjust_view(self, request):
        if not request.user.has_perm("billing.add_prepaidledgerentry"):
            messages.error(request, "You may not adjust prepaid balances.")
            return redirect(reverse("admin:billing_prepaidledgerentry_changelist"))
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                prepaid_adjust(
                    customer=form.cleaned_data["customer"],
                    amount=form.cleaned_data["amount"],
                    note=form.cleaned_data["note"],
                    user=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "The balance was adjusted.")
                return redirect(reverse("admin:billing_prepaidledgerentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Adjust a prepaid balance",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "billing/payments/ledger_adjust.html", context)
