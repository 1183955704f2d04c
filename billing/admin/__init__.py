"""Billing admin: each module registers its models (tariffs, cdrs, loyalty)."""

from billing.adhoc import admin as adhoc_admin  # noqa: F401  (registers AdHocSession)

from . import (
    cdrs,  # noqa: F401, E402  (registers ChargeDetailRecord)
    invoices,  # noqa: F401, E402  (registers Invoice, OperatorProfile, BillingProfile)
    loyalty,  # noqa: F401, E402  (registers plans, memberships, campaigns, points, promotions)
    payments,  # noqa: F401, E402  (registers payments, webhook events, prepaid ledger, dunning)
    tariffs,  # noqa: F401, E402  (registers Tariff, TariffAssignment, PriceFeed)
)
