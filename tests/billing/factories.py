"""factory_boy factories for billing's models (tariffs, assignments, price feeds) and customer groups.

`TariffFactory()` is a plain tariff with one element: 0.39 EUR/kWh, 19 % VAT. Pass `elements=False` for a
tariff without elements (to add your own with `TariffElementFactory(tariff=..., ...)`).
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from billing.models import PriceFeed, PriceFeedValue, Tariff, TariffAssignment, TariffElement
from customers.models import CustomerGroup


class TariffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tariff
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"AC public {n}")
    currency = "EUR"
    ocpi_id = factory.Sequence(lambda n: f"T{n:05d}")

    @factory.post_generation
    def elements(obj, create, extracted, **kwargs):
        # Default: one energy element. elements=False: none. elements=[{...}, ...]: these, in order.
        if not create or extracted is False:
            return
        specs = extracted if extracted else [{"energy_price": Decimal("0.39"), "energy_vat": Decimal("19")}]
        for position, spec in enumerate(specs):
            TariffElementFactory(tariff=obj, position=position, **spec)


class TariffElementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TariffElement

    tariff = factory.SubFactory(TariffFactory, elements=False)
    position = 0
    energy_price = Decimal("0.39")
    energy_vat = Decimal("19")


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Fleet {n}")

    @factory.post_generation
    def customers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.customers.add(*extracted)


class TariffAssignmentFactory(factory.django.DjangoModelFactory):
    """Network-wide for everyone by default; pass location/charge_point/connector/customer_group to scope it.
    Created directly (no overlap check); use `billing.tariffs.tariff_assign` to test the service."""

    class Meta:
        model = TariffAssignment

    tariff = factory.SubFactory(TariffFactory)
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    valid_until = None


class PriceFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceFeed

    code = factory.Sequence(lambda n: f"epex-de-{n}")
    name = factory.Sequence(lambda n: f"Day-ahead DE-LU {n}")
    currency = "EUR"
    interval_s = 900


class PriceFeedValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceFeedValue

    feed = factory.SubFactory(PriceFeedFactory)
    starts_at = factory.Sequence(lambda n: timezone.now().replace(minute=0, second=0, microsecond=0)
                                 + timedelta(minutes=15 * n))
    price_per_kwh = Decimal("0.120000")
