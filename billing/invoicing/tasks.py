"""Invoicing's Celery tasks: the monthly close (beat, see evbackoffice/celery.py) fans out one task per customer,
so several workers share a network's month end. Both are idempotent: a customer's close makes nothing a previous
run made (one invoice per customer, period and currency, and each charge record once, are database constraints)."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import OperationalError

from .periods import billing_today, periods_ending
from .services import customer_period_close, customers_to_bill

logger = logging.getLogger(__name__)


@shared_task(name="billing.close_billing_period", acks_late=True, soft_time_limit=540, time_limit=600)
def close_billing_period(day: str | None = None) -> int:
    """Queues a close for each customer to bill in the periods that ended on the first of `day`'s month (today in
    the billing time zone by default), so a late or repeated run still closes the right periods. Returns how many
    customer closes it queued."""
    first = (date.fromisoformat(day) if day else billing_today()).replace(day=1)
    queued = 0
    for interval, start, end in periods_ending(first):
        customer_ids = customers_to_bill(period_start=start, period_end=end)
        for customer_id in customer_ids:
            close_customer_period.delay_on_commit(customer_id, start.isoformat(), end.isoformat())
        logger.info("Closing the %s period %s..%s: %d customers queued", interval, start, end, len(customer_ids))
        queued += len(customer_ids)
    return queued


@shared_task(
    name="billing.close_customer_period", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=5,
    retry_backoff_max=300, retry_jitter=True, max_retries=8, soft_time_limit=120, time_limit=180,
)
def close_customer_period(customer_id: int, period_start: str, period_end: str) -> list[int]:
    """Drafts and issues one customer's invoices for the period; returns the ids it made (none on a rerun)."""
    made = customer_period_close(
        customer_id=customer_id, period_start=date.fromisoformat(period_start),
        period_end=date.fromisoformat(period_end),
    )
    return [invoice.pk for invoice in made]
