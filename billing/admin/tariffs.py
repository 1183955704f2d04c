"""The operator's admin for tariffs (with their elements and assignments), tariff assignments and price feeds.

Every rule is the pricing engine's or `billing.tariffs`'s: forms run them and put what they refuse on the
field it is about, so staff see the same rules the API and the engine apply, and never a server error.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch, Q
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing import feeds, tariffs
from billing.models import PriceFeed, Tariff, TariffAssignment, TariffElement
from billing.pricing import DayOfWeek, TariffError
from billing.pricing.money import is_currency_in_use
from billing.tariffs.convert import HEADER_COLUMNS, element_field_for_path
from evbackoffice.admin import export_as_csv

DAY_CHOICES = [(day.value, day.value.title()) for day in DayOfWeek]


# --- tariffs ------------------------------------------------------------------------------------------------


class TariffForm(forms.ModelForm):
    alt_url = forms.URLField(label=_("alternative URL"), required=False, assume_scheme="https", max_length=200)

    class Meta:
        model = Tariff
        fields = "__all__"  # noqa: DJ007 - the admin narrows it to its fieldsets

    def clean_currency(self):
        currency = self.cleaned_data["currency"]
        if not is_currency_in_use(str(currency)):
            raise ValidationError(_("Must be an ISO 4217 code of a currency in use, e.g. EUR."))
        return currency

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        # The header's rules, checked with a stand-in element; the elements' are the inline formset's.
        try:
            tariffs.pricing_tariff_from_rows(self.instance, [TariffElement(flat_price=Decimal(0))])
        except TariffError as exc:
            column = HEADER_COLUMNS.get(exc.field) or HEADER_COLUMNS.get(exc.field.split("[")[0])
            self.add_error(column if column in self.fields else None, exc.rule)


class TariffElementForm(forms.ModelForm):
    days_of_week = forms.MultipleChoiceField(
        choices=DAY_CHOICES, widget=forms.CheckboxSelectMultiple, required=False,
        help_text=_("None ticked: every day."),
    )

    class Meta:
        model = TariffElement
        fields = "__all__"  # noqa: DJ007 - the admin narrows it to its fieldsets

    def clean_days_of_week(self):
        chosen = set(self.cleaned_data["days_of_week"])
        return [day.value for day in DayOfWeek if day.value in chosen]


class TariffElementFormSet(BaseInlineFormSet):
    """Runs the whole tariff through the engine and shows what it refuses on the element's field."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = self._kept_forms()
        if not kept:
            raise ValidationError(_("A tariff needs at least one element with a price."))
        try:
            tariffs.pricing_tariff_from_rows(self.instance, [form.instance for form in kept])
        except TariffError as exc:
            self._show(exc, kept)

    def _kept_forms(self) -> list:
        kept = [form for form in self.forms
                if (form.has_changed() or form.instance.pk) and not self._should_delete_form(form)]
        return sorted(kept, key=lambda form: (form.cleaned_data.get("position") or 0, self.forms.index(form)))

    def _show(self, exc: TariffError, forms_in_order: list) -> None:
        if exc.field in HEADER_COLUMNS or exc.field.split("[")[0] in HEADER_COLUMNS:
            return  # the tariff's own form shows it on its field
        index = int(exc.field[len("elements["):].partition("]")[0]) if exc.field.startswith("elements[") else None
        if index is None or index >= len(forms_in_order):
            raise ValidationError(f"{exc.field}: {exc.rule}")
        form = forms_in_order[index]
        _, column = element_field_for_path(exc.field, form.instance)
        form.add_error(column if column in form.fields else None, exc.rule)


class TariffElementInline(admin.StackedInline):
    model = TariffElement
    form = TariffElementForm
    formset = TariffElementFormSet
    extra = 0
    min_num = 1
    autocomplete_fields = ("energy_feed",)
    fieldsets = (
        (None, {"fields": ("position",)}),
        (_("Energy (per kWh)"), {"fields": (("energy_price", "energy_vat", "energy_step_wh"),)}),
        (_("Dynamic energy price"), {
            "classes": ("collapse",),
            "fields": (("energy_feed", "energy_feed_margin", "energy_feed_min_price", "energy_feed_max_price"),),
        }),
        (_("Charging time (per hour)"), {"fields": (("time_price", "time_vat", "time_step_s"),)}),
        (_("Idle time (per hour)"), {"fields": (("parking_price", "parking_vat", "parking_step_s"),)}),
        (_("Session fee"), {"fields": (("flat_price", "flat_vat", "flat_step"),)}),
        (_("Applies when (all that are set; the location's local time)"), {
            "fields": (("start_time", "end_time"), ("start_date", "end_date"), "days_of_week",
                       ("min_kwh", "max_kwh"), ("min_duration_s", "max_duration_s"),
                       ("min_power_kw", "max_power_kw"), ("min_current_a", "max_current_a"), "reservation"),
        }),
    )


class TariffAssignmentInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            if form.errors or self._should_delete_form(form) or not (form.has_changed() or form.instance.pk):
                continue
            try:
                tariffs.tariff_assignment_check(assignment=form.instance)
            except ValidationError as exc:
                _add_errors(form, exc)


class TariffAssignmentInline(admin.TabularInline):
    model = TariffAssignment
    formset = TariffAssignmentInlineFormSet
    fields = ("location", "charge_point", "connector", "customer_group", "valid_from", "valid_until")
    autocomplete_fields = ("location", "charge_point", "customer_group")
    raw_id_fields = ("connector",)
    extra = 0
    verbose_name = _("assignment")
    verbose_name_plural = _("where and for whom it applies (empty place: the whole network)")


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    form = TariffForm
    inlines = (TariffElementInline, TariffAssignmentInline)
    list_display = ("name", "summary", "currency", "ocpi_id", "start_date_time", "end_date_time", "assignment_count")
    list_filter = ("currency", "type")
    search_fields = ("name", "ocpi_id")
    readonly_fields = ("summary", "created_at", "last_updated")
    actions = ("duplicate", export_as_csv)
    save_on_top = True
    fieldsets = (
        (None, {"fields": ("name", "summary", "currency", "type")}),
        (_("In force"), {"fields": (("start_date_time", "end_date_time"),)}),
        (_("Per session limits"), {"fields": (("min_price_excl_vat", "min_price_incl_vat"),
                                              ("max_price_excl_vat", "max_price_incl_vat"))}),
        (_("OCPI"), {"classes": ("collapse",), "fields": (
            ("country_code", "party_id", "ocpi_id"), "alt_text", "alt_url", "energy_mix", "created_at",
            "last_updated")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(
            Prefetch("elements", queryset=TariffElement.objects.select_related("energy_feed"))
        ).annotate(assignment_total=Count("assignments", distinct=True))

    @admin.display(description=_("what drivers see"))
    def summary(self, tariff: Tariff) -> str:
        return tariffs.tariff_summary(tariff) if tariff.pk else "-"

    @admin.display(description=_("assignments"), ordering="assignment_total")
    def assignment_count(self, tariff: Tariff) -> int:
        return tariff.assignment_total

    @admin.action(description=_("Duplicate the selected tariffs"))
    def duplicate(self, request, queryset):
        copies = [tariffs.tariff_duplicate(tariff=tariff) for tariff in queryset]
        self.message_user(request, ngettext(
            "%(count)d tariff duplicated, with a new OCPI id; the copy is not assigned anywhere.",
            "%(count)d tariffs duplicated, with new OCPI ids; the copies are not assigned anywhere.", len(copies),
        ) % {"count": len(copies)}, messages.SUCCESS)

    def save_formset(self, request, form, formset, change):
        if formset.model is not TariffAssignment:
            return super().save_formset(request, form, formset, change)
        # Through the service, which locks the scope so a concurrent assignment cannot slip past the check.
        for assignment in formset.save(commit=False):
            _save_assignment(assignment)
        for assignment in formset.deleted_objects:
            tariffs.tariff_assignment_delete(assignment=assignment, now=timezone.now())
        return None


def _save_assignment(assignment: TariffAssignment) -> TariffAssignment:
    fields = {name: getattr(assignment, name) for name in (
        "tariff", "location", "charge_point", "connector", "customer_group", "valid_from", "valid_until")}
    if assignment.pk is None:
        return tariffs.tariff_assign(**fields)
    return tariffs.tariff_assignment_update(assignment=assignment, data=fields)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- assignments --------------------------------------------------------------------------------------------


class TariffAssignmentForm(forms.ModelForm):
    class Meta:
        model = TariffAssignment
        fields = "__all__"  # noqa: DJ007 - the admin narrows it to its fieldsets

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                tariffs.tariff_assignment_check(assignment=self.instance)
            except ValidationError as exc:
                _add_errors(self, exc)


class ActiveFilter(admin.SimpleListFilter):
    title = _("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("now", _("now")), ("future", _("not started")), ("ended", _("ended"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "now":
            return queryset.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now), valid_from__lte=now)
        if self.value() == "future":
            return queryset.filter(valid_from__gt=now)
        if self.value() == "ended":
            return queryset.filter(valid_until__lte=now)
        return queryset


class ScopeFilter(admin.SimpleListFilter):
    title = _("place")
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("network", _("whole network")), ("location", _("location")), ("charge_point", _("charge point")),
                ("connector", _("connector"))]

    def queryset(self, request, queryset):
        if self.value() == "network":
            return queryset.filter(location__isnull=True, charge_point__isnull=True, connector__isnull=True)
        if self.value() in ("location", "charge_point", "connector"):
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(TariffAssignment)
class TariffAssignmentAdmin(admin.ModelAdmin):
    form = TariffAssignmentForm
    list_display = ("tariff", "scope_label", "customer_group", "valid_from", "valid_until")
    list_filter = (ActiveFilter, ScopeFilter, "customer_group", "tariff")
    list_select_related = ("tariff", "location", "charge_point", "connector", "customer_group")
    search_fields = ("tariff__name", "location__name", "charge_point__identity", "customer_group__name")
    autocomplete_fields = ("tariff", "location", "charge_point", "customer_group")
    raw_id_fields = ("connector",)
    date_hierarchy = "valid_from"

    @admin.display(description=_("place"))
    def scope_label(self, assignment: TariffAssignment) -> str:
        return assignment.scope_label

    def save_model(self, request, obj, form, change):
        saved = _save_assignment(obj)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        # A started assignment is the record of what priced sessions; it is ended, not deleted.
        return super().has_delete_permission(request, obj) and (obj is None or obj.valid_from > timezone.now())

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            tariffs.tariff_assignment_delete(assignment=assignment, now=timezone.now())

    def delete_model(self, request, obj):
        tariffs.tariff_assignment_delete(assignment=obj, now=timezone.now())


# --- price feeds --------------------------------------------------------------------------------------------


class PriceFeedImportForm(forms.Form):
    file = forms.FileField(help_text=_('CSV lines "start,price", e.g. 2026-03-01T00:00:00+01:00,84.12; '
                                       "a header line is optional."))
    unit = forms.ChoiceField(choices=[("mwh", _("per MWh (as exchanges publish)")), ("kwh", _("per kWh"))],
                             help_text=_("Prices excl. VAT, in the feed's currency."))


@admin.register(PriceFeed)
class PriceFeedAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "currency", "interval_s", "value_count", "last_value_at")
    search_fields = ("code", "name")
    readonly_fields = ("recent_values", "created_at")
    change_form_template = "admin/billing/pricefeed/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(value_total=Count("values"), last_start=Max("values__starts_at"))

    @admin.display(description=_("values"), ordering="value_total")
    def value_count(self, feed: PriceFeed) -> int:
        return feed.value_total

    @admin.display(description=_("last interval"), ordering="last_start")
    def last_value_at(self, feed: PriceFeed):
        return feed.last_start

    @admin.display(description=_("recent values (per kWh excl. VAT)"))
    def recent_values(self, feed: PriceFeed) -> str:
        values = list(feed.values.order_by("-starts_at")[:48]) if feed.pk else []
        if not values:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>",
                                ((value.starts_at, value.price_per_kwh) for value in values))
        return format_html("<table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
                           _("start"), _("price"), rows)

    def get_urls(self):
        return [path("<path:object_id>/import/", self.admin_site.admin_view(self.import_csv_view),
                     name="billing_pricefeed_import")] + super().get_urls()

    def import_csv_view(self, request, object_id):
        feed = get_object_or_404(PriceFeed, pk=object_id)
        if not self.has_change_permission(request, feed):
            return redirect("admin:index")
        form = PriceFeedImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = feeds.price_feed_import_csv(feed=feed, file=form.cleaned_data["file"],
                                                     unit=form.cleaned_data["unit"])
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                self.message_user(request, _("Imported %(result)s.") % {"result": result}, messages.SUCCESS)
                return redirect(reverse("admin:billing_pricefeed_change", args=[feed.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "feed": feed, "form": form,
                   "title": _("Import prices into %(feed)s") % {"feed": feed}, "submit": _("Import")}
        return TemplateResponse(request, "admin/billing/pricefeed/import_csv.html", context)
