"""Customers' Celery tasks: the daily erasure of closed accounts (idempotent: an erased request is done)."""

from celery import shared_task

from customers.privacy import account_deletions_process_due


@shared_task(name="customers.erase_closed_accounts", acks_late=True, soft_time_limit=1500, time_limit=1800)
def erase_closed_accounts() -> int:
    return account_deletions_process_due()
