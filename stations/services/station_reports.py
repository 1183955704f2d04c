"""Services for what stations report over OCPP: connection state, boot, status, authorisation, sessions,
meter values and events. Each is one transaction; events for live pages are published after commit.

Times are the station's own (messages queued while offline arrive late with their original timestamps).
Energy is integer Wh. Nothing here raises for a station's mistakes: odd reports are stored and flagged for
review, because stations retry a message that was refused for ever.
"""

import functools
import logging
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing.models import PaymentAccount
from billing.payments import prepaid_customers_short
from customers.models import Customer, IdToken
from stations.events import event_groups, publish_after_commit
from stations.models import (
    ChargePoint,
    ChargingSession,
    Connector,
    Evse,
    MeterValue,
    Reservation,
    StationEvent,
)
from stations.protocol.frames import FrameError

logger = logging.getLogger(__name__)

# OCPP 1.6 security whitepaper: events a station must report as critical.
CRITICAL_SECURITY_EVENTS = {
    "FirmwareUpdated", "FailedToAuthenticateAtCentralSystem", "CentralSystemFailedToAuthenticate",
    "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot", "SecurityLogWasCleared",
    "ReconfigurationOfSecurityParameters", "MemoryExhaustion", "InvalidMessages", "AttemptedReplayAttacks",
    "TamperDetectionActivated", "InvalidFirmwareSignature", "InvalidFirmwareSigningCertificate",
    "InvalidCentralSystemCertificate", "InvalidChargePointCertificate", "InvalidTLSVersion",
    "InvalidTLSCipherSuite",
}
UNIT_SCALE = {"kWh": ("Wh", 1000), "kW": ("W", 1000), "kvarh": ("varh", 1000), "kvar": ("var", 1000),
              "kVA": ("VA", 1000)}
ENERGY_REGISTER = MeterValue.Measurand.ENERGY_IMPORT_REGISTER


# --- connection -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuthDecision:
    allowed: bool
    station_id: int | None = None
    reason: str = ""


def station_authenticate(*, identity: str, credentials: tuple[str, str] | None,
                         accept_unknown: bool) -> AuthDecision:
    """Security profiles 1 and 2: Basic auth with the identity as user name (TLS is the proxy's job)."""
    station = ChargePoint.objects.filter(identity=identity).only("id", "security_profile", "password_hash").first()
    if station is None:
        if not accept_unknown:
            return AuthDecision(False, reason="unknown")
        return AuthDecision(True, _onboard(identity, credentials).pk)
    if station.security_profile == ChargePoint.SecurityProfile.NONE:
        return AuthDecision(True, station.pk)
    if credentials is None or credentials[0] != identity or not station.check_password(credentials[1]):
        return AuthDecision(False, reason="credentials")
    return AuthDecision(True, station.pk)


def _onboard(identity: str, credentials: tuple[str, str] | None) -> ChargePoint:
    """An unknown station that may connect is recorded as Pending, with the password it offered."""
    station = ChargePoint(identity=identity, registration_status=ChargePoint.RegistrationStatus.PENDING)
    station.full_clean(exclude=["location", "password_hash"])
    offered = credentials[1] if credentials and credentials[0] == identity else ""
    if ChargePoint.PASSWORD_MIN_LENGTH <= len(offered) <= ChargePoint.PASSWORD_MAX_LENGTH:
        station.set_password(offered)
    else:
        station.security_profile = ChargePoint.SecurityProfile.NONE
    station.save()
    StationEvent.objects.create(charge_point=station, kind=StationEvent.Kind.BOOT, needs_review=True,
                                summary="Unknown station connected; waiting for approval (Pending).")
    return station


def station_connected(*, charge_point_id: int, channel_name: str, ocpp_version: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        ChargePoint.objects.filter(pk=charge_point_id).update(
            is_connected=True, connected_at=now, last_seen_at=now, connection_channel=channel_name,
            ocpp_version=ocpp_version,
        )
        _publish_connection(charge_point_id, True)


def local_list_correct(*, charge_point_id: int) -> None:
    """A station that comes back may hold cards in its local list that were blocked (or expired, or deleted)
    while it was offline: the push of the change could not reach it, and it would let them charge offline.
    It is sent the corrections as a command, once it is talking to us again (stations.protocol.base)."""
    from stations.commands import command_request, local_list_corrections

    station = ChargePoint.objects.filter(
        pk=charge_point_id, local_list_version__gt=0, registration_status=ChargePoint.RegistrationStatus.ACCEPTED,
    ).first()
    payload = None if station is None else local_list_corrections(charge_point=station)
    if payload is not None:
        command_request(charge_point=station, action="SendLocalList", payload=payload)


def station_disconnected(*, charge_point_id: int, channel_name: str) -> None:
    """Marks the station offline unless a newer connection has taken over meanwhile."""
    with transaction.atomic():
        changed = ChargePoint.objects.filter(pk=charge_point_id, connection_channel=channel_name).update(
            is_connected=False, connection_channel=""
        )
        if changed:
            _publish_connection(charge_point_id, False)


def _publish_connection(charge_point_id: int, connected: bool) -> None:
    identity = ChargePoint.objects.values_list("identity", flat=True).get(pk=charge_point_id)
    publish_after_commit(identity, {"type": "station.connection", "identity": identity, "connected": connected})


# --- boot and status ------------------------------------------------------------------------------------
def boot_notification_record(*, charge_point_id: int, vendor: str, model: str,
                             **reported: str | None) -> tuple[str, int]:
    """Records what the station says it is; answers its registration status and heartbeat interval."""
    with transaction.atomic():
        station = ChargePoint.objects.select_for_update(no_key=True).get(pk=charge_point_id)
        station.vendor, station.model = vendor[:20], model[:20]
        for field, value in reported.items():
            if value is not None:
                setattr(station, field, value[: ChargePoint._meta.get_field(field).max_length])
        station.last_seen_at = timezone.now()
        station.save()
        StationEvent.objects.create(
            charge_point=station, kind=StationEvent.Kind.BOOT, summary=f"{vendor} {model}",
            payload={"vendor": vendor, "model": model, **{k: v for k, v in reported.items() if v}},
        )
    interval = settings.OCPP_HEARTBEAT_INTERVAL_S
    if station.registration_status != ChargePoint.RegistrationStatus.ACCEPTED:
        interval = min(interval, 60)  # how soon a Pending/Rejected station asks again
    return station.registration_status, interval


def connector_resolve(station: ChargePoint, connector_id: int) -> Connector:
    """OCPP 1.6 connector N is EVSE N's connector 1. One the operator has not described yet is created
    without an EVSE id or plug details and flagged, so that what the station reports is never lost."""
    connector = (Connector.objects.select_related("evse")
                 .filter(evse__charge_point=station, evse__ocpp_evse_id=connector_id)
                 .order_by("ocpp_connector_id").first())
    if connector is not None:
        return connector
    evse, _ = Evse.objects.get_or_create(charge_point=station, ocpp_evse_id=connector_id)
    connector = Connector.objects.create(evse=evse, ocpp_connector_id=1)
    StationEvent.objects.create(
        charge_point=station, kind=StationEvent.Kind.UNMATCHED_METER_VALUES, needs_review=True,
        summary=f"Station reported connector {connector_id}, which was not configured; it was added.",
    )
    return connector


# --- authorisation ----------------------------------------------------------------------------------------
# Authorize, StartTransaction and StopTransaction are a few hand-written statements each: through the ORM they
# were most of the server's CPU per message (query compilation, model instances). The rules are the same;
# rare paths (a forgotten session, an unconfigured connector, an unmatched stop) still use the ORM.
@dataclass(frozen=True)
class IdTagInfo:
    status: str  # Accepted, Blocked, Expired, Invalid, ConcurrentTx
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None

    def as_ocpp16(self) -> dict:
        info = {"status": self.status}
        if self.expiry_date is not None:
            info["expiry_date"] = self.expiry_date.isoformat().replace("+00:00", "Z")
        if self.parent_id_tag:
            info["parent_id_tag"] = self.parent_id_tag
        return info


@dataclass(frozen=True, slots=True)
class TokenState:
    """What the authorisation decision reads of a token and its customer (busy: in an active session; prepaid:
    the customer pays in advance, so billing is asked about the balance)."""

    pk: int
    status: str
    expires_at: datetime | None
    group_id: str
    customer_id: int
    customer_status: str
    busy: bool
    prepaid: bool


@functools.cache
def _sql(vendor: str) -> dict[str, str]:
    """The hot path's statements for this database (table names from the models; %s placeholders)."""
    q = connection.ops.quote_name
    session, station = q(ChargingSession._meta.db_table), q(ChargePoint._meta.db_table)
    token, customer = q(IdToken._meta.db_table), q(Customer._meta.db_table)
    account = q(PaymentAccount._meta.db_table)
    # Not FOR UPDATE: that also blocks the key-share locks with which the group writer's foreign keys check the
    # same station and session rows, so a start or stop would wait for a batch's commit (and it for them).
    lock = (" FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update
            else " FOR UPDATE" if connection.features.has_select_for_update else "")
    columns = ", ".join(q(f.column) for f in ChargingSession._meta.concrete_fields)
    inserted = [f for f in ChargingSession._meta.concrete_fields if not f.primary_key]
    returning = " RETURNING id" if connection.features.can_return_columns_from_insert else ""
    return {
        "token": f"SELECT t.id, t.uid, t.status, t.expires_at, t.group_id, t.customer_id, c.status, EXISTS (SELECT 1 "
                 f"FROM {session} s WHERE s.id_token_id = t.id AND s.state = 'active'), EXISTS (SELECT 1 FROM "
                 f"{account} a WHERE a.customer_id = t.customer_id AND a.collection = %s) FROM {token} t JOIN "
                 f"{customer} c ON c.id = t.customer_id WHERE t.uid IN (%s, %s)",
        "station": f"SELECT identity FROM {station} WHERE id = %s{lock}",
        "next_transaction_id": f"UPDATE {station} SET last_transaction_id = last_transaction_id + 1 WHERE id = %s "
                               "RETURNING last_transaction_id",
        # The same start stored before (a retry) and any session left open on the connector, in one read.
        "open_or_retry": f"SELECT {columns} FROM {session} WHERE charge_point_id = %s AND connector_id = %s AND "
                         f"(state = 'active' OR (id_tag = %s AND meter_start_wh = %s AND started_at = %s)){lock}",
        "by_transaction": f"SELECT {columns} FROM {session} WHERE charge_point_id = %s AND transaction_id = %s{lock}",
        "insert": f"INSERT INTO {session} ({', '.join(q(f.column) for f in inserted)}) "
                  f"VALUES ({', '.join(['%s'] * len(inserted))}){returning}",
        "stop": f"UPDATE {session} SET {', '.join(f'{q(f)} = %s' for f in STOP_FIELDS)} WHERE id = %s",
    }


STOP_FIELDS = ("state", "stopped_at", "meter_stop_wh", "stop_reason", "needs_review", "review_reason",
               "updated_at")


def preparing_connection():
    """The psycopg connection behind Django's, allowed to prepare the statements run on it with prepare=True.

    Django binds parameters on the client and opens its connections with psycopg's prepare_threshold=None, with
    which psycopg silently ignores prepare=True: PostgreSQL then parsed and planned every statement of the OCPP
    hot path afresh, 15 % of its CPU under load (benchmarks/README.md). A threshold nothing reaches prepares
    exactly the statements that ask for it; Django's own cursors never prepare. OCPP_PREPARED_STATEMENTS=false
    (a connection pooler that cannot carry prepared statements) leaves the connection as Django made it."""
    connection.ensure_connection()
    pg = connection.connection
    if settings.OCPP_PREPARED_STATEMENTS and pg.prepare_threshold is None:
        pg.prepare_threshold = sys.maxsize
    return pg


class _PreparingCursor(psycopg.Cursor):
    """A psycopg cursor whose statements are prepared on the server, once per connection (psycopg keeps them)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)


@contextmanager
def _statements():
    """The cursor for the statements of _sql(): on PostgreSQL a preparing one, wrapped as Django wraps its own
    (errors come out as Django's; query logging and execute wrappers see it); elsewhere Django's own."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    raw = _PreparingCursor(preparing_connection())
    with connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw) as cursor:
        yield cursor


def _aware(value):
    """Datetimes from a raw SQLite read are naive UTC (PostgreSQL's are aware)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _db_time(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def token_read(cursor, id_tag: str) -> TokenState | None:
    """The token for an id tag (as sent, else upper case), with whether it is in an active session and whether
    its customer pays in advance."""
    cursor.execute(_sql(connection.vendor)["token"], [PaymentAccount.Collection.PREPAID, id_tag, id_tag.upper()])
    rows = {row[1]: row for row in cursor.fetchall()}
    row = rows.get(id_tag) or rows.get(id_tag.upper())
    if row is None:
        return None
    pk, _uid, status, expires_at, group_id, customer_id, customer_status, busy, prepaid = row
    return TokenState(pk, status, _aware(expires_at), group_id, customer_id, customer_status, bool(busy),
                      bool(prepaid))


def token_decision(token: IdToken | TokenState | None, *, moment: datetime, busy_elsewhere: bool = False,
                   short_of_funds: bool | None = None) -> IdTagInfo:
    """The idTagInfo for a token: its state, expiry, group, its customer's state and, for customers who pay in
    advance, their balance decide (`short_of_funds`, asked of billing when not given: a caller deciding for many
    tokens asks once for all). Billing is not asked for a token read with `token_read` whose customer does not pay
    in advance: only prepaid customers can be short, and building billing's query cost more CPU than the rest
    of an Authorize."""
    if token is None:
        return IdTagInfo("Invalid")
    parent = token.group_id or None
    customer_active = (token.customer_status == Customer.Status.ACTIVE if isinstance(token, TokenState)
                       else token.customer.is_active)
    if token.status == IdToken.Status.BLOCKED or not customer_active:
        return IdTagInfo("Blocked", parent_id_tag=parent)
    if token.status == IdToken.Status.EXPIRED or (token.expires_at and token.expires_at <= moment):
        return IdTagInfo("Expired", token.expires_at, parent)
    if busy_elsewhere:
        return IdTagInfo("ConcurrentTx", token.expires_at, parent)
    if short_of_funds is None:
        maybe_short = token.prepaid if isinstance(token, TokenState) else True
        short_of_funds = maybe_short and token.customer_id in prepaid_customers_short(customer_ids=[token.customer_id])
    if short_of_funds:
        return IdTagInfo("Blocked", parent_id_tag=parent)  # prepaid balance below the minimum: top up first
    return IdTagInfo("Accepted", token.expires_at, parent)


def id_tag_authorize(*, charge_point_id: int, id_tag: str) -> IdTagInfo:
    with _statements() as cursor:
        token = token_read(cursor, id_tag)
    return token_decision(token, moment=timezone.now(), busy_elsewhere=token is not None and token.busy)


# --- sessions ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SessionRef:
    """What the OCPP connection remembers of a session to file its meter values without looking it up."""

    pk: int
    transaction_id: str
    connector_pk: int
    evse_pk: int
    customer_id: int | None
    meter_start_wh: int
    active: bool

    @classmethod
    def of(cls, session: ChargingSession) -> "SessionRef":
        return cls(session.pk, session.transaction_id, session.connector_id, session.evse_id, session.customer_id,
                   session.meter_start_wh, session.state == ChargingSession.State.ACTIVE)


@dataclass(frozen=True)
class Started:
    transaction_id: str
    id_tag_info: IdTagInfo
    session: SessionRef


Publications = list[tuple[list[str], dict]]


def _sessions_read(cursor, statement: str, params: list) -> list[ChargingSession]:
    cursor.execute(_sql(connection.vendor)[statement], params)
    names = [f.attname for f in ChargingSession._meta.concrete_fields]
    sessions = []
    for row in cursor.fetchall():
        session = ChargingSession.from_db(connection.alias, names, row)
        session.started_at, session.stopped_at = _aware(session.started_at), _aware(session.stopped_at)
        session.created_at, session.updated_at = _aware(session.created_at), _aware(session.updated_at)
        session.needs_review = bool(session.needs_review)
        sessions.append(session)
    return sessions


def _session_insert(cursor, session: ChargingSession) -> None:
    fields = [f for f in ChargingSession._meta.concrete_fields if not f.primary_key]
    cursor.execute(_sql(connection.vendor)["insert"],
                   [f.get_db_prep_save(f.pre_save(session, add=True), connection) for f in fields])
    session.pk = cursor.fetchone()[0] if connection.features.can_return_columns_from_insert else cursor.lastrowid
    session._state.adding, session._state.db = False, connection.alias


def _saved(session: ChargingSession, *, created: bool, update_fields=None) -> None:
    """What Model.save() tells listeners (billing rates a stopped session from post_save)."""
    post_save.send(sender=ChargingSession, instance=session, created=created, update_fields=update_fields,
                   raw=False, using=connection.alias)


def _publish(identity: str, event: dict, events: Publications | None) -> None:
    """Hand the event to the caller to send after commit (the OCPP server, from its event loop), or send it
    from an on-commit hook."""
    if events is None:
        publish_after_commit(identity, event)
    else:
        events.append((event_groups(identity, event), event))


def transaction_start(*, charge_point_id: int, connector_id: int, id_tag: str, meter_start_wh: int,
                      timestamp: datetime, reservation_id: int | None, connector: tuple[int, int] | None = None,
                      events: Publications | None = None) -> Started:
    """Opens a session and assigns its transaction id. A retried StartTransaction gets the same id back.

    `connector` is the (connector pk, EVSE pk) of `connector_id` when the caller knows it already. With
    `events`, the live event is appended there for the caller to send once this has committed.
    """
    stored_start = max(meter_start_wh, 0)
    with transaction.atomic(), _statements() as cursor:
        cursor.execute(_sql(connection.vendor)["station"], [charge_point_id])  # locks the station's row
        identity = cursor.fetchone()[0]
        if connector is None:
            resolved = connector_resolve(ChargePoint.objects.get(pk=charge_point_id), connector_id)
            connector = resolved.pk, resolved.evse_id
        open_or_retry = _sessions_read(cursor, "open_or_retry", [charge_point_id, connector[0], id_tag, stored_start,
                                                                 _db_time(timestamp)])
        retry = next((s for s in open_or_retry if (s.id_tag, s.meter_start_wh, s.started_at) == (
            id_tag, stored_start, timestamp)), None)
        if retry is not None:
            return Started(retry.transaction_id, IdTagInfo(retry.id_tag_status or "Accepted"), SessionRef.of(retry))
        for forgotten in open_or_retry:
            _close_forgotten_session(forgotten, timestamp, meter_start_wh)
        token = token_read(cursor, id_tag)
        info = token_decision(token, moment=timestamp, busy_elsewhere=token is not None and token.busy)
        cursor.execute(_sql(connection.vendor)["next_transaction_id"], [charge_point_id])
        session = ChargingSession(
            charge_point_id=charge_point_id, transaction_id=str(cursor.fetchone()[0]), evse_id=connector[1],
            connector_id=connector[0], id_token_id=token.pk if token else None, id_tag=id_tag,
            customer_id=token.customer_id if token else None, started_at=timestamp, meter_start_wh=stored_start,
            id_tag_status=info.status, needs_review=meter_start_wh < 0 or info.status != "Accepted",
            review_reason=_start_review_reason(info, meter_start_wh),
        )
        _session_insert(cursor, session)
        if reservation_id is not None:
            Reservation.objects.filter(pk=reservation_id, charge_point_id=charge_point_id).update(
                state=Reservation.State.USED
            )
        _saved(session, created=True)
        _publish(identity, _session_event("session.started", identity, session), events)
    return Started(session.transaction_id, info, SessionRef.of(session))

def _start_review_reason(info: IdTagInfo, meter_start_wh: int) -> str:
    reasons = []
    if info.status != "Accepted":
        reasons.append(f"Started with an id tag we answered {info.status}.")
    if meter_start_wh < 0:
        reasons.append(f"Station reported a negative meter start ({meter_start_wh} Wh).")
    return " ".join(reasons)


def _close_forgotten_session(previous: ChargingSession, new_start: datetime, new_meter_start_wh: int) -> None:
    """A new start on a connector whose previous session never reported a stop (its StopTransaction was
    lost) closes that session at the last reading we have, flagged for review."""
    last = previous.meter_values.filter(measurand=ENERGY_REGISTER).order_by("-timestamp").first()
    meter_stop = int(last.value) if last else previous.meter_start_wh
    if previous.meter_start_wh <= new_meter_start_wh:
        meter_stop = max(meter_stop, previous.meter_start_wh)
    previous.state = ChargingSession.State.COMPLETED
    previous.stopped_at = max(previous.started_at, min(new_start, last.timestamp if last else new_start))
    previous.meter_stop_wh = max(meter_stop, previous.meter_start_wh)
    previous.stop_reason = ChargingSession.StopReason.OTHER
    previous.needs_review = True
    previous.review_reason = (previous.review_reason + " No stop was reported before the connector's next "
                              "session started; closed at the last meter reading.").strip()
    previous.save()


def transaction_stop(*, charge_point_id: int, transaction_id: str, meter_stop_wh: int, timestamp: datetime,
                     reason: str, id_tag: str, meter_values: list["Sample"],
                     identity: str | None = None, events: Publications | None = None) -> IdTagInfo | None:
    """Closes a session. Always succeeds: unknown or repeated stops are recorded for review instead.

    `identity` is the station's when the caller knows it. With `events`, the live event is appended there for
    the caller to send once this has committed.
    """
    with transaction.atomic(), _statements() as cursor:
        found = _sessions_read(cursor, "by_transaction", [charge_point_id, transaction_id])
        session = found[0] if found else None
        info = token_decision(token_read(cursor, id_tag), moment=timestamp) if id_tag else None
        if session is None or session.state == ChargingSession.State.COMPLETED:
            if session is not None and (session.meter_stop_wh, session.stopped_at) == (
                    max(meter_stop_wh, session.meter_start_wh), max(timestamp, session.started_at)):
                return info  # the station retried a stop we already recorded (values as stored below)
            StationEvent.objects.create(
                charge_point_id=charge_point_id, kind=StationEvent.Kind.UNMATCHED_STOP, needs_review=True,
                timestamp=timestamp,
                summary=f"Stop for {'finished' if session else 'unknown'} transaction {transaction_id}",
                payload={"transaction_id": transaction_id, "meter_stop": meter_stop_wh, "reason": reason,
                         "id_tag": id_tag, "timestamp": timestamp.isoformat()},
            )
            return info
        problems = []
        if meter_stop_wh < session.meter_start_wh:
            problems.append(f"Meter stop {meter_stop_wh} Wh is below meter start {session.meter_start_wh} Wh.")
        if timestamp < session.started_at:
            problems.append(f"Stop time {timestamp.isoformat()} is before the start.")
        session.state = ChargingSession.State.COMPLETED
        session.stopped_at = max(timestamp, session.started_at)
        session.meter_stop_wh = max(meter_stop_wh, session.meter_start_wh)
        session.stop_reason = reason or ChargingSession.StopReason.LOCAL  # 1.6: absent reason means Local
        if problems:
            session.needs_review = True
            session.review_reason = " ".join([session.review_reason, *problems]).strip()
        session.updated_at = timezone.now()
        cursor.execute(_sql(connection.vendor)["stop"], [
            *(ChargingSession._meta.get_field(name).get_db_prep_save(getattr(session, name), connection)
              for name in STOP_FIELDS), session.pk])
        _store_samples(charge_point_id, session.connector_id, session.pk, meter_values)
        _saved(session, created=False, update_fields=frozenset(STOP_FIELDS))
        if identity is None:
            identity = ChargePoint.objects.values_list("identity", flat=True).get(pk=charge_point_id)
        _publish(identity, _session_event("session.stopped", identity, session), events)
    return info

def _session_event(kind: str, identity: str, session: ChargingSession) -> dict:
    return {
        "type": kind, "identity": identity, "session_id": session.pk,
        "transaction_id": session.transaction_id, "connector_pk": session.connector_id,
        "customer_id": session.customer_id, "energy_wh": session.energy_wh,
    }


# --- meter values -----------------------------------------------------------------------------------------
class Sample(NamedTuple):
    """One sampled value. Immutable, as a tuple: a MeterValues carries several, and a frozen dataclass took three
    times as long to build (1.5 against 0.5 us; 3 % of the server's time under load, py-spy)."""

    timestamp: datetime
    measurand: str
    value: Decimal
    unit: str
    phase: str = ""
    location: str = ""
    context: str = ""

    @classmethod
    def from_ocpp(cls, moment: datetime, sampled: dict, unique_id: str) -> "Sample":
        try:
            value = Decimal(str(sampled["value"]))
        except (InvalidOperation, KeyError):
            raise FrameError("property", f"Sampled value {sampled.get('value')!r} is not a number.",
                             unique_id) from None
        if not value.is_finite():
            raise FrameError("property", "Sampled value is not a finite number.", unique_id)
        measurand = sampled.get("measurand") or ENERGY_REGISTER
        unit = sampled.get("unit") or ("Wh" if measurand.startswith("Energy") else "")
        if unit in UNIT_SCALE:
            unit, factor = UNIT_SCALE[unit]
            value *= factor
        if unit in ("Wh", "varh"):
            value = value.to_integral_value()  # energy is integer Wh
        return cls(moment, measurand, value, unit, sampled.get("phase") or "", sampled.get("location") or "",
                   sampled.get("context") or "")


def _store_samples(charge_point_id: int, connector_id: int | None, session_id: int | None,
                   samples: list[Sample]) -> None:
    from stations.services.batch_reports import METER_COLUMNS, insert_rows  # it imports this module

    insert_rows(MeterValue, METER_COLUMNS, [
        (charge_point_id, connector_id, session_id, s.timestamp, s.measurand, s.phase[:8], s.location[:8],
         s.context[:24], s.value, s.unit[:12]) for s in samples])


def live_reading(identity: str, session, samples: list[Sample]) -> dict:
    """The session.reading event for a session's page (`session`: a ChargingSession or a SessionRef)."""
    latest = {}
    for sample in samples:
        if not sample.phase:
            latest[sample.measurand] = sample
    energy = latest.get(ENERGY_REGISTER)
    power = latest.get(MeterValue.Measurand.POWER_IMPORT)
    soc = latest.get(MeterValue.Measurand.SOC)
    return {
        "type": "session.reading", "identity": identity, "session_id": session.pk,
        "customer_id": session.customer_id,
        "energy_wh": int(energy.value) - session.meter_start_wh if energy else None,
        "power_w": int(power.value) if power else None, "soc": int(soc.value) if soc else None,
        "timestamp": max(s.timestamp for s in samples).isoformat() if samples else None,
    }


# --- events -----------------------------------------------------------------------------------------------
def data_transfer_record(*, charge_point_id: int, vendor_id: str, message_id: str, data) -> tuple[str, None]:
    """Recorded; no vendor extensions are implemented, so the answer is UnknownVendorId (OCPP 1.6 §4.3)."""
    StationEvent.objects.create(
        charge_point_id=charge_point_id, kind=StationEvent.Kind.DATA_TRANSFER,
        summary=f"{vendor_id} {message_id}".strip()[:255],
        payload={"vendor_id": vendor_id, "message_id": message_id, "data": data},
    )
    return "UnknownVendorId", None


def firmware_status_record(*, charge_point_id: int, status: str) -> None:
    with transaction.atomic():
        ChargePoint.objects.filter(pk=charge_point_id).update(firmware_status=status)
        StationEvent.objects.create(charge_point_id=charge_point_id, kind=StationEvent.Kind.FIRMWARE_STATUS,
                                    summary=status, payload={"status": status},
                                    needs_review=status in ("DownloadFailed", "InstallationFailed"))


def diagnostics_status_record(*, charge_point_id: int, status: str) -> None:
    with transaction.atomic():
        ChargePoint.objects.filter(pk=charge_point_id).update(diagnostics_status=status)
        StationEvent.objects.create(charge_point_id=charge_point_id, kind=StationEvent.Kind.DIAGNOSTICS_STATUS,
                                    summary=status, payload={"status": status},
                                    needs_review=status == "UploadFailed")


def security_event_record(*, charge_point_id: int, event_type: str, timestamp: datetime, tech_info: str) -> None:
    StationEvent.objects.create(
        charge_point_id=charge_point_id, kind=StationEvent.Kind.SECURITY_EVENT, timestamp=timestamp,
        summary=event_type[:255], payload={"type": event_type, "tech_info": tech_info},
        needs_review=event_type in CRITICAL_SECURITY_EVENTS,
    )
