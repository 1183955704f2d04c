"""Starting a session from the portal: what the driver sees before starting (the EVSE, its live status, the
price for them), the checks that refuse a start before anything is sent, the RemoteStartTransaction through the
command path, and how a start request turned out.

Every refusal is a StartRefused with a message for the driver; nothing here raises for a driver's choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Value
from django.db.models.functions import Replace
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.loyalty import membership_tariff
from billing.models import Tariff
from billing.payments.prepaid import prepaid_allows_charging
from billing.tariffs import tariff_for_session
from billing.tariffs.public import PublicPrice, public_price
from customers.models import IdToken, User
from customers.portal.access import visible_tokens
from customers.tokens import APP_TOKEN_PREFIX, app_token_for
from stations.commands import command_request
from stations.models import ChargePoint, ChargingSession, Connector, ConnectorStatus, Evse, StationCommand

APP_CHOICE = "app"
STARTABLE = {ConnectorStatus.AVAILABLE, ConnectorStatus.PREPARING}
IN_USE = {ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV, ConnectorStatus.SUSPENDED_EVSE,
          ConnectorStatus.FINISHING, ConnectorStatus.OCCUPIED}


def remote_start_timeout_s() -> int:
    """How long a station waits for the car after an accepted remote start (its ConnectionTimeOut; commonly
    one to three minutes) before we tell the driver that charging did not start."""
    return settings.PORTAL_REMOTE_START_TIMEOUT_S


class StartRefused(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass(frozen=True)
class ConnectorRow:
    connector: Connector
    power_kw: Decimal | None  # the rated power, as drivers read it (22, 3.7, 150)


@dataclass(frozen=True)
class StartOffer:
    evse: Evse
    connector: Connector | None
    tariff: Tariff | None
    price: PublicPrice | None  # the price in plain words, with what applies now (AFIR: shown before starting)
    tokens: list[IdToken]
    blocker: StartRefused | None  # why starting is not possible right now, or None
    active_session: ChargingSession | None = None  # the driver's own session on this EVSE, if any
    connectors: list[ConnectorRow] = field(default_factory=list)


def normalise_evse_id(value: str) -> str:
    return "".join((value or "").split()).upper()


def evse_for_portal(evse_id: str) -> Evse:
    """A published EVSE by its printed eMI3 id (with or without the '*' separators); Evse.DoesNotExist else."""
    wanted = normalise_evse_id(evse_id)[:48]
    evses = Evse.objects.select_related("charge_point__location").filter(charge_point__location__is_published=True)
    found = evses.filter(evse_id=wanted).first()
    if found is None and wanted:  # typed without (or with other) separators: compare without them
        plain = wanted.replace("*", "").replace("-", "")
        found = (evses.annotate(plain=Replace("evse_id", Value("*"), Value(""))).filter(plain=plain)
                 .order_by("pk").first())
    if found is None:
        raise Evse.DoesNotExist(wanted)
    return found


def applicable_tariff(*, connector: Connector, customer, at=None) -> Tariff | None:
    """The tariff rating will use for a session starting now: the member's plan tariff, else the connector's."""
    at = at or timezone.now()
    return membership_tariff(customer=customer, at=at) or tariff_for_session(connector=connector, customer=customer,
                                                                               at=at)


def usable_tokens(user: User) -> list[IdToken]:
    """The driver's cards they can start with now (valid, not expired; the app token is offered separately)."""
    now = timezone.now()
    return list(visible_tokens(user).filter(status=IdToken.Status.VALID)
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
                .exclude(type=IdToken.Type.CENTRAL, uid__startswith=APP_TOKEN_PREFIX)
                .select_related("user").order_by("label", "visual_number", "uid"))


def power_kw(power_w: int | None) -> Decimal | None:
    if not power_w:
        return None
    kw = Decimal(power_w) / 1000
    return kw.quantize(Decimal(1)) if kw == kw.to_integral_value() else kw.quantize(Decimal("0.1"))


def start_offer(*, user: User, evse: Evse) -> StartOffer:
    connectors = list(evse.connectors.order_by("ocpp_connector_id"))
    connector = connectors[0] if connectors else None
    tariff = applicable_tariff(connector=connector, customer=user.customer) if connector else None
    mine = (ChargingSession.objects.filter(evse=evse, state=ChargingSession.State.ACTIVE,
                                           customer_id=user.customer_id).first())
    try:
        check_startable(evse=evse, connector=connector, user=user, tariff=tariff)
        blocker = None
    except StartRefused as refusal:
        blocker = refusal
    return StartOffer(evse=evse, connector=connector, tariff=tariff,
                      price=_price_now(tariff, evse) if tariff else None, tokens=usable_tokens(user),
                      blocker=blocker, active_session=mine, connectors=[
                          ConnectorRow(c, power_kw(c.max_power_w))
                          for c in connectors])


def _price_now(tariff: Tariff, evse: Evse) -> PublicPrice:
    return public_price(tariff, time_zone=evse.charge_point.location.time_zone, at=timezone.now())


def check_startable(*, evse: Evse, connector: Connector | None, user: User, tariff: Tariff | None) -> None:
    """Raises StartRefused for what makes a start impossible before anything is sent to the station."""
    customer = user.customer
    if not customer.is_active:
        raise StartRefused(_("Your account is suspended, so charging cannot start. Please settle the open "
                             "invoices under Payments or contact us."), code="suspended")
    if not prepaid_allows_charging(customer=customer):
        raise StartRefused(_("Your prepaid balance is too low to start charging. Please top it up first."),
                           code="balance")
    station = evse.charge_point
    if not station.is_connected or station.registration_status != ChargePoint.RegistrationStatus.ACCEPTED:
        raise StartRefused(_("This charging station is offline right now, so it cannot be started from the "
                             "portal. Try another charging point or use your card at the station."), code="offline")
    if connector is None:
        raise StartRefused(_("This charging point is not in service."), code="unavailable")
    _check_connector(connector)
    if tariff is None:
        raise StartRefused(_("There is no price for you at this charging point, so it cannot be started. "
                             "Please contact us."), code="no_price")


def _check_connector(connector: Connector) -> None:
    status = connector.status
    busy = ChargingSession.objects.filter(connector=connector, state=ChargingSession.State.ACTIVE).exists()
    if busy or status in IN_USE:
        raise StartRefused(_("This charging point is in use. Please choose another one."), code="occupied")
    if status == ConnectorStatus.RESERVED:
        raise StartRefused(_("This charging point is reserved."), code="reserved")
    if status == ConnectorStatus.FAULTED:
        raise StartRefused(_("This charging point reports a fault and cannot charge right now."), code="faulted")
    if status == ConnectorStatus.UNAVAILABLE:
        raise StartRefused(_("This charging point is out of service right now."), code="unavailable")
    if status not in STARTABLE:
        raise StartRefused(_("This charging point has not reported its state yet. Please try again in a "
                             "moment."), code="unknown")


def token_for_start(*, user: User, choice: str) -> IdToken:
    """The token the driver chose: "app", or the id of one of their visible cards (anything else: refused)."""
    if choice == APP_CHOICE:
        return app_token_for(user=user)
    token = visible_tokens(user).filter(pk=int(choice)).first() if choice.isdigit() and len(choice) < 12 else None
    if token is None:
        raise StartRefused(_("Please choose one of your cards or the app."), code="no_token")
    return token


def _check_token(token: IdToken) -> None:
    now = timezone.now()
    if token.status == IdToken.Status.BLOCKED:
        raise StartRefused(_("This card is blocked and cannot start charging."), code="blocked")
    if token.status == IdToken.Status.EXPIRED or (token.expires_at and token.expires_at <= now):
        raise StartRefused(_("This card has expired."), code="expired")
    if ChargingSession.objects.filter(id_token=token, state=ChargingSession.State.ACTIVE).exists():
        raise StartRefused(_("This card is already charging in another session. Stop that session first or "
                             "choose another card."), code="busy")


def charging_start(*, user: User, evse: Evse, choice: str) -> StationCommand:
    """Check everything the driver can be told now, then RemoteStartTransaction with the chosen token. The
    command row (requested by the user) is the start request: its state and the session it leads to are the
    outcome."""
    evse = Evse.objects.select_related("charge_point__location").get(pk=evse.pk)
    connector = evse.connectors.order_by("ocpp_connector_id").first()
    tariff = applicable_tariff(connector=connector, customer=user.customer) if connector else None
    check_startable(evse=evse, connector=connector, user=user, tariff=tariff)
    token = token_for_start(user=user, choice=choice)
    _check_token(token)
    return command_request(charge_point=evse.charge_point, action="RemoteStartTransaction", requested_by=user,
                           payload={"connectorId": evse.ocpp_evse_id, "idTag": token.uid})


# --- how a start request turned out -----------------------------------------------------------------------
@dataclass(frozen=True)
class StartProgress:
    state: str  # waiting | plug_in | started | failed
    message: str
    session: ChargingSession | None = None
    code: str = ""

    @property
    def settled(self) -> bool:
        return self.state in ("started", "failed")


def start_command_for(*, user: User, command_id: int) -> StationCommand | None:
    """The user's own start request; another user's id finds nothing."""
    return (StationCommand.objects.select_related("charge_point")
            .filter(pk=command_id, requested_by=user, action="RemoteStartTransaction").first())


def start_progress(command: StationCommand) -> StartProgress:
    session = _started_session(command)
    if session is not None:
        return StartProgress("started", _("Charging has started."), session)
    State = StationCommand.State
    failures = {
        State.OFFLINE: (_("The station is offline, so it could not be started. Nothing was charged."), "offline"),
        State.REJECTED: (_("The station refused to start. It may be in use or not ready; please try again or "
                           "choose another charging point."), "rejected"),
        State.FAILED: (_("The station could not be reached. Nothing was charged; please try again."), "failed"),
        State.TIMEOUT: (_("The station did not answer in time. Nothing was charged; please try again."), "timeout"),
    }
    if command.state in failures:
        message, code = failures[command.state]
        return StartProgress("failed", message, code=code)
    if command.state != State.ACCEPTED:
        return StartProgress("waiting", _("Asking the station to start…"))
    waited = timezone.now() - (command.completed_at or command.created_at)
    if waited > timedelta(seconds=remote_start_timeout_s()):
        return StartProgress("failed", _("Charging did not start: no vehicle was connected in time. Nothing was "
                                         "charged; plug in and start again."), code="not_plugged")
    return StartProgress("plug_in", _("The station accepted. Plug in your vehicle now if it is not connected yet."))


def _started_session(command: StationCommand) -> ChargingSession | None:
    payload = command.payload or {}
    return (ChargingSession.objects.filter(
        charge_point_id=command.charge_point_id, evse__ocpp_evse_id=payload.get("connectorId"),
        id_tag=payload.get("idTag", ""), created_at__gte=command.created_at).order_by("created_at").first())
