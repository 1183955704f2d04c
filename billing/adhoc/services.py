"""Writes of ad-hoc charging: start (hold + one-off token), authorisation (remote start), the link to the
station's session, settlement (capture at most the hold, receipt), cancellation and expiry.

Money moves only through the provider with keys derived from the AdHocSession's uuid (`evb-adhoc-<uuid>`,
`-capture`, `-cancel`), stored on the hold's Payment row before the first call, so a repeated request or task
returns the provider's first answer instead of moving money again. Provider calls happen outside database
transactions; each state change is one transaction on the locked AdHocSession row and is idempotent.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from djmoney.money import Money

from billing.models import AdHocSession, ChargeDetailRecord, Payment
from billing.payments.collection import payment_record_result
from billing.payments.providers import PaymentProvider, ProviderError, get_provider
from billing.pricing import quantize_price
from billing.tariffs import tariff_for_session
from customers.models import Customer, IdToken
from stations.commands import command_request
from stations.models import ChargingSession, ConnectorStatus, Evse, StationCommand

from .receipts import receipt_issue, receipt_language

logger = logging.getLogger(__name__)

State = AdHocSession.State
STARTABLE_STATUSES = {ConnectorStatus.AVAILABLE, ConnectorStatus.PREPARING}
FAILED_COMMANDS = {StationCommand.State.REJECTED, StationCommand.State.FAILED, StationCommand.State.TIMEOUT,
                   StationCommand.State.OFFLINE}


class AdHocError(Exception):
    """A guest's request that cannot be served (EVSE unavailable, no price, wrong state): a 4xx, never a 500.
    `message` is English, marked with gettext_noop: the view translates it into the page's language."""

    def __init__(self, message: str, *, status: int = 409):
        super().__init__(message)
        self.message, self.status = message, status


def adhoc_hold_amount(currency: str) -> Money:
    return Money(Decimal(str(settings.ADHOC_HOLD_AMOUNT)).quantize(Decimal("0.01")), currency)


def adhoc_guest_customer() -> Customer:
    """The customer ad-hoc sessions are recorded for (so that CDRs, reporting and the OCPP token checks work):
    the one numbered ADHOC_GUEST_CUSTOMER_NUMBER, created on first use with the operator's address."""
    from billing.models import OperatorProfile

    number = settings.ADHOC_GUEST_CUSTOMER_NUMBER
    found = Customer.objects.filter(number=number).first()
    if found is not None:
        return found
    operator = OperatorProfile.objects.first()
    customer, _ = Customer.objects.get_or_create(number=number, defaults={
        "name": "Ad-hoc guests",
        "email": operator.email if operator else "adhoc@localhost",
        "address_line1": operator.address_line1 if operator else "-",
        "postal_code": operator.postal_code if operator else "-",
        "city": operator.city if operator else "-",
        "country": str(operator.country) if operator else "DE",
    })
    return customer


def adhoc_session_start(*, evse: Evse, payment_method_id: str, email: str = "", language: str = "",
                        provider: PaymentProvider | None = None) -> tuple[AdHocSession, str]:
    """Authorise the hold on the card the browser tokenised (Stripe.js PaymentMethod) and, when authorised,
    remote-start the EVSE. Returns the session and, when the card needs 3-D Secure, the intent's client secret
    for Stripe.js (then the page calls `adhoc_session_confirm`). `language` is the page's: the receipt's."""
    adhoc = _adhoc_create(evse=evse, email=email, language=language)
    provider = provider or get_provider(adhoc.hold.provider)
    try:
        result = provider.authorize_hold(
            amount=adhoc.hold.amount, customer_id=None, method_id=payment_method_id,
            idempotency_key=adhoc.hold.idempotency_key,
            metadata={"evb_payment": str(adhoc.hold.pk), "evb_purpose": "hold", "evb_adhoc": str(adhoc.uuid)},
        )
    except ProviderError as exc:
        payment_record_result(payment=adhoc.hold, result=None, failure=(exc.code or "refused", exc.message))
        return _after_hold_answer(adhoc), ""
    payment_record_result(payment=adhoc.hold, result=result)
    adhoc = _after_hold_answer(adhoc)
    return adhoc, result.client_secret if adhoc.hold.state == Payment.State.REQUIRES_ACTION else ""


def _adhoc_create(*, evse: Evse, email: str, language: str = "") -> AdHocSession:
    with transaction.atomic():
        evse = Evse.objects.select_related("charge_point").get(pk=evse.pk)
        connector = evse.connectors.order_by("ocpp_connector_id").first()
        if connector is None or connector.status not in STARTABLE_STATUSES or not evse.charge_point.is_connected:
            raise AdHocError(gettext_noop("This charging point is not available right now."))
        if AdHocSession.objects.filter(evse=evse, state__in=[State.AUTHORIZED, State.CHARGING]).exists():
            raise AdHocError(gettext_noop("This charging point is in use."))
        tariff = tariff_for_session(connector=connector, customer=None, at=timezone.now())
        if tariff is None:
            raise AdHocError(gettext_noop("This charging point has no public price, so it cannot be paid by card."))
        guest = adhoc_guest_customer()
        hold = adhoc_hold_amount(str(tariff.currency))
        # OCPP 1.6 idTags are at most 20 characters; the random part makes the token unguessable.
        token = IdToken.objects.create(uid=f"AH{secrets.token_hex(9).upper()}", type=IdToken.Type.CENTRAL,
                                       customer=guest, label="Ad-hoc (card)",
                                       expires_at=timezone.now() + timedelta(days=2))
        adhoc = AdHocSession.objects.create(evse=evse, connector=connector, id_token=token, email=email,
                                            language=receipt_language(language),
                                            currency=str(tariff.currency), hold_amount=hold.amount)
        adhoc.hold = Payment.objects.create(purpose=Payment.Purpose.HOLD, customer=guest, amount=hold,
                                            idempotency_key=f"evb-adhoc-{adhoc.uuid}")
        adhoc.save(update_fields=["hold"])
    return adhoc


def adhoc_session_confirm(*, adhoc: AdHocSession, provider: PaymentProvider | None = None) -> AdHocSession:
    """After Stripe.js finished 3-D Secure: ask the provider for the intent and go on from its state."""
    adhoc = AdHocSession.objects.select_related("hold").get(pk=adhoc.pk)
    if adhoc.state != State.PENDING_PAYMENT or not adhoc.hold.provider_intent_id:
        return adhoc
    provider = provider or get_provider(adhoc.hold.provider)
    payment_record_result(payment=adhoc.hold, result=provider.retrieve_intent(adhoc.hold.provider_intent_id))
    return _after_hold_answer(adhoc)


def _after_hold_answer(adhoc: AdHocSession) -> AdHocSession:
    """The hold's Payment moved: authorised -> remote start; failed -> the session failed."""
    with transaction.atomic():
        adhoc = AdHocSession.objects.select_for_update(of=("self",)).select_related(
            "hold", "evse__charge_point", "id_token").get(pk=adhoc.pk)
        if adhoc.state != State.PENDING_PAYMENT:
            return adhoc
        if adhoc.hold.state == Payment.State.SUCCEEDED:  # requires_capture: the money is held
            adhoc.state, adhoc.authorized_at = State.AUTHORIZED, timezone.now()
            adhoc.start_command = command_request(
                charge_point=adhoc.evse.charge_point, action="RemoteStartTransaction",
                payload={"connectorId": adhoc.evse.ocpp_evse_id, "idTag": adhoc.id_token.uid},
            )
        elif adhoc.hold.state in (Payment.State.FAILED, Payment.State.CANCELED):
            adhoc.state = State.FAILED
            refused = gettext_noop("The card was refused.")
            adhoc.failure = adhoc.hold.failure_message or adhoc.hold.failure_code or refused
            _token_retire(adhoc)
        adhoc.save()
    if adhoc.start_command is not None and adhoc.start_command.state == StationCommand.State.OFFLINE:
        return adhoc_session_cancel(adhoc=adhoc, reason=gettext_noop("The station is offline."))
    return adhoc


def adhoc_session_link(*, charging_session: ChargingSession) -> None:
    """The station started a session with an ad-hoc token: the guest is charging."""
    AdHocSession.objects.filter(
        id_token__uid=charging_session.id_tag, state=State.AUTHORIZED, charging_session__isnull=True
    ).update(state=State.CHARGING, charging_session=charging_session, started_at=charging_session.started_at,
             updated_at=timezone.now())


def adhoc_session_settle(*, cdr: ChargeDetailRecord, provider: PaymentProvider | None = None) -> AdHocSession | None:
    """Capture min(cost incl. VAT, hold) and release the rest; a cost above the hold is recorded as shortfall
    (the guest has no account to bill it to). Issues the receipt and e-mails it after commit. Idempotent."""
    adhoc = AdHocSession.objects.select_related("hold").filter(id_token_id=cdr.id_token_id).first()
    if adhoc is None or cdr.kind != ChargeDetailRecord.Kind.CHARGE or adhoc.state not in AdHocSession.OPEN:
        return adhoc
    total = quantize_price(Decimal(cdr.total_cost_incl_vat), str(cdr.currency))
    if str(cdr.currency) != adhoc.currency:
        logger.error("Ad-hoc %s: priced in %s, held in %s; capturing the hold", adhoc.uuid, cdr.currency,
                     adhoc.currency)
        total = max(total, adhoc.hold_amount)  # never capture less than owed because of a currency mix-up
    capture = min(total, adhoc.hold_amount)
    provider = provider or get_provider(adhoc.hold.provider)
    key = adhoc.hold.idempotency_key
    if capture > 0:
        provider.capture(intent_id=adhoc.hold.provider_intent_id, amount=Money(capture, adhoc.currency),
                         idempotency_key=f"{key}-capture")
    else:  # nothing to pay: Stripe cannot capture zero, so the whole hold is released
        provider.cancel(intent_id=adhoc.hold.provider_intent_id, idempotency_key=f"{key}-cancel")
    with transaction.atomic():
        adhoc = AdHocSession.objects.select_for_update(of=("self",)).get(pk=adhoc.pk)
        if adhoc.state not in AdHocSession.OPEN:
            return adhoc
        adhoc.cdr, adhoc.total_incl_vat, adhoc.captured_amount = cdr, total, capture
        adhoc.shortfall = total - capture
        adhoc.state = State.COMPLETED_WITH_SHORTFALL if adhoc.shortfall > 0 else State.COMPLETED
        adhoc.ended_at = cdr.end_date_time
        adhoc.charging_session_id = adhoc.charging_session_id or cdr.session_id
        if adhoc.shortfall > 0:
            logger.warning("Ad-hoc %s cost %s %s, above its hold of %s", adhoc.uuid, total, adhoc.currency,
                           adhoc.hold_amount)
        _token_retire(adhoc)
        if capture > 0:
            receipt_issue(adhoc=adhoc)
        adhoc.save()
    return adhoc


def adhoc_session_cancel(*, adhoc: AdHocSession, reason: str,
                         provider: PaymentProvider | None = None) -> AdHocSession:
    """Release the hold of a session that never started, and retire its token so a late start cannot use it."""
    adhoc = AdHocSession.objects.select_related("hold").get(pk=adhoc.pk)
    if adhoc.state not in (State.PENDING_PAYMENT, State.AUTHORIZED) or adhoc.charging_session_id:
        return adhoc
    if adhoc.hold.provider_intent_id and adhoc.hold.state in (Payment.State.SUCCEEDED, *Payment.LIVE):
        provider = provider or get_provider(adhoc.hold.provider)
        provider.cancel(intent_id=adhoc.hold.provider_intent_id,
                        idempotency_key=f"{adhoc.hold.idempotency_key}-cancel")
    with transaction.atomic():
        adhoc = AdHocSession.objects.select_for_update(of=("self",)).get(pk=adhoc.pk)
        if adhoc.state not in (State.PENDING_PAYMENT, State.AUTHORIZED) or adhoc.charging_session_id:
            return adhoc  # the station started meanwhile: settlement captures instead
        Payment.objects.filter(pk=adhoc.hold_id).update(state=Payment.State.CANCELED, completed_at=timezone.now())
        adhoc.state, adhoc.failure, adhoc.ended_at = State.CANCELED, reason[:300], timezone.now()
        _token_retire(adhoc)
        adhoc.save()
    return adhoc


def adhoc_sessions_expire(*, now=None) -> int:
    """Cancel holds of sessions that did not start within ADHOC_START_TIMEOUT_MIN, or whose remote start the
    station refused. Returns how many were canceled."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ADHOC_START_TIMEOUT_MIN)
    stale = AdHocSession.objects.filter(state__in=[State.PENDING_PAYMENT, State.AUTHORIZED],
                                        charging_session__isnull=True)
    canceled = 0
    for adhoc in stale.select_related("start_command").order_by("pk"):
        refused = adhoc.start_command is not None and adhoc.start_command.state in FAILED_COMMANDS
        if adhoc.created_at < cutoff or refused:
            reason = (gettext_noop("The station refused to start.") if refused
                      else gettext_noop("Charging did not start in time."))
            if adhoc_session_cancel(adhoc=adhoc, reason=reason).state == State.CANCELED:
                canceled += 1
    return canceled


def _token_retire(adhoc: AdHocSession) -> None:
    IdToken.objects.filter(pk=adhoc.id_token_id).update(status=IdToken.Status.BLOCKED, updated_at=timezone.now())
