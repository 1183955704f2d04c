"""Admin: ad-hoc sessions, read-only (states move only through the services), with hold, capture, shortfall."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from billing.models import AdHocSession


@admin.register(AdHocSession)
class AdHocSessionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "evse", "state", "hold_amount", "captured_amount", "shortfall", "currency",
                    "receipt_number")
    list_filter = ("state",)
    search_fields = ("uuid", "evse__evse_id", "receipt_number", "email", "id_token__uid")
    readonly_fields = ("qr_code",)
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + ["qr_code"]

    @admin.display(description="QR code of the EVSE")
    def qr_code(self, obj):
        if obj is None or not obj.evse.evse_id:
            return "-"
        return format_html('<a href="{}" target="_blank">print</a>', reverse("adhoc:qr", args=[obj.evse.evse_id]))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
