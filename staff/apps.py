from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The operator's staff: their roles, two-factor sign-in, session expiry and the audit log of what they do."""

    name = "staff"
    verbose_name = "Staff and security"

    def ready(self) -> None:
        from staff import hooks

        hooks.connect(self)
