"""Billing admin: each module registers its models (tariffs, cdrs, loyalty)."""

from . import (
    cdrs,  # noqa: F401, E402  (registers ChargeDetailRecord)
    loyalty,  # noqa: F401, E402  (registers plans, memberships, campaigns, points, promotions)
    tariffs,  # noqa: F401, E402  (registers Tariff, TariffAssignment, PriceFeed)
)
