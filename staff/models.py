"""The audit log: one row per change a staff member made or command they sent. Rows are written once, by
staff/audit.py, and never changed: the admin shows them read-only to everybody, superusers included."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        COMMAND = "command", _("station command")
        ACTION = "action", _("bulk action")
        LOGIN = "login", _("signed in")
        LOGOUT = "logout", _("signed out")
        SECURITY = "security", _("two-factor change")

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The user row may be deleted one day; the name they acted under stays.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_username = models.CharField(_("staff member"), max_length=150)
    action = models.CharField(max_length=16, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("model"))
    object_pk = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    summary = models.CharField(max_length=255, blank=True,
                               help_text=_("The admin action's or command's name, or what happened."))
    # Only the fields that changed (all of them for a creation or deletion); secrets appear as "[hidden]".
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_path = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["-created_at"], name="auditentry_created_idx"),
            models.Index(fields=["actor", "-created_at"], name="auditentry_actor_idx"),
            models.Index(fields=["content_type", "object_pk"], name="auditentry_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_username} {self.get_action_display()} {self.object_repr}".strip()

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries are never deleted one by one.")
