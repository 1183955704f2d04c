"""Signal receivers connected in BillingConfig.ready(): a session that stops is rated after its transaction
commits. The stations app knows nothing of billing; billing listens."""

import functools

from celery import current_app
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.rating_rounds import rating_rounds
from billing.tasks import rate_session
from stations.models import ChargingSession


@receiver(post_save, sender=ChargingSession, dispatch_uid="billing.rate_stopped_session")
def rate_stopped_session(sender, instance: ChargingSession, created: bool, raw: bool = False, **kwargs) -> None:
    """Queue rating when a saved session is stopped and not waiting for review. Saving it again after a review
    cleared the flag rates it then. Whether it is rated already is the task's question (rating is idempotent),
    not one more query on the station's StopTransaction. With workers, requests go in rounds (rating_rounds.py);
    with tasks run inline (the embedded default), the session is rated on commit. A request lost on the way is
    caught by the sweep."""
    if raw or instance.state != ChargingSession.State.COMPLETED or instance.needs_review:
        return
    if current_app.conf.task_always_eager:
        rate_session.delay_on_commit(instance.pk)
    else:
        transaction.on_commit(functools.partial(rating_rounds.add, instance.pk))
