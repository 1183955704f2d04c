"""Ad-hoc charging listens to the stations app and to rating, which know nothing of it: a session started with
an ad-hoc token links to its AdHocSession; a charge record of one settles it after commit."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.models import AdHocSession, ChargeDetailRecord
from stations.models import ChargingSession

from .services import adhoc_session_link
from .tasks import adhoc_settle


@receiver(post_save, sender=ChargingSession, dispatch_uid="billing.adhoc_link_session")
def link_started_session(sender, instance: ChargingSession, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.id_tag.startswith("AH"):
        adhoc_session_link(charging_session=instance)


@receiver(post_save, sender=ChargeDetailRecord, dispatch_uid="billing.adhoc_settle_on_record")
def settle_on_record(sender, instance: ChargeDetailRecord, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.kind == ChargeDetailRecord.Kind.CHARGE and instance.id_token_id:
        if AdHocSession.objects.filter(id_token_id=instance.id_token_id).exists():
            adhoc_settle.delay_on_commit(instance.pk)
