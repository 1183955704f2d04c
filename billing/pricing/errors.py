"""The errors of the pricing engine: each names the field at fault and the rule it breaks."""


class PricingError(ValueError):
    """Something makes a session impossible to price; `field` says where, `rule` says why."""

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}" if field else rule)


class TariffError(PricingError):
    """An invalid tariff. `field` is the OCPI path, e.g. `elements[1].price_components[0].step_size`."""


class SessionFactsError(PricingError):
    """Session facts that cannot be priced (impossible meter values, naive times, missing data the tariff
    needs). The rating layer flags such a session for review instead of pricing it."""


class PriceFeedError(PricingError):
    """A dynamic price is needed for a moment the price feed does not cover."""
