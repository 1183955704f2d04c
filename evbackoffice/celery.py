"""The Celery application: settings come from Django's (CELERY_*), tasks from every installed app."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evbackoffice.settings")

app = Celery("evbackoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work: each capability adds its entries here.
app.conf.beat_schedule = {
    "stations.expire_commands": {"task": "stations.expire_commands", "schedule": 60.0},
    "stations.mark_silent_stations_offline": {"task": "stations.mark_silent_stations_offline", "schedule": 60.0},
    "stations.purge_journal": {"task": "stations.purge_journal", "schedule": crontab(hour=3, minute=17)},
    # Rates sessions whose "stopped" message was lost or whose worker crashed (rating is idempotent).
    "billing.rate_pending_sessions": {"task": "billing.rate_pending_sessions", "schedule": 120.0},
    # Loyalty points past their validity lapse just after midnight UTC (idempotent: one entry per day's due).
    "billing.expire_points": {"task": "billing.expire_points", "schedule": crontab(hour=0, minute=23)},
    # On the 1st the previous month closes (and the previous quarter on quarter starts); idempotent reruns.
    "billing.close_billing_period": {
        "task": "billing.close_billing_period", "schedule": crontab(day_of_month=1, hour=2, minute=7),
    },
    # Failed invoice collections due for their next attempt, and payments whose answer was lost (idempotent).
    "billing.adhoc_expire_holds": {"task": "billing.adhoc_expire_holds", "schedule": 300.0},
    "billing.retry_failed_collections": {"task": "billing.retry_failed_collections", "schedule": crontab(minute=41)},
    # Closed accounts that owe nothing any more have their personal data erased (GDPR; idempotent).
    "customers.erase_closed_accounts": {
        "task": "customers.erase_closed_accounts", "schedule": crontab(hour=4, minute=13),
    },
}
