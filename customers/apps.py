from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self):
        from customers import admin_cards  # noqa: F401  (the admin of cards in stock and card orders)
