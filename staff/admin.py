"""The audit log in the admin: read-only for everybody (superusers too), filterable by who, what, which model
and when, searchable by the object and the staff member."""

import json

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from staff.models import AuditEntry


class ModelFilter(admin.SimpleListFilter):
    """The models that appear in the log, by name (not every content type of the project)."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        ids = AuditEntry.objects.exclude(content_type=None).values_list("content_type", flat=True).distinct()
        types = ContentType.objects.filter(pk__in=ids)
        return sorted(((ct.pk, f"{ct.app_label} | {ct.name}") for ct in types), key=lambda item: item[1])

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(content_type_id=int(self.value()))
        return queryset


class StaffFilter(admin.SimpleListFilter):
    title = _("staff member")
    parameter_name = "who"

    def lookups(self, request, model_admin):
        names = AuditEntry.objects.order_by("actor_username").values_list("actor_username", flat=True).distinct()
        return [(name, name) for name in names if name]

    def queryset(self, request, queryset):
        return queryset.filter(actor_username=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    # What an auditor scans first; the changed fields, path and address are on the entry's page.
    list_display = ("created_at", "actor_username", "action", "object_repr", "summary")
    list_select_related = ("content_type",)
    list_filter = ("action", StaffFilter, ModelFilter, "created_at")
    date_hierarchy = "created_at"
    search_fields = ("object_repr", "=object_pk", "actor_username", "summary")
    search_help_text = _("The object's name or exact id, the staff member, or the action's name.")
    show_full_result_count = False
    fields = ("created_at", "actor_username", "actor", "action", "content_type", "object_pk", "object_repr",
              "summary", "before_json", "after_json", "request_path", "ip_address")
    readonly_fields = fields
    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("fields"))
    def changed_fields(self, entry: AuditEntry) -> str:
        return ", ".join(sorted(set(entry.before or {}) | set(entry.after or {})))[:120]

    @admin.display(description=_("before"))
    def before_json(self, entry: AuditEntry) -> str:
        return _pretty(entry.before)

    @admin.display(description=_("after"))
    def after_json(self, entry: AuditEntry) -> str:
        return _pretty(entry.after)


def _pretty(values) -> str:
    if values is None:
        return "-"
    return format_html("<pre>{}</pre>", json.dumps(values, indent=2, ensure_ascii=False, sort_keys=True))
