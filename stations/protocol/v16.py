"""OCPP 1.6J: the Central System side of one station's connection.

Built on the `ocpp` library's ChargePoint (route map from @on handlers, the one-call-in-flight lock and the
response queue). Framing and schema errors are answered here with the 1.6 error codes. Handlers whose
answer depends on the database (boot, authorisation, sessions) call one service in one transaction through
the database pool, and their frames are journaled right after the answer; frequent reports (meter values,
status) are staged for the group writer, which commits them with the journal before the answer goes out
(stations.protocol.base).
"""

import functools
import logging
from datetime import UTC, datetime

from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.routing import on
from ocpp.v16 import ChargePoint as LibraryChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, DataTransferStatus

from stations.events import event_groups
from stations.protocol.base import StationSession
from stations.protocol.db import run_db
from stations.protocol.frames import FrameError
from stations.protocol.writer import group_writer
from stations.services import batch_reports as batch
from stations.services import station_reports as reports

logger = logging.getLogger(__name__)


def parse_timestamp(value: str, unique_id: str) -> datetime:
    """Stations send RFC 3339 UTC times; a time without offset is read as UTC (seen in the field)."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise FrameError("property", f"{value!r} is not an RFC 3339 date-time.", unique_id) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_connector_id(value: int, minimum: int, unique_id: str) -> int:
    """The schemas only say "integer"; the spec says connector 0 is the station and transactions run on 1..n."""
    if value < minimum:
        raise FrameError("property", f"connectorId must be {minimum} or more.", unique_id)
    return value


_SNAKE_KEYS: dict[str, str] = {}


def _snake_key(key: str) -> str:
    # The library's conversion runs several regular expressions per key on every frame; the keys of OCPP
    # payloads are few (their schemas close most objects), so each is converted once, up to a bound.
    converted = next(iter(camel_to_snake_case({key: None})))
    if len(_SNAKE_KEYS) < 1024:
        _SNAKE_KEYS[key] = converted
    return converted


def snake_case_keys(data):
    """camelCase -> snake_case keys, recursively, as the library's handlers expect them."""
    if type(data) is dict:
        known = _SNAKE_KEYS
        return {known.get(key) or _snake_key(key): value if type(value) not in _NESTED else snake_case_keys(value)
                for key, value in data.items()}
    if type(data) is list:
        return [value if type(value) not in _NESTED else snake_case_keys(value) for value in data]
    return data


_NESTED = frozenset({dict, list})
_PLAIN_VALUES = frozenset({str, int, type(None)})


@functools.lru_cache(maxsize=1024)
def _camel_key(key: str) -> str:
    return next(iter(snake_to_camel_case({key: None})))  # a dozen str.replace calls per key in the library


def camel_case_keys(data):
    """snake_case -> camelCase keys, recursively, as the library's snake_to_camel_case does for answers."""
    if isinstance(data, dict):
        return {_camel_key(key): camel_case_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [camel_case_keys(value) for value in data]
    return data


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChargePointV16(StationSession, LibraryChargePoint):
    """Handlers for every Charge Point -> Central System message of OCPP 1.6 and its security extension."""

    version = "1.6"
    subprotocol = "ocpp1.6"

    # The library calls handlers with snake_case keyword arguments; responses go back as camelCase.
    def encode_response(self, response) -> dict:
        """The library's dataclass -> dict -> without Nones -> camelCase. An answer whose fields are all strings,
        integers or None (MeterValues, StatusNotification, Heartbeat: most calls) skips the round trip, whose
        copies and walks change nothing for such values."""
        fields = [(name, getattr(response, name)) for name in response.__dataclass_fields__]
        if all(type(value) in _PLAIN_VALUES for _, value in fields):
            return {_camel_key(name): value for name, value in fields if value is not None}
        return camel_case_keys(remove_nones(serialize_as_dict(response)))

    def decode_request(self, payload: dict) -> dict:
        return snake_case_keys(payload)

    def action_exists(self, action: str) -> bool:
        return action in Action._value2member_map_

    @on(Action.boot_notification)
    async def on_boot_notification(self, charge_point_vendor, charge_point_model, **details):
        status, interval = await run_db(
            reports.boot_notification_record, charge_point_id=self.station_id,
            vendor=charge_point_vendor, model=charge_point_model,
            serial_number=details.get("charge_point_serial_number") or details.get("charge_box_serial_number"),
            firmware_version=details.get("firmware_version"), iccid=details.get("iccid"),
            imsi=details.get("imsi"), meter_type=details.get("meter_type"),
            meter_serial_number=details.get("meter_serial_number"),
        )
        self.registration_status = status
        return call_result.BootNotification(current_time=now_iso(), interval=interval, status=status)

    @on(Action.heartbeat)
    async def on_heartbeat(self):
        self.seen_now()
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    async def on_status_notification(self, connector_id, error_code, status, timestamp=None, info=None,
                                     vendor_id=None, vendor_error_code=None):
        number = check_connector_id(connector_id, 0, self.current_unique_id)
        received = datetime.now(UTC)
        moment = parse_timestamp(timestamp, self.current_unique_id) if timestamp else received
        connector_pk = None if number == 0 else (await self.connector_ref(number))[0]
        self.stage(batch.StatusReport(self.id, number, (
            self.station_id, connector_pk, status, error_code, (info or "")[:50], (vendor_id or "")[:255],
            (vendor_error_code or "")[:50], moment, received,
        )))
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag):
        info = await run_db(reports.id_tag_authorize, charge_point_id=self.station_id, id_tag=id_tag)
        return call_result.Authorize(id_tag_info=info.as_ocpp16())

    @on(Action.start_transaction)
    async def on_start_transaction(self, connector_id, id_tag, meter_start, timestamp, reservation_id=None):
        number = check_connector_id(connector_id, 1, self.current_unique_id)
        moment = parse_timestamp(timestamp, self.current_unique_id)
        events = []
        started = await run_db(
            reports.transaction_start, charge_point_id=self.station_id, connector_id=number,
            connector=self.cached_connector(number), id_tag=id_tag, meter_start_wh=meter_start, timestamp=moment,
            reservation_id=reservation_id, events=events,
        )
        self.session_started(number, started.session)
        group_writer().publish(events)
        return call_result.StartTransaction(
            transaction_id=int(started.transaction_id), id_tag_info=started.id_tag_info.as_ocpp16()
        )

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, meter_stop, timestamp, transaction_id, reason=None, id_tag=None,
                                  transaction_data=None):
        events = []
        info = await run_db(
            reports.transaction_stop, charge_point_id=self.station_id, transaction_id=str(transaction_id),
            meter_stop_wh=meter_stop, timestamp=parse_timestamp(timestamp, self.current_unique_id),
            reason=reason or "", id_tag=id_tag or "",
            meter_values=self.decode_meter_values(transaction_data or [], skip_unreadable=True),
            identity=self.id, events=events,
        )
        self.session_stopped(str(transaction_id))
        group_writer().publish(events)
        if info is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=info.as_ocpp16())

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id, meter_value, transaction_id=None):
        number = check_connector_id(connector_id, 0, self.current_unique_id)
        samples = self.decode_meter_values(meter_value)
        connector_pk = None if number == 0 else (await self.connector_ref(number))[0]
        session = await self.session_ref(None if transaction_id is None else str(transaction_id), connector_pk)
        rows = [(self.station_id, connector_pk, session.pk if session else None, s.timestamp, s.measurand,
                 s.phase[:8], s.location[:8], s.context[:24], s.value, s.unit[:12]) for s in samples]
        publication = None
        if session is not None and session.active:
            event = reports.live_reading(self.id, session, samples)
            publication = (event_groups(self.id, event, dashboard=False), event)
        self.stage(batch.MeterReport(rows, publication))
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id, message_id=None, data=None):
        status, answer = await run_db(
            reports.data_transfer_record, charge_point_id=self.station_id, vendor_id=vendor_id,
            message_id=message_id or "", data=data,
        )
        return call_result.DataTransfer(status=DataTransferStatus(status), data=answer)

    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(self, status):
        await run_db(reports.firmware_status_record, charge_point_id=self.station_id, status=status)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(self, status):
        await run_db(reports.diagnostics_status_record, charge_point_id=self.station_id, status=status)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.security_event_notification)
    async def on_security_event_notification(self, type, timestamp, tech_info=None):
        await run_db(
            reports.security_event_record, charge_point_id=self.station_id, event_type=type,
            timestamp=parse_timestamp(timestamp, self.current_unique_id), tech_info=tech_info or "",
        )
        return call_result.SecurityEventNotification()

    def decode_meter_values(self, meter_values: list, *, skip_unreadable: bool = False) -> list[reports.Sample]:
        """Flatten OCPP MeterValue/SampledValue lists into samples with parsed times and Decimal values.

        With skip_unreadable, a value we cannot read is logged and left out (the journal keeps the frame)
        rather than refusing the message: a StopTransaction must not be refused for its transactionData.
        """
        samples = []
        for meter_value in meter_values:
            moment = None  # parsed once for all its samples
            for sampled in meter_value["sampled_value"]:
                if sampled.get("format") == "SignedData":
                    continue  # signed meter data is kept in the journal; it carries no plain number
                try:
                    if moment is None:
                        moment = parse_timestamp(meter_value["timestamp"], self.current_unique_id)
                    samples.append(reports.Sample.from_ocpp(moment, sampled, self.current_unique_id))
                except FrameError as error:
                    if not skip_unreadable:
                        raise
                    logger.warning("Station %s: left out a meter value of message %s: %s", self.id,
                                   self.current_unique_id, error.description)
        return samples
