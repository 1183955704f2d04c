"""Who may call the REST API (the default permission class in settings.REST_FRAMEWORK). A module of its own:
DRF imports it while `rest_framework.views` is still loading, so it may import nothing that imports views."""

from rest_framework import permissions


class StaffModelPermissions(permissions.BasePermission):
    """The API's default: staff only, and only on models their role has Django permissions for (reading needs
    `view_<model>`, POST `add_`, PUT/PATCH `change_`, DELETE `delete_`). Staff is more than operators: an
    accountant is staff too, and must read invoices without commanding stations. The model is the view's
    `permission_model`, else its queryset's; an extra action names its permission in `action_permissions`."""

    ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
               "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        named = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if named is not None:
            return user.has_perm(named)
        action = self.ACTIONS.get(request.method)
        if action is None:
            return False
        model = getattr(view, "permission_model", None) or view.queryset.model
        return user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")
