"""Customers: driver and company accounts, the users who act for them, and their RFID / app tokens."""

import re
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from djmoney.models.fields import CurrencyField

# eMAID (ISO 15118 / eMI3 contract id): country, provider, instance, optional check digit; dashes optional.
EMAID_RE = r"^[A-Z]{2}-?[A-Z0-9]{3}-?[A-Z0-9]{9}(-?[A-Z0-9])?$"
# EU / UK VAT identification number: country prefix and 2-13 characters (the national formats differ).
VAT_ID_RE = r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$"

validate_emaid = RegexValidator(EMAID_RE, _("Enter a contract id in eMAID form, e.g. DE-ABC-C12345678-9."))
validate_vat_id = RegexValidator(VAT_ID_RE, _("Enter a VAT id with its country prefix, e.g. DE123456789."))


def vat_prefixes(country: str) -> set[str]:
    """VAT id prefixes valid for a country: Greece uses EL, Northern Ireland traders XI, others the ISO code."""
    return {"GR": {"EL"}, "GB": {"GB", "XI"}}.get(country, {country})


def new_customer_number() -> str:
    """A short, unguessable, human-friendly account number (Crockford base32, no I/L/O/U)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "C" + "".join(secrets.choice(alphabet) for _ in range(9))


class User(AbstractUser):
    """A person who signs in: operator staff, or a driver acting for a customer account."""

    class FleetRole(models.TextChoices):
        DRIVER = "driver", _("Driver")
        MANAGER = "manager", _("Fleet manager")

    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    fleet_role = models.CharField(max_length=16, choices=FleetRole.choices, default=FleetRole.DRIVER)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="user_email_unique_ci"),
        ]


class Customer(models.Model):
    """The account that is billed: a private person or a company with any number of drivers."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    number = models.CharField(
        _("customer number"), max_length=20, unique=True, editable=False, default=new_customer_number
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(max_length=200, help_text=_("Full name of the person or legal name of the company."))
    email = models.EmailField(help_text=_("Where invoices and notices are sent."))
    phone = models.CharField(max_length=32, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address (cont.)"), max_length=200, blank=True)
    postal_code = models.CharField(max_length=16)
    city = models.CharField(max_length=100)
    country = CountryField()
    vat_id = models.CharField(_("VAT id"), max_length=15, blank=True, validators=[validate_vat_id])
    currency = CurrencyField(choices=[(c, c) for c in settings.CURRENCIES], default=settings.DEFAULT_CURRENCY)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["status"], name="customer_status_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_empty"),
            models.CheckConstraint(condition=Q(kind__in=["person", "company"]), name="customer_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "closed"]), name="customer_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    def clean_fields(self, exclude=None) -> None:
        # People type VAT ids with spaces, dashes and in lower case; store the canonical form.
        self.vat_id = re.sub(r"[\s.-]", "", self.vat_id or "").upper()
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        if self.vat_id and self.country and self.vat_id[:2] not in vat_prefixes(str(self.country)):
            raise ValidationError({"vat_id": _("The VAT id's prefix does not match the customer's country.")})

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class IdToken(models.Model):
    """An identifier a driver authorises with: an RFID card (OCPP idTag), a contract id, an app token."""

    class Type(models.TextChoices):
        # OCPP 2.0.1 IdTokenEnumType; OCPP 1.6 idTags are ISO14443 / ISO15693 cards in practice.
        ISO14443 = "ISO14443", _("RFID card (ISO 14443)")
        ISO15693 = "ISO15693", _("RFID card (ISO 15693)")
        EMAID = "eMAID", _("Contract (eMAID, ISO 15118)")
        CENTRAL = "Central", _("Central (app / back office)")
        KEY_CODE = "KeyCode", _("Key code")
        LOCAL = "Local", _("Local")
        MAC_ADDRESS = "MacAddress", _("MAC address (Autocharge)")

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        BLOCKED = "blocked", _("Blocked")
        EXPIRED = "expired", _("Expired")

    uid = models.CharField(
        _("UID"), max_length=36, unique=True,
        help_text=_("The identifier the station sends (OCPP idTag / idToken), e.g. the card's UID in hex."),
    )
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.ISO14443)
    visual_number = models.CharField(_("printed number"), max_length=64, blank=True)
    contract_id = models.CharField(
        _("contract id (eMAID)"), max_length=20, blank=True, validators=[validate_emaid]
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VALID)
    expires_at = models.DateTimeField(null=True, blank=True)
    group_id = models.CharField(
        _("group / parent id"), max_length=36, blank=True,
        help_text=_("OCPP parentIdTag: tokens of one group may stop each other's sessions."),
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tokens")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tokens",
        help_text=_("The driver who carries this token, if known."),
    )
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ID token")
        ordering = ["uid"]
        constraints = [
            models.CheckConstraint(condition=~Q(uid=""), name="idtoken_uid_not_empty"),
            models.CheckConstraint(
                condition=Q(status__in=["valid", "blocked", "expired"]), name="idtoken_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.uid

    def clean_fields(self, exclude=None) -> None:
        # Card readers report UIDs in either case; one canonical form keeps the uid unique.
        self.uid = (self.uid or "").strip()
        if self.type in (self.Type.ISO14443, self.Type.ISO15693):
            self.uid = self.uid.upper()
        self.contract_id = (self.contract_id or "").strip().upper()
        super().clean_fields(exclude=exclude)

    def is_usable_at(self, moment) -> bool:
        """Valid, not past its expiry date, and owned by an active customer."""
        if self.status != self.Status.VALID:
            return False
        if self.expires_at is not None and self.expires_at <= moment:
            return False
        return self.customer.is_active


class CustomerGroup(models.Model):
    """A named set of customers that tariffs can be assigned to: a fleet deal, employees, a partner's drivers."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    customers = models.ManyToManyField(Customer, blank=True, related_name="groups")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CardStock(models.Model):
    """A physical RFID card the operator has produced but not yet handed to a customer.

    The card carries its printed number and a short activation code (printed on the card carrier, not on the
    card). A driver links the card in the portal with both; only then does it become an IdToken of their
    account. The code is stored hashed, like a password, so a leaked database does not let anyone claim cards.
    """

    uid = models.CharField(_("UID"), max_length=36, unique=True)
    type = models.CharField(max_length=16, choices=IdToken.Type.choices, default=IdToken.Type.ISO14443)
    visual_number = models.CharField(_("printed number"), max_length=64, unique=True)
    activation_code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    linked_token = models.OneToOneField(
        IdToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="stock_card"
    )
    linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card in stock")
        verbose_name_plural = _("cards in stock")
        ordering = ["visual_number"]

    def __str__(self) -> str:
        return self.visual_number


class CardOrder(models.Model):
    """A driver's request for a new RFID card, sent to the delivery address; staff fulfil it in the admin."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="card_orders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="card_orders"
    )
    recipient = models.CharField(max_length=200)
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address (cont.)"), max_length=200, blank=True)
    postal_code = models.CharField(max_length=16)
    city = models.CharField(max_length=100)
    country = CountryField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    card = models.OneToOneField(
        CardStock, null=True, blank=True, on_delete=models.PROTECT, related_name="order",
        help_text=_("The card sent for this order."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["requested", "sent", "cancelled"]), name="cardorder_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.get_state_display()})"


class AccountDeletionRequest(models.Model):
    """A customer's request to close their account and erase their personal data (GDPR Art. 17).

    Requesting closes the account for charging at once; the personal data is erased later, as soon as nothing
    is owed either way (see customers/privacy.py). Issued invoices are kept for the legal retention period
    (`retain_invoices_until`), since the law requires it.
    """

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested (waiting until nothing is owed)")
        ERASED = "erased", _("Personal data erased")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="deletion_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    checked_at = models.DateTimeField(null=True, blank=True, help_text=_("Last time erasure was attempted."))
    waiting_for = models.TextField(blank=True, help_text=_("What still keeps the data from being erased."))
    erased_at = models.DateTimeField(null=True, blank=True)
    retain_invoices_until = models.DateField(
        null=True, blank=True, help_text=_("Issued invoices must be kept until this day (legal retention)."),
    )

    class Meta:
        verbose_name = _("account deletion request")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["requested", "erased"]), name="accountdeletionrequest_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="requested", erased_at__isnull=True) | Q(state="erased", erased_at__isnull=False),
                name="accountdeletionrequest_erased_has_time",
            ),
            # One request in progress per customer; asking twice finds the first.
            models.UniqueConstraint(
                fields=["customer"], condition=Q(state="requested"), name="accountdeletionrequest_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.get_state_display()})"
