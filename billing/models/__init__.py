"""Billing's data: tariffs and where they apply, price feeds, charge detail records, loyalty, invoices,
payments and ad-hoc (card) sessions."""

from .adhoc import AdHocSession
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
    "AdHocSession", "BillingProfile", "ChargeDetailRecord", "DunningCase", "Invoice", "InvoiceLine", "Membership",
    "MembershipPlan", "NumberSeries", "OperatorProfile", "Payment", "PaymentAccount", "PointsCampaign", "PointsEntry",
    "PrepaidLedgerEntry", "PriceFeed", "PriceFeedValue", "PromoCode", "PromoRedemption", "SavedPaymentMethod",
    "Tariff", "TariffAssignment", "TariffElement", "WebhookEvent",
]  # fmt: skip
