"""The admin for invoices and credit notes (lines inline, editable only while a draft), the operator's legal
details (one record) and customers' billing profiles. Issuing, credit notes and closing a period now go through
the invoicing services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing.invoicing import (
    billing_periods_close_ending,
    billing_today,
    credit_note_issue,
    invoice_draft_update_totals,
    invoice_issue,
    invoice_status,
    invoices_with_credit_state,
    line_amounts_open,
    month_period,
)
from billing.invoicing.emailing import invoice_email_resend
from billing.invoicing.periods import previous_month
from billing.models import BillingProfile, Invoice, InvoiceLine, OperatorProfile
from billing.payments import PAYMENT_STATES, dunning_state, invoices_filter_payment_state, invoices_with_dunning
from evbackoffice.admin import export_as_csv, selector_filter

FORM_TEMPLATE = "admin/billing/invoice/form.html"


class CreditNoteForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Printed on the credit note."))

    def __init__(self, *args, invoice: Invoice, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_amounts = line_amounts_open(invoice)
        for line in invoice.lines.order_by("position"):
            left = self.open_amounts[line.pk]
            self.fields[f"line_{line.pk}"] = forms.DecimalField(
                required=False, min_value=Decimal("0.000001"), decimal_places=6,
                label=f"{line.position}. {line.description}"[:80],
                help_text=_("Left to credit: %(left)s excl. VAT (VAT %(rate)s %%).") % {
                    "left": left.normalize(), "rate": line.vat_rate.normalize()},
            )  # fmt: skip

    def credited_lines(self) -> dict[int, Decimal] | None:
        """Line id -> amount; None (a full credit note) when no amount was entered."""
        amounts = {
            int(name.removeprefix("line_")): value
            for name, value in self.cleaned_data.items() if name.startswith("line_") and value
        }
        return amounts or None


class ClosePeriodForm(forms.Form):
    period = forms.CharField(
        label=_("Month"), max_length=7,
        help_text=_("YYYY-MM. Quarterly customers are closed too when it ends a quarter."),
    )

    def clean_period(self):
        try:
            return month_period(self.cleaned_data["period"])
        except ValueError as error:
            raise ValidationError(str(error)) from None


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ["position", "kind", "description", "quantity", "unit", "unit_price_excl_vat", "discount_excl_vat",
              "net_amount", "vat_category", "vat_rate", "cdr", "credited_line"]  # fmt: skip
    readonly_fields = ["net_amount", "cdr", "credited_line"]

    def _editable(self, obj) -> bool:
        return obj is None or not obj.is_issued

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


# Where the invoice stands in dunning: collection failed, the customer's tokens blocked for it, or paid.
PaymentStateFilter = selector_filter(_("payment"), "payment", PAYMENT_STATES, invoices_filter_payment_state)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["document", "kind", "customer", "period_start", "issue_date", "total_incl_vat", "currency",
                    "state", "collection", "pdf_state", "emailed"]  # fmt: skip
    list_filter = ["kind", "status", PaymentStateFilter, "period_start", "einvoice"]
    search_fields = ["number", "customer__name", "customer__number"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    inlines = [InvoiceLineInline]
    actions = ["issue_selected", "credit_selected", "email_again", export_as_csv]
    DRAFT_FIELDS = ["customer", "currency", "period_start", "period_end", "notes"]

    def get_queryset(self, request):
        return invoices_with_dunning(invoices_with_credit_state(super().get_queryset(request)))

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.DRAFT_FIELDS
        return ["kind", "status", "number", "credited_invoice", "reason", *self.DRAFT_FIELDS, "issue_date",
                "due_date", "total_excl_vat", "total_vat", "total_incl_vat", "vat_breakdown", "einvoice", "supplier",
                "buyer", "pdf", "pdf_sha256", "pdf_error", "emailed_at", "paid_at", "credit_link"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        editable = {"notes"} if not obj.is_issued else set()
        return [name for name in self.get_fields(request, obj) if name not in editable]

    # An issued document is shown, never saved: the admin answers a change of it with 403.
    def has_change_permission(self, request, obj=None) -> bool:
        return (obj is None or not obj.is_issued) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return (obj is None or not obj.is_issued) and super().has_delete_permission(request, obj)

    def save_formset(self, request, form, formset, change):
        # A line's net is always quantity x unit price - discount; staff edit those, never the net.
        for line in formset.save(commit=False):
            line.net_amount = line.quantity * line.unit_price_excl_vat - line.discount_excl_vat
            line.save()
        for line in formset.deleted_objects:
            line.delete()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not form.instance.is_issued:
            invoice_draft_update_totals(invoice=form.instance)

    # --- columns --------------------------------------------------------------------------------------------
    @admin.display(description=_("number"), ordering="number")
    def document(self, obj):
        return obj.number or _("(draft)")

    @admin.display(description=_("state"))
    def state(self, obj):
        return invoice_status(obj)

    @admin.display(description=_("collection"))
    def collection(self, obj):
        """Dunning: collecting, failed (with the number of failed attempts), paid or written off."""
        state = dunning_state(obj)
        if not state.state:
            return ""
        return f"{state.label} ({state.failures})" if state.failures else state.label

    @admin.display(description=_("PDF"))
    def pdf_state(self, obj):
        if obj.pdf:
            return format_html('<a href="{}">PDF</a>', reverse("accounting:invoice-pdf", args=[obj.pk]))
        return _("failed") if obj.pdf_error else ("…" if obj.is_issued else "")

    @admin.display(description=_("e-mailed"), ordering="emailed_at")
    def emailed(self, obj):
        """When the document last went to the customer; "not yet" for an issued one still waiting."""
        if obj.emailed_at:
            return formats.localize(timezone.template_localtime(obj.emailed_at))
        return _("not yet") if obj.is_issued else ""

    @admin.display(description=_("credit note"))
    def credit_link(self, obj):
        if obj.kind != Invoice.Kind.INVOICE or not obj.is_issued:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:billing_invoice_credit", args=[obj.pk]),
                           _("Issue a credit note…"))

    # --- actions and pages ----------------------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("close-period/", view(self.close_period_view), name="billing_invoice_close_period"),
            path("<path:object_id>/credit/", view(self.credit_view), name="billing_invoice_credit"),
        ] + super().get_urls()

    @admin.action(description=_("Issue the selected drafts"), permissions=["change"])
    def issue_selected(self, request, queryset):
        issued = []
        for invoice in queryset.filter(status=Invoice.Status.DRAFT).order_by("pk"):
            try:
                issued.append(invoice_issue(invoice=invoice).number)
            except ValidationError as error:
                self.message_user(request, f"{invoice.customer}: {' '.join(error.messages)}", messages.ERROR)
        if issued:
            self.message_user(request, _("Issued %s.") % ", ".join(issued), messages.SUCCESS)

    @admin.action(description=_("Send again by e-mail"), permissions=["change"])
    def email_again(self, request, queryset):
        """An explicit resend to each customer's current address, e.g. after they lost it or changed it. Drafts
        and documents still without a PDF are refused by name."""
        queued = 0
        for invoice in queryset.select_related("customer").order_by("pk"):
            try:
                invoice_email_resend(invoice=invoice)
            except ValidationError:
                if not invoice.is_issued:
                    refusal = _("%(invoice)s for %(customer)s is a draft: only issued documents are e-mailed.")
                else:
                    refusal = _("%(invoice)s has no PDF yet: it is e-mailed once its PDF is rendered.")
                self.message_user(request, refusal % {"invoice": invoice, "customer": invoice.customer},
                                  messages.WARNING)
            else:
                queued += 1
        if queued:
            self.message_user(request, ngettext(
                "%(count)d document is being e-mailed again; the list shows when it was sent.",
                "%(count)d documents are being e-mailed again; the list shows when each was sent.", queued,
            ) % {"count": queued}, messages.SUCCESS)

    @admin.action(description=_("Issue a credit note for the selected invoice"), permissions=["change"])
    def credit_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one invoice: each credit note has its own reason."),
                              messages.WARNING)
            return None
        return redirect(reverse("admin:billing_invoice_credit", args=[queryset.get().pk]))

    def credit_view(self, request, object_id):
        invoice = get_object_or_404(Invoice, pk=object_id)
        if not self.has_change_permission(request):
            return redirect("admin:index")
        form = CreditNoteForm(request.POST or None, invoice=invoice)
        if request.method == "POST" and form.is_valid():
            try:
                note = credit_note_issue(invoice=invoice, reason=form.cleaned_data["reason"],
                                         lines=form.credited_lines())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, _("Issued credit note %s.") % note.number, messages.SUCCESS)
                return redirect(reverse("admin:billing_invoice_change", args=[note.pk]))
        return self._form_page(request, form, title=_("Credit note for %s") % invoice, invoice=invoice,
                               submit=_("Issue credit note"),
                               intro=_("Leave every amount empty to credit everything not yet credited."))

    def close_period_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        default = f"{previous_month(billing_today().replace(day=1)):%Y-%m}"
        form = ClosePeriodForm(request.POST or None, initial={"period": default})
        if request.method == "POST" and form.is_valid():
            _start, end = form.cleaned_data["period"]
            made = billing_periods_close_ending(day=end)
            issued = [invoice.number for invoice in made if invoice.is_issued]
            self.message_user(request, _("%(issued)d invoices issued, %(drafts)d drafts to review.") % {
                "issued": len(issued), "drafts": len(made) - len(issued)}, messages.SUCCESS)  # fmt: skip
            return redirect(reverse("admin:billing_invoice_changelist"))
        return self._form_page(request, form, title=_("Close a billing period now"), submit=_("Close the period"),
                               intro=_("Drafts and issues the month's invoices for every customer with activity "
                                       "(drafts only when the operator reviews them). Running it again issues "
                                       "nothing twice."))

    def _form_page(self, request, form, **context):
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta, **context}
        return TemplateResponse(request, FORM_TEMPLATE, context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "close_period_url": reverse("admin:billing_invoice_close_period")}
        return super().changelist_view(request, extra_context)


@admin.register(OperatorProfile)
class OperatorProfileAdmin(admin.ModelAdmin):
    """One record: the list goes straight to it (or to adding it)."""

    def has_add_permission(self, request) -> bool:
        return not OperatorProfile.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        profile = OperatorProfile.objects.first()
        if profile is None:
            return redirect(reverse("admin:billing_operatorprofile_add"))
        return redirect(reverse("admin:billing_operatorprofile_change", args=[profile.pk]))


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    list_display = ["customer", "interval", "einvoice", "purchase_order"]
    list_filter = ["interval", "einvoice"]
    search_fields = ["customer__name", "customer__number", "purchase_order"]
    raw_id_fields = ["customer"]
