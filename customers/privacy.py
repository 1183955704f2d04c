"""Privacy (GDPR): a customer's data as JSON (Art. 15/20), and closing an account with erasure (Art. 17).

Export: what the signed-in person may see in the portal, nothing more. The account holder or fleet manager gets
the whole account (its people, cards, sessions, charge records, invoice metadata, payments, prepaid ledger,
points, memberships, promotions); a company's driver gets their own login, cards, sessions and charge records.

Deletion, in two steps:
1. `account_deletion_request`: recorded at once (AccountDeletionRequest), the account is closed (no new
   sessions, memberships or top-ups), its valid cards are blocked (and the block pushed to stations' local
   lists), running memberships end tomorrow. The logins keep working so that open invoices can be seen and paid.
2. `account_deletion_process` (run daily by `customers.erase_closed_accounts`, or `manage.py
   erase_closed_accounts`): once nothing is owed either way (no session in progress or unpriced, no charge
   record or membership time not yet invoiced, no unpaid invoice, no unrefunded credit note, a zero prepaid
   balance) the personal data is erased: the logins are deactivated and anonymised (name, e-mail, password,
   verified addresses, failed-login records), cards lose their link to a person and their label, card orders
   lose their delivery address, saved payment methods are removed (also at the provider), and a private
   customer's name, contact and address are replaced. What must be kept stays: issued invoices and credit notes
   (immutable snapshots with the buyer's name and address) until `retain_invoices_until` (end of the year of
   the last invoice + BILLING_RETENTION_YEARS; HGB §257, AO §147), and the charge records and sessions they
   document, which name a card UID, not a person. A company's legal name, VAT id and address are company data,
   not personal data, and stay with its invoices. Unused loyalty points lapse.

Not done here: deleting the invoices once the retention period is over (issued invoices are never deleted by
code; staff export and purge them), and deleting the customer object at the payment provider (Stripe keeps its
own payment records under its own legal duties; staff delete it in the provider's dashboard if asked).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import AccountDeletionRequest, CardOrder, Customer, IdToken, User
from customers.portal.access import sees_whole_account, visible_sessions, visible_tokens

logger = logging.getLogger(__name__)

ERASED_NAME = "Erased account"

# --- export -----------------------------------------------------------------------------------------------
CUSTOMER_FIELDS = ("number", "kind", "name", "email", "phone", "address_line1", "address_line2", "postal_code",
                   "city", "country", "vat_id", "currency", "language", "status", "created_at")
USER_FIELDS = ("username", "email", "first_name", "last_name", "fleet_role", "date_joined", "last_login")
TOKEN_FIELDS = ("uid", "type", "visual_number", "contract_id", "status", "expires_at", "label", "user__email",
                "created_at")
SESSION_FIELDS = ("id", "started_at", "stopped_at", "state", "meter_start_wh", "meter_stop_wh", "stop_reason",
                  "id_tag", "evse__evse_id", "charge_point__location__name", "charge_point__location__address",
                  "charge_point__location__city")
CDR_FIELDS = ("ocpi_id", "kind", "session_id", "token_uid", "start_date_time", "end_date_time", "total_energy_wh",
              "total_time_s", "total_parking_time_s", "tariff_cost_incl_vat", "discount_incl_vat",
              "total_cost_excl_vat", "total_cost_incl_vat", "cost_breakdown", "vat_breakdown")
INVOICE_FIELDS = ("number", "kind", "status", "currency", "period_start", "period_end", "issue_date", "due_date",
                  "total_excl_vat", "total_vat", "total_incl_vat", "paid_at", "buyer")
PAYMENT_FIELDS = ("purpose", "state", "amount", "amount_currency", "invoice__number", "created_at", "completed_at",
                  "failure_message")
ORDER_FIELDS = ("recipient", "address_line1", "address_line2", "postal_code", "city", "country", "state",
                "created_at", "card__visual_number")


def customer_data_export(*, user: User) -> dict:
    """Everything the portal would show this person, as JSON-ready data (DjangoJSONEncoder for dates/Decimals)."""
    from allauth.account.models import EmailAddress

    from billing.models import ChargeDetailRecord

    customer = user.customer
    whole = sees_whole_account(user)
    people = customer.users.all() if whole else User.objects.filter(pk=user.pk)
    orders = CardOrder.objects.filter(customer=customer)
    data = {
        "exported_at": timezone.now(),
        "scope": "account" if whole else "driver",
        "account": _values(Customer.objects.filter(pk=customer.pk), CUSTOMER_FIELDS)[0] if whole
        else {"number": customer.number, "name": customer.name, "kind": customer.kind},
        "users": _values(people.order_by("pk"), USER_FIELDS),
        "email_addresses": _values(EmailAddress.objects.filter(user__in=people).order_by("pk"),
                                   ("user__email", "email", "verified", "primary")),
        "cards": _values(visible_tokens(user).order_by("pk"), TOKEN_FIELDS),
        "card_orders": _values((orders if whole else orders.filter(user=user)).order_by("pk"), ORDER_FIELDS),
        "sessions": _values(visible_sessions(user).order_by("started_at", "pk"), SESSION_FIELDS),
        "charge_records": _values(
            ChargeDetailRecord.objects.filter(session__in=visible_sessions(user)).order_by("start_date_time", "pk"),
            CDR_FIELDS,
        ),
    }
    if whole:
        data.update(_account_money(customer))
    return data


def _account_money(customer: Customer) -> dict:
    from billing.loyalty.points import points_balance
    from billing.models import Invoice, Membership, Payment, PointsEntry, PrepaidLedgerEntry, PromoRedemption

    return {
        "invoices": _values(Invoice.objects.filter(customer=customer, status=Invoice.Status.ISSUED)
                            .order_by("issue_date", "pk"), INVOICE_FIELDS),
        "payments": _values(Payment.objects.filter(customer=customer).order_by("created_at", "pk"), PAYMENT_FIELDS),
        "payment_methods": _values(
            _saved_methods(customer), ("kind", "brand", "last4", "exp_month", "exp_year", "wallet", "is_default")
        ),
        "prepaid_ledger": _values(PrepaidLedgerEntry.objects.filter(customer=customer).order_by("created_at", "pk"),
                                  ("kind", "amount", "amount_currency", "invoice__number", "note", "created_at")),
        "points_balance": points_balance(customer=customer),
        "points": _values(PointsEntry.objects.filter(customer=customer).order_by("created_at", "pk"),
                          ("kind", "points", "expires_on", "note", "created_at")),
        "memberships": _values(Membership.objects.filter(customer=customer).order_by("starts_on", "pk"),
                               ("plan__name", "starts_on", "ends_on", "created_at")),
        "promotions": _values(PromoRedemption.objects.filter(customer=customer).order_by("redeemed_at", "pk"),
                              ("promo_code__code", "redeemed_at")),
        "deletion_requests": _values(customer.deletion_requests.order_by("pk"),
                                     ("state", "requested_at", "erased_at", "retain_invoices_until")),
    }


def _saved_methods(customer: Customer):
    from billing.models import SavedPaymentMethod

    return SavedPaymentMethod.objects.filter(account__customer=customer).order_by("pk")


def _values(queryset, fields) -> list[dict]:
    return [{key.replace("__", "_"): value for key, value in row.items()} for row in queryset.values(*fields)]


# --- deletion ---------------------------------------------------------------------------------------------
def account_deletion_request(*, customer: Customer, requested_by: User) -> AccountDeletionRequest:
    """Records the request (or finds the one in progress), closes the account and blocks its cards."""
    from customers.tokens import token_block

    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        existing = customer.deletion_requests.filter(state=AccountDeletionRequest.State.REQUESTED).first()
        if existing is not None:
            return existing
        deletion = AccountDeletionRequest.objects.create(customer=customer, requested_by=requested_by)
        Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.CLOSED, updated_at=timezone.now())
        for token in IdToken.objects.filter(customer=customer, status=IdToken.Status.VALID).order_by("pk"):
            token_block(token=token, requested_by=requested_by)
        _end_memberships(customer)
    return deletion


def _end_memberships(customer: Customer) -> None:
    from billing.loyalty.memberships import membership_end
    from billing.models import Membership

    tomorrow = timezone.localdate() + timedelta(days=1)
    running = Membership.objects.filter(customer=customer).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=tomorrow))
    for membership in running.order_by("pk"):
        membership_end(membership=membership, ends_on=max(tomorrow, membership.starts_on + timedelta(days=1)))


def account_deletions_process_due(*, now: datetime | None = None) -> int:
    """Tries every request in progress; returns how many accounts were erased. Idempotent, for a daily task."""
    erased = 0
    pending = AccountDeletionRequest.objects.filter(state=AccountDeletionRequest.State.REQUESTED).order_by("pk")
    for deletion_id in pending.values_list("pk", flat=True):
        try:
            erased += account_deletion_process(deletion=AccountDeletionRequest.objects.get(pk=deletion_id), now=now)
        except Exception:
            logger.exception("Erasing the account of deletion request %s failed; the next run tries again",
                             deletion_id)
    return erased


def account_deletion_process(*, deletion: AccountDeletionRequest, now: datetime | None = None) -> bool:
    """Erases the personal data if nothing is owed any more; otherwise records what it waits for."""
    now = now or timezone.now()
    if deletion.state != AccountDeletionRequest.State.REQUESTED:
        return False
    customer = deletion.customer
    waiting = still_owed(customer)
    if not waiting:
        waiting = _remove_payment_methods(customer)
    if waiting:
        AccountDeletionRequest.objects.filter(pk=deletion.pk).update(checked_at=now, waiting_for="\n".join(waiting))
        return False
    with transaction.atomic():
        deletion = AccountDeletionRequest.objects.select_for_update().get(pk=deletion.pk)
        if deletion.state != AccountDeletionRequest.State.REQUESTED:
            return False
        _erase(customer)
        deletion.state, deletion.erased_at, deletion.checked_at, deletion.waiting_for = (
            AccountDeletionRequest.State.ERASED, now, now, "")
        deletion.retain_invoices_until = _retention_end(customer)
        deletion.save()
    return True


def still_owed(customer: Customer) -> list[str]:
    """Why the account's personal data cannot be erased yet: money or charging not settled (empty: nothing)."""
    from billing.models import ChargeDetailRecord, InvoiceLine, Membership
    from stations.models import ChargingSession

    reasons = []
    sessions = ChargingSession.objects.filter(customer=customer)
    if sessions.filter(state=ChargingSession.State.ACTIVE).exists():
        reasons.append(_("A charging session is in progress."))
    priced = ChargeDetailRecord.objects.filter(session=OuterRef("pk"))
    if sessions.filter(state=ChargingSession.State.COMPLETED).filter(~Exists(priced)).exists():
        reasons.append(_("A charging session has not been priced yet."))
    invoiced = InvoiceLine.objects.filter(cdr=OuterRef("pk"), credited_line__isnull=True, invoice__status="issued")
    records = ChargeDetailRecord.objects.filter(customer=customer, id_token__adhoc_session__isnull=True)
    if records.filter(~Exists(invoiced)).exists():
        reasons.append(_("Charging sessions are waiting for the next invoice."))
    last_period_end = customer.invoices.filter(status="issued", kind="invoice").aggregate(end=Max("period_end"))["end"]
    memberships = Membership.objects.filter(customer=customer)
    if last_period_end is not None:
        memberships = memberships.filter(Q(ends_on__isnull=True) | Q(ends_on__gt=last_period_end))
    if memberships.exists():
        reasons.append(_("A membership fee is waiting for the next invoice."))
    reasons += _money_owed(customer)
    return reasons


def _money_owed(customer: Customer) -> list[str]:
    from billing.invoicing.selectors import invoices_with_credit_state
    from billing.models import DunningCase, Invoice, Payment, PrepaidLedgerEntry

    reasons = []
    invoices = Invoice.objects.filter(customer=customer)
    unpaid = invoices_with_credit_state(
        invoices.filter(kind=Invoice.Kind.INVOICE, status=Invoice.Status.ISSUED, paid_at__isnull=True)
    ).filter(fully_credited=False).exclude(dunning__state=DunningCase.State.WRITTEN_OFF)
    if unpaid.exists():
        reasons.append(_("An invoice is not paid yet."))
    if invoices.filter(status=Invoice.Status.DRAFT).exists():
        reasons.append(_("An invoice is being prepared."))
    refunded = Payment.objects.filter(invoice=OuterRef("pk"), purpose=Payment.Purpose.REFUND,
                                      state=Payment.State.SUCCEEDED)
    to_balance = PrepaidLedgerEntry.objects.filter(invoice=OuterRef("pk"), kind=PrepaidLedgerEntry.Kind.REFUND)
    owed_back = invoices.filter(kind=Invoice.Kind.CREDIT_NOTE, status=Invoice.Status.ISSUED,
                                credited_invoice__paid_at__isnull=False)
    if owed_back.filter(~Exists(refunded), ~Exists(to_balance)).exists():
        reasons.append(_("A credit note has not been refunded yet."))
    balances = (PrepaidLedgerEntry.objects.filter(customer=customer).values("amount_currency")
                .annotate(total=Sum("amount")).exclude(total=0))
    if balances.exists():
        reasons.append(_("The prepaid balance is not zero (staff refund or settle it)."))
    return reasons


def _remove_payment_methods(customer: Customer) -> list[str]:
    """Saved cards are removed at the provider and here (outside a transaction: the provider is remote)."""
    from billing.payments import payment_method_detach

    for method in _saved_methods(customer):
        try:
            payment_method_detach(method=method)
        except Exception as error:  # the provider is down or refuses: try again on the next run
            logger.warning("Removing payment method %s failed: %s", method.pk, error)
            return [_("A saved payment method could not be removed at the payment provider yet.")]
    return []


def _erase(customer: Customer) -> None:
    from allauth.account.models import EmailAddress
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    people = list(User.objects.select_for_update().filter(customer=customer).order_by("pk"))
    logins = {name.lower() for person in people for name in [
        person.username, person.email, *EmailAddress.objects.filter(user=person).values_list("email", flat=True),
    ] if name}
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username__in=logins).delete()
    EmailAddress.objects.filter(user__in=people).delete()
    for person in people:
        person.username, person.email, person.first_name, person.last_name = f"erased-{person.pk}", "", "", ""
        person.is_active = False
        person.set_unusable_password()
        person.save()
    IdToken.objects.filter(customer=customer).update(user=None, label="", updated_at=timezone.now())
    CardOrder.objects.filter(customer=customer).update(
        recipient="", address_line1="", address_line2="", postal_code="", city="", updated_at=timezone.now())
    contact = {"email": "", "phone": "", "status": Customer.Status.CLOSED, "updated_at": timezone.now()}
    if customer.kind == Customer.Kind.PERSON:
        contact.update(name=ERASED_NAME, address_line1="", address_line2="", postal_code="", city="")
    Customer.objects.filter(pk=customer.pk).update(**contact)


def _retention_end(customer: Customer) -> date | None:
    last = customer.invoices.filter(status="issued").aggregate(last=Max("issue_date"))["last"]
    if last is None:
        return None
    return date(last.year + settings.BILLING_RETENTION_YEARS, 12, 31)
