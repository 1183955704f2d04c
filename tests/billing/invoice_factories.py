"""factory_boy factories for invoicing: the operator's profile, customers' billing profiles, invoices and lines.

`InvoiceFactory()` is a DRAFT invoice (no number) for June 2026 in EUR with no lines; add lines with
`InvoiceLineFactory(invoice=...)` (a 10.00 EUR net charging line at 19 % VAT by default), then issue it with
`billing.invoicing.invoice_issue(invoice=...)` to get a numbered, immutable invoice. Issued invoices are never
built directly by these factories: the code and the database refuse to change them afterwards.
"""

from datetime import date
from decimal import Decimal

import factory

from billing.models import BillingProfile, Invoice, InvoiceLine, OperatorProfile
from tests.factories import CustomerFactory


class OperatorProfileFactory(factory.django.DjangoModelFactory):
    """The singleton: `django_get_or_create` on `singleton` returns the existing row rather than failing."""

    class Meta:
        model = OperatorProfile
        django_get_or_create = ("singleton",)

    singleton = True
    legal_name = "Voltpark Charging GmbH"
    address_line1 = "Invalidenstrasse 117"
    postal_code = "10115"
    city = "Berlin"
    country = "DE"
    vat_id = "DE123456789"
    tax_number = "37/123/45678"
    registration = "Amtsgericht Berlin HRB 123456 B"
    managing_directors = "Erika Mustermann"
    email = "billing@voltpark.example"
    phone = "+49 30 1234567"
    website = "https://voltpark.example"
    bank_name = "Berliner Bank"
    iban = "DE89370400440532013000"
    bic = "COBADEFFXXX"
    payment_terms_days = 14
    review_drafts = False


class BillingProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingProfile

    customer = factory.SubFactory(CustomerFactory)
    interval = BillingProfile.Interval.MONTHLY
    einvoice = None


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A draft invoice for June 2026 (period_end is exclusive) in the customer's currency."""

    class Meta:
        model = Invoice

    kind = Invoice.Kind.INVOICE
    status = Invoice.Status.DRAFT
    customer = factory.SubFactory(CustomerFactory)
    currency = factory.LazyAttribute(lambda o: str(o.customer.currency))
    period_start = date(2026, 6, 1)
    period_end = date(2026, 7, 1)


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    """A charging line of 10.00 EUR net at 19 % (standard rate), without a charge record."""

    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = InvoiceLine.Kind.CHARGING
    description = factory.Sequence(lambda n: f"Charging session {n}")
    quantity = Decimal("1")
    unit = "session"
    unit_price_excl_vat = Decimal("10.00")
    discount_excl_vat = Decimal("0")
    net_amount = factory.LazyAttribute(lambda o: o.quantity * o.unit_price_excl_vat - o.discount_excl_vat)
    vat_category = InvoiceLine.VatCategory.STANDARD
    vat_rate = Decimal("19")
