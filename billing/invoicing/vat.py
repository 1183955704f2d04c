"""VAT on invoices: each line's EN 16931 category (UNTDID 5305) and rate, and the invoice's breakdown.

Rules
-----
1. A charge record's VAT rate is its tariff's. A rate above zero is category S (standard), a rate of 0 is Z
   (zero rated), and a rate the tariff omits (OCPI: no VAT applies) is E (exempt), printed with
   BILLING_VAT_EXEMPTION_MENTION. Membership fees carry BILLING_FEE_VAT_RATE (category S). A points credit
   reduces the price of the invoice's largest group (its category and rate), as a net amount excl. VAT.
2. Reverse charge only when BILLING_REVERSE_CHARGE is on, for a company customer with a VAT id in another EU
   member state than the operator: every S line becomes AE at 0 % and the invoice carries the Article 196
   mention. Everything else charges the VAT the records were priced with.
3. Rounding. Lines keep exact nets (6 decimals). The breakdown sums the nets per (category, rate), rounds each
   sum once to the currency (half up), and the VAT of a group is round(rounded net x rate). The totals are the
   sums of the groups, so the document is consistent in the EN 16931 sense (BR-CO-14/15, BR-S-08).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from billing.models import InvoiceLine
from billing.pricing import quantize_price

Category = InvoiceLine.VatCategory

EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
REVERSE_CHARGE_MENTION = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)."
)
#: EN 16931 exemption reason codes (VATEX, BT-121) per category that needs one.
#: An exemption (E) is explained by its mention (BT-120) alone: which article applies is the operator's to say.
REASON_CODES = {Category.REVERSE_CHARGE: "VATEX-EU-AE"}


@dataclass(frozen=True)
class VatTreatment:
    """How one invoice's buyer is taxed: normally, or by reverse charge."""

    reverse_charge: bool = False

    def classify(self, rate: Decimal | None) -> tuple[str, Decimal]:
        """The (category, rate in percent) of a line whose supply was priced at `rate` (None: no VAT)."""
        if rate is None:
            return Category.EXEMPT, Decimal(0)
        if rate == 0:
            return Category.ZERO, Decimal(0)
        if self.reverse_charge:
            return Category.REVERSE_CHARGE, Decimal(0)
        return Category.STANDARD, rate


def vat_treatment(*, customer, operator_country: str | None) -> VatTreatment:
    country = str(customer.country or "")
    reverse = (
        settings.BILLING_REVERSE_CHARGE
        and customer.kind == customer.Kind.COMPANY
        and bool(customer.vat_id)
        and operator_country is not None
        and country != operator_country
        and {country, operator_country} <= EU_MEMBER_STATES
    )
    return VatTreatment(reverse_charge=bool(reverse))


def fee_vat_rate() -> Decimal:
    return Decimal(str(settings.BILLING_FEE_VAT_RATE))


def mention(category: str) -> str:
    if category == Category.REVERSE_CHARGE:
        return REVERSE_CHARGE_MENTION
    if category == Category.EXEMPT:
        return settings.BILLING_VAT_EXEMPTION_MENTION
    return ""


def all_mentions() -> tuple[str, ...]:
    return REVERSE_CHARGE_MENTION, settings.BILLING_VAT_EXEMPTION_MENTION


def vat_breakdown(lines, currency: str) -> list[dict]:
    """Per (category, rate), in that order: category, rate (percent), excl_vat, vat, incl_vat (strings rounded
    to the currency), the mention and VATEX reason code where the category needs them."""
    nets: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        nets[(line.vat_category, Decimal(line.vat_rate).normalize())] += Decimal(line.net_amount)
    groups = []
    for (category, rate), exact_net in sorted(nets.items(), key=lambda item: (item[0][0], -item[0][1])):
        net = quantize_price(exact_net, currency)
        vat = quantize_price(net * rate / 100, currency)
        groups.append({
            "category": category, "rate": str(rate.quantize(Decimal("0.01"))), "excl_vat": str(net),
            "vat": str(vat), "incl_vat": str(net + vat), "mention": mention(category),
            "reason_code": REASON_CODES.get(category, ""),
        })  # fmt: skip
    return groups


def breakdown_totals(groups: list[dict]) -> tuple[Decimal, Decimal, Decimal]:
    """(total excl. VAT, total VAT, total incl. VAT) of a breakdown."""
    excl = sum((Decimal(group["excl_vat"]) for group in groups), Decimal(0))
    vat = sum((Decimal(group["vat"]) for group in groups), Decimal(0))
    return excl, vat, excl + vat


def breakdown_notes(groups: list[dict]) -> str:
    """The mentions the document must print (one per category that needs one)."""
    seen = []
    for group in groups:
        if group["mention"] and group["mention"] not in seen:
            seen.append(group["mention"])
    return "\n".join(seen)
