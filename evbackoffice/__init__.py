"""evbackoffice: back office for operators of EV charging networks."""

from .celery import app as celery_app

__all__ = ("celery_app",)
