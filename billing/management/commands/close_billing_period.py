"""manage.py close_billing_period [--period YYYY-MM]: close a month now, as the beat task does on the 1st."""

from django.core.management.base import BaseCommand, CommandError

from billing.invoicing import billing_periods_close_ending, billing_today, month_period
from billing.invoicing.periods import previous_month


class Command(BaseCommand):
    help = (
        "Drafts and issues the invoices of a billing month (default: the previous month, in BILLING_TIME_ZONE) for "
        "monthly customers, and of the quarter it ends for quarterly ones. Idempotent: a rerun issues nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", metavar="YYYY-MM", help="The month to close (default: the previous month).")

    def handle(self, *args, period=None, **options):
        if period:
            try:
                start, end = month_period(period)
            except ValueError as error:
                raise CommandError(str(error)) from None
        else:
            start = previous_month(billing_today().replace(day=1))
            start, end = month_period(f"{start:%Y-%m}")
        made = billing_periods_close_ending(day=end)
        for invoice in made:
            number = invoice.number or "draft"
            self.stdout.write(
                f"{number}  {invoice.customer.number}  {invoice.customer.name}  "
                f"{invoice.period_start:%Y-%m-%d}..{invoice.period_end:%Y-%m-%d}  "
                f"{invoice.total_incl_vat} {invoice.currency}"
            )
        issued = sum(invoice.is_issued for invoice in made)
        self.stdout.write(self.style.SUCCESS(
            f"Closed {start:%Y-%m}: {issued} invoices issued, {len(made) - issued} drafts to review."
        ))  # fmt: skip
