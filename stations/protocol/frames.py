"""OCPP-J framing: parse a websocket text frame into a Call, CallResult or CallError, validate payloads
against the version's JSON schemas, and express every failure as the CALLERROR code that version defines.

OCPP 1.6 spells two codes differently from 2.0.1 (FormationViolation, OccurenceConstraintViolation); the
`ocpp` library answers with the 2.0.1 spelling, so the mapping lives here.
"""

import decimal
import json
from dataclasses import dataclass, field

from jsonschema.exceptions import ValidationError as SchemaValidationError
from ocpp.messages import Call, CallError, CallResult, MessageType, get_validator

# Schema keywords whose failure means "a field holds a value outside its allowed set or range".
_PROPERTY_KEYWORDS = {"enum", "maxLength", "minLength", "minimum", "maximum", "pattern", "format",
                      "multipleOf", "exclusiveMinimum", "exclusiveMaximum", "maxItems", "minItems"}


@dataclass
class FrameError(Exception):
    """A failure that must be answered with a CALLERROR (when the frame was a Call)."""

    kind: str  # formation | occurrence | type | property | not_implemented | not_supported | internal
    description: str
    unique_id: str = "-1"
    details: dict = field(default_factory=dict)

    def code(self, version: str) -> str:
        return error_code(self.kind, version)

    def as_call_error(self, version: str) -> CallError:
        return CallError(self.unique_id, self.code(version), self.description[:255], self.details)


def error_code(kind: str, version: str) -> str:
    v16 = version == "1.6"
    return {
        "formation": "FormationViolation" if v16 else "FormatViolation",
        "occurrence": "OccurenceConstraintViolation" if v16 else "OccurrenceConstraintViolation",
        "type": "TypeConstraintViolation",
        "property": "PropertyConstraintViolation",
        "protocol": "ProtocolError",
        "not_implemented": "NotImplemented",
        "not_supported": "NotSupported",
        "internal": "InternalError",
        "security": "SecurityError",
        "generic": "GenericError",
    }[kind]


def parse_frame(raw: str) -> Call | CallResult | CallError:
    """Parse one frame, or raise FrameError carrying the unique id when it could be read."""
    try:
        frame = json.loads(raw, parse_float=decimal.Decimal)
    except (ValueError, UnicodeDecodeError):
        raise FrameError("formation", "Frame is not valid JSON.") from None
    if not isinstance(frame, list) or not frame:
        raise FrameError("formation", "Frame is not an OCPP-J message array.")
    unique_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) and frame[1] else "-1"
    message_type, rest = frame[0], frame[1:]
    shapes = {
        MessageType.Call: (Call, (str, str, dict)),
        MessageType.CallResult: (CallResult, (str, dict)),
        MessageType.CallError: (CallError, (str, str, str, dict)),
    }
    if message_type not in shapes or isinstance(message_type, bool):
        raise FrameError("formation", f"Unknown MessageTypeId {message_type!r}.", unique_id)
    cls, types = shapes[message_type]
    if len(rest) != len(types) or not all(isinstance(v, t) for v, t in zip(rest, types, strict=True)):
        raise FrameError("formation", f"Frame does not have the elements of a {cls.__name__}.", unique_id)
    if len(unique_id) > 36:
        raise FrameError("formation", "UniqueId is longer than 36 characters.", "-1")
    return cls(*rest)


def validate_payload(message: Call | CallResult, version: str) -> None:
    """Check a payload against the version's schema; raise FrameError with the matching error kind."""
    try:
        validator = get_validator(message.message_type_id, message.action, version, parse_float=decimal.Decimal)
    except OSError:
        raise FrameError("not_implemented", f"{message.action} is not an OCPP {version} action.",
                         message.unique_id) from None
    error = next(iter(sorted(validator.iter_errors(_as_decimals(message.payload)), key=lambda e: e.path)), None)
    if error is None:
        return
    raise FrameError(_kind_of(error), _describe(error), message.unique_id)


def _as_decimals(value):
    """Floats as Decimals, whose "multipleOf 0.1" check passes for 21.4; Decimals (frames are parsed into
    them) must stay numbers, or a number would pass where the schema wants a string."""
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    if isinstance(value, dict):
        return {key: _as_decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_decimals(item) for item in value]
    return value


def plain_json(value):
    """A parsed payload with its Decimals as int or float again, as a JSONField can store it."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value


def _kind_of(error: SchemaValidationError) -> str:
    if error.validator == "required":
        return "occurrence"
    if error.validator == "type":
        return "type"
    if error.validator in _PROPERTY_KEYWORDS:
        return "property"
    return "formation"  # additionalProperties and anything structural


def _describe(error: SchemaValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message
