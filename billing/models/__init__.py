"""Billing's data: tariffs and where they apply, price feeds, charge detail records, loyalty."""

from .cdrs import ChargeDetailRecord
from .feeds import PriceFeed, PriceFeedValue
from .invoices import BillingProfile, Invoice, InvoiceLine, NumberSeries, OperatorProfile
from .loyalty import (
    Membership,
    MembershipPlan,
    PointsCampaign,
    PointsEntry,
    PromoCode,
    PromoRedemption,
)
from .payments import DunningCase, Payment, PaymentAccount, PrepaidLedgerEntry, SavedPaymentMethod, WebhookEvent
from .tariffs import Tariff, TariffAssignment, TariffElement

__all__ = [
    "BillingProfile", "ChargeDetailRecord", "Invoice", "InvoiceLine", "Membership", "MembershipPlan", "NumberSeries",
    "OperatorProfile", "PointsCampaign", "PointsEntry", "PriceFeed", "PriceFeedValue", "PromoCode", "PromoRedemption",
    "Tariff", "TariffAssignment", "TariffElement",
    "DunningCase", "Payment", "PaymentAccount", "PrepaidLedgerEntry", "SavedPaymentMethod", "WebhookEvent",
]  # fmt: skip
