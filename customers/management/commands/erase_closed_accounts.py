"""manage.py erase_closed_accounts: erase the personal data of closed accounts that owe nothing, as the daily
task does (see customers/privacy.py for what is erased and what is kept)."""

from django.core.management.base import BaseCommand

from customers.models import AccountDeletionRequest
from customers.privacy import account_deletions_process_due


class Command(BaseCommand):
    help = "Erases the personal data of accounts whose deletion was requested, once nothing is owed either way."

    def handle(self, *args, **options):
        erased = account_deletions_process_due()
        waiting = AccountDeletionRequest.objects.filter(state=AccountDeletionRequest.State.REQUESTED)
        for deletion in waiting.select_related("customer"):
            reasons = deletion.waiting_for.replace("\n", "; ")
            self.stdout.write(f"{deletion.customer.number}  waiting: {reasons}")
        self.stdout.write(self.style.SUCCESS(f"{erased} accounts erased, {waiting.count()} still waiting."))
