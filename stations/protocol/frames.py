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
    key = (message.message_type_id, message.action, version,
           _skeleton(validator.schema, message.payload, validator.format_checker is None))
    if key in _valid_skeletons:
        return
    error = next(iter(sorted(validator.iter_errors(_as_decimals(message.payload)), key=lambda e: e.path)), None)
    if error is None:
        if len(_valid_skeletons) >= VALID_SKELETONS_MAX:
            _valid_skeletons.clear()
        _valid_skeletons.add(key)
        return
    raise FrameError(_kind_of(error), _describe(error), message.unique_id)


# Schema validation (jsonschema, pure Python) was the largest CPU cost per frame: 0.7 ms for a MeterValues.
# Payloads of one station type differ mostly in values that their schema only constrains by type (meter
# readings, times, ids), so the verdict of the library's validator is remembered per *skeleton*: the
# payload with every such leaf replaced by its type. Two payloads with the same skeleton get the same
# verdict from a Draft 4 validator, so only valid skeletons are remembered and nothing is accepted that the
# validator would refuse. Anything the walk does not understand is kept whole in the skeleton.
VALID_SKELETONS_MAX = 20_000
_valid_skeletons: set = set()
_NOTES = frozenset({"title", "description", "$schema", "javaType", "id", "$id", "$comment"})
_STRUCTURE = _NOTES | {"type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
                       "minProperties", "maxProperties"}


def _skeleton(schema: dict, value, formats_unchecked: bool):
    """The payload's skeleton: a leaf the schema checks by type only becomes its type; containers keep their
    keys in the order sent (a station sends the same order every time); anything else is kept by value."""
    shape = _shapes.get(id(schema)) or _shape_of(schema, formats_unchecked)
    if shape[0] is _STRUCTURE_KIND:
        kind_of_value = type(value)
        if kind_of_value is dict:
            properties, parts = shape[1], [dict]
            for key, item in value.items():
                child = properties.get(key, _ANY)
                child_shape = _shapes.get(id(child))
                item_type = type(item)
                if child_shape is None or item_type not in _SCALARS:
                    parts.append((key, _skeleton(child, item, formats_unchecked)))
                elif child_shape[0] is _TYPE_KIND and item_type in _TYPE_LEAVES:
                    parts.append((key, item_type))  # the common cases without a call: a leaf checked by type,
                elif child_shape[0] is _VALUE_KIND:
                    parts.append((key, ("v", (item_type, item))))  # and a leaf checked by value (enums)
                else:
                    parts.append((key, _skeleton(child, item, formats_unchecked)))
            return tuple(parts)
        if kind_of_value is list and shape[2] is not None:
            items = shape[2]
            return (list, *[_skeleton(items, item, formats_unchecked) for item in value])
    elif shape[0] is _TYPE_KIND and type(value) in _TYPE_LEAVES:
        return type(value)  # the schema checks this leaf's type and nothing else
    return ("v", _frozen(value))


# What each (sub)schema lets the walk do, by id: the library keeps its schemas for the process's life.
_TYPE_KIND, _STRUCTURE_KIND, _VALUE_KIND = "type", "structure", "value"
_TYPE_LEAVES = frozenset({str, int, bool})
_SCALARS = frozenset({str, int, bool, float, decimal.Decimal, type(None)})
_shapes: dict[int, tuple[str, dict, dict | None]] = {}
_ANY: dict = {}


def _shape_of(schema: dict, formats_unchecked: bool) -> tuple[str, dict, dict | None]:
    keys = set(schema)
    if "type" in keys and not keys - _NOTES - {"type"} - ({"format"} if formats_unchecked else set()):
        shape = _TYPE_KIND, {}, None
    elif not keys - _STRUCTURE and isinstance(schema.get("additionalProperties", False), bool):
        items = schema.get("items", _ANY)
        shape = _STRUCTURE_KIND, schema.get("properties", {}), items if isinstance(items, dict) else None
    else:
        shape = _VALUE_KIND, {}, None
    _shapes[id(schema)] = shape
    return shape


def _frozen(value):
    if isinstance(value, dict):
        return ("o", tuple(sorted((key, _frozen(item)) for key, item in value.items())))
    if isinstance(value, list):
        return ("a", tuple(_frozen(item) for item in value))
    return (type(value), value)  # 1, 1.0 and True are equal keys in a set; their types are not


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
