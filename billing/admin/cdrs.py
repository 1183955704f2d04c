"""The admin for charge detail records: read-only (a record is never changed), with what it cost and why on its
page, and a credit or a correction (credit + re-rated record) made from a reason form."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from billing.cdrs import cdr_correct, cdr_credit
from billing.models import ChargeDetailRecord, Tariff
from billing.pricing import quantize_price
from evbackoffice.admin import ReadOnlyMixin, export_as_csv


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Kept with the records and sent to partners."),
    )


class CorrectionForm(ReasonForm):
    tariff = forms.ModelChoiceField(
        queryset=Tariff.objects.all(), required=False,
        help_text=_("Empty: the tariff the record was priced with, as it was then. The session's meter values are "
                    "read again, so fix them first if they were wrong."),
    )


def _money(amount, currency) -> str:
    return f"{quantize_price(Decimal(amount), str(currency))} {currency}"


@admin.register(ChargeDetailRecord)
class ChargeDetailRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["ocpi_id", "kind", "start_date_time", "charge_point_identity", "transaction_id", "customer",
                    "energy_kwh", "total_incl_vat"]
    list_filter = ["kind", "start_date_time", ("customer", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["transaction_id", "charge_point_identity", "ocpi_id"]
    list_select_related = ["customer"]
    date_hierarchy = "start_date_time"
    actions = ["credit_selected", "correct_selected", export_as_csv]
    # The export's money columns are exact decimals with the currency beside them, not "10.89 EUR".
    csv_export_columns = ["ocpi_id", "kind", "start_date_time", "charge_point_identity", "transaction_id", "customer",
                          "energy_kwh", "total_cost_excl_vat", "total_cost_incl_vat", "currency"]
    fieldsets = [
        (None, {"fields": ["ocpi_id", "kind", "related_records", "reason", "created_by", "created_at"]}),
        (_("Session"), {"fields": ["session", "charge_point_identity", "transaction_id", "start_date_time",
                                   "end_date_time", "customer", "token_uid", "contract_id", "location_display"]}),
        (_("Price"), {"fields": ["tariff", "totals", "explanation_display", "vat_display", "cost_display",
                                 "periods_display"]}),
    ]

    def has_credit_permission(self, request, obj=None) -> bool:
        # A credit or correction adds records: the "add" permission, which only the services use.
        return request.user.has_perm("billing.add_chargedetailrecord")

    # --- list columns ---------------------------------------------------------------------------------------
    @admin.display(description=_("energy (kWh)"), ordering="total_energy_wh")
    def energy_kwh(self, cdr) -> str:
        return f"{Decimal(cdr.total_energy_wh) / 1000:.3f}"

    @admin.display(description=_("total incl. VAT"), ordering="total_cost_incl_vat")
    def total_incl_vat(self, cdr) -> str:
        return _money(cdr.total_cost_incl_vat, cdr.currency)

    # --- the change page ------------------------------------------------------------------------------------
    @admin.display(description=_("related records"))
    def related_records(self, cdr) -> str:
        related = [(_("credits"), cdr.credited_record), (_("replaces"), cdr.replaces)]
        related += [(_("credited by"), other) for other in cdr.credits.all()]
        related += [(_("replaced by"), other) for other in cdr.replacements.all()]
        links = [(label, reverse("admin:billing_chargedetailrecord_change", args=[other.pk]), other.ocpi_id)
                 for label, other in related if other is not None]
        html = format_html_join(" · ", '{} <a href="{}">{}</a>', links) if links else "-"
        if cdr.kind == ChargeDetailRecord.Kind.CHARGE and not cdr.credits.exists():
            credit = reverse("admin:billing_chargedetailrecord_credit", args=[cdr.pk])
            correct = reverse("admin:billing_chargedetailrecord_correct", args=[cdr.pk])
            html = format_html('{} <p><a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a></p>',
                               html, credit, _("Credit"), correct, _("Correct"))
        return html

    @admin.display(description=_("location"))
    def location_display(self, cdr) -> str:
        snapshot = cdr.location_snapshot
        return format_html("{} ({}), {}, {} {} · EVSE {} connector {}", snapshot.get("name"), snapshot.get("id"),
                           snapshot.get("address"), snapshot.get("postal_code"), snapshot.get("city"),
                           snapshot.get("evse_id"), snapshot.get("connector_id"))

    @admin.display(description=_("totals"))
    def totals(self, cdr) -> str:
        currency = cdr.currency
        return format_html(
            "{}: {} excl. VAT, {} incl. VAT<br>{}: {} excl. VAT, {} incl. VAT<br><strong>{}: {} excl. VAT, {} incl. "
            "VAT</strong><br>{} kWh · {} h charging · {} h parking",
            _("Tariff"), _money(cdr.tariff_cost_excl_vat, currency), _money(cdr.tariff_cost_incl_vat, currency),
            _("Discounts"), _money(cdr.discount_excl_vat, currency), _money(cdr.discount_incl_vat, currency),
            _("Total"), _money(cdr.total_cost_excl_vat, currency), _money(cdr.total_cost_incl_vat, currency),
            self.energy_kwh(cdr), f"{cdr.total_time_s / 3600:.2f}", f"{cdr.total_parking_time_s / 3600:.2f}",
        )

    @admin.display(description=_("why it costs this"))
    def explanation_display(self, cdr) -> str:
        return format_html("<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((line,) for line in cdr.explanation)))

    @admin.display(description=_("VAT breakdown"))
    def vat_display(self, cdr) -> str:
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (f"{Decimal(line['rate']).normalize():f} %" if line["rate"] is not None else _("no VAT"),
             _money(line["excl_vat"], cdr.currency), _money(line["vat"], cdr.currency),
             _money(line["incl_vat"], cdr.currency))
            for line in cdr.vat_breakdown
        ))
        return format_html("<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
                           _("rate"), _("excl. VAT"), _("VAT"), _("incl. VAT"), rows)

    @admin.display(description=_("cost per dimension"))
    def cost_display(self, cdr) -> str:
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (name.replace("_", " "), _money(cost["excl_vat"], cdr.currency), _money(cost["incl_vat"], cdr.currency))
            for name, cost in cdr.cost_breakdown.items() if Decimal(cost["excl_vat"]) or Decimal(cost["incl_vat"])
        ))
        return format_html("<table><tr><th></th><th>{}</th><th>{}</th></tr>{}</table>",
                           _("excl. VAT"), _("incl. VAT"), rows)

    @admin.display(description=_("charging periods"))
    def periods_display(self, cdr) -> str:
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (period["start_date_time"], ", ".join(f"{d['type']} {d['volume']}" for d in period["dimensions"]),
             period.get("tariff_id", "-"))
            for period in cdr.charging_periods
        ))
        return format_html("<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
                           _("from (UTC)"), _("volumes (kWh, h, kW, A)"), _("tariff"), rows)

    # --- credits and corrections ----------------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/credit/", view(self.credit_view), name="billing_chargedetailrecord_credit"),
            path("<path:object_id>/correct/", view(self.correct_view), name="billing_chargedetailrecord_correct"),
        ] + super().get_urls()

    @admin.action(description=_("Credit the selected record"), permissions=["credit"])
    def credit_selected(self, request, queryset):
        return self._one_to_form(request, queryset, "credit")

    @admin.action(description=_("Correct the selected record (credit and rate again)"), permissions=["credit"])
    def correct_selected(self, request, queryset):
        return self._one_to_form(request, queryset, "correct")

    def _one_to_form(self, request, queryset, what: str):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one record: each needs its own reason."), messages.WARNING)
            return None
        return redirect(reverse(f"admin:billing_chargedetailrecord_{what}", args=[queryset.get().pk]))

    def credit_view(self, request, object_id):
        return self._reason_view(request, object_id, ReasonForm, _("Credit %s"), self._credit)

    def correct_view(self, request, object_id):
        return self._reason_view(request, object_id, CorrectionForm, _("Correct %s"), self._correct)

    def _credit(self, request, cdr, data) -> ChargeDetailRecord:
        credit = cdr_credit(cdr=cdr, reason=data["reason"], by=request.user)
        self.message_user(request, _("Credited with %s.") % credit.ocpi_id, messages.SUCCESS)
        return credit

    def _correct(self, request, cdr, data) -> ChargeDetailRecord:
        credit, replacement = cdr_correct(cdr=cdr, reason=data["reason"], tariff=data["tariff"], by=request.user)
        self.message_user(request, _("Credited with %(credit)s and replaced by %(new)s (%(total)s).") % {
            "credit": credit.ocpi_id, "new": replacement.ocpi_id,
            "total": _money(replacement.total_cost_incl_vat, replacement.currency)}, messages.SUCCESS)
        return replacement

    def _reason_view(self, request, object_id, form_class, title, perform):
        cdr = get_object_or_404(ChargeDetailRecord, pk=object_id)
        if not self.has_credit_permission(request, cdr):
            return redirect("admin:index")
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                made = perform(request, cdr, form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect(reverse("admin:billing_chargedetailrecord_change", args=[made.pk]))
        context = {**self.admin_site.each_context(request), "title": title % cdr.ocpi_id, "form": form,
                   "cdr": cdr, "opts": self.model._meta}
        return TemplateResponse(request, "admin/billing/chargedetailrecord/reason.html", context)
