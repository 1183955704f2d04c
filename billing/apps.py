from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import signals  # noqa: F401  (connects the receivers)
        from billing.adhoc import receivers  # noqa: F401  (ad-hoc sessions follow their station session)
