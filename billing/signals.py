"""Signal receivers connected in BillingConfig.ready(): a session that stops is rated after its transaction
commits. The stations app knows nothing of billing; billing listens."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.models import ChargeDetailRecord
from billing.tasks import rate_session
from stations.models import ChargingSession


@receiver(post_save, sender=ChargingSession, dispatch_uid="billing.rate_stopped_session")
def rate_stopped_session(sender, instance: ChargingSession, created: bool, raw: bool = False, **kwargs) -> None:
    """Queue rating when a saved session is stopped, not waiting for review and not rated yet. Saving it again
    after a review cleared the flag rates it then. A message lost on the way is caught by the sweep."""
    if raw or instance.state != ChargingSession.State.COMPLETED or instance.needs_review:
        return
    if ChargeDetailRecord.objects.filter(session_id=instance.pk).exists():
        return
    rate_session.delay_on_commit(instance.pk)
