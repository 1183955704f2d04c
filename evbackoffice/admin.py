"""Admin helpers shared by every app."""


class ReadOnlyMixin:
    """For rows that only services write (OCPP journal, charge records, ledgers): staff may look, not add,
    edit or delete. Works for ModelAdmin and inlines alike."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
