"""The Celery application: settings come from Django's (CELERY_*), tasks from every installed app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evbackoffice.settings")

app = Celery("evbackoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work (billing period close, dunning, ...) is added here by the capabilities that need it.
app.conf.beat_schedule = {}
