"""OCPP-J framing: parse a websocket text frame into a Call, CallResult or CallError, validate payloads
against the version's JSON schemas, and express every failure as the CALLERROR code that version defines.

OCPP 1.6 spells two codes differently from 2.0.1 (FormationViolation, OccurenceConstraintViolation); the
`ocpp` library answers with the 2.0.1 spelling, so the mapping lives here.
"""

import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii

from jsonschema.exceptions import ValidationError as SchemaValidationError
from ocpp.messages import Call, CallError, CallResult, MessageType, _DecimalEncoder, get_validator

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
    message_type: int | None = None  # the frame's MessageTypeId, once it could be read

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


# What parse_frame reads: json.loads() would build a decoder for every frame.
_DECODER = json.JSONDecoder(parse_float=decimal.Decimal)
_SHAPES = {
    MessageType.Call: (Call, (str, str, dict)),
    MessageType.CallResult: (CallResult, (str, dict)),
    MessageType.CallError: (CallError, (str, str, str, dict)),
}


def parse_frame(raw: str) -> Call | CallResult | CallError:
    """Parse one frame, or raise FrameError carrying the unique id when it could be read."""
    try:
        frame = _DECODER.decode(raw)
    except (ValueError, UnicodeDecodeError):
        raise FrameError("formation", "Frame is not valid JSON.") from None
    if not isinstance(frame, list) or not frame:
        raise FrameError("formation", "Frame is not an OCPP-J message array.")
    unique_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) and frame[1] else "-1"
    message_type, rest = frame[0], frame[1:]
    if type(message_type) not in (int, decimal.Decimal) or message_type not in _SHAPES:  # no bool, list, dict
        raise FrameError("formation", f"Unknown MessageTypeId {message_type!r}.", unique_id)
    message_type = int(message_type)
    if "\\u0000" in raw and _has_nul(frame):  # JSON cannot carry a raw NUL: only its escape needs a look
        # No database column takes it (PostgreSQL's text and jsonb refuse U+0000): refused here, not failed later.
        raise FrameError("property", "Strings must not contain the NUL character (U+0000).",
                         "-1" if "\x00" in unique_id else unique_id, message_type=message_type)
    cls, types = _SHAPES[message_type]
    if len(rest) != len(types) or not all(isinstance(v, t) for v, t in zip(rest, types, strict=True)):
        raise FrameError("formation", f"Frame does not have the elements of a {cls.__name__}.", unique_id,
                         message_type=message_type)
    if len(unique_id) > 36:
        raise FrameError("formation", "UniqueId is longer than 36 characters.", "-1", message_type=message_type)
    return cls(*rest)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


# What CallResult.to_json() encodes with, built once: json.dumps(..., cls=...) builds an encoder per frame.
_RESULT_ENCODER = _DecimalEncoder(separators=(",", ":"))


def result_frame(unique_id: str, payload: dict) -> str:
    """The CALLRESULT frame answering call `unique_id`, as CallResult(unique_id, payload).to_json() writes it
    (an empty payload without an encoder: the id is escaped by the function that encoder uses for strings)."""
    if not payload:
        return f"[{MessageType.CallResult:d},{encode_basestring_ascii(unique_id)},{{}}]"
    return _RESULT_ENCODER.encode([MessageType.CallResult, unique_id, payload])


def validate_payload(message: Call | CallResult, version: str) -> None:
    """Check a payload against the version's schema; raise FrameError with the matching error kind."""
    try:
        validator = get_validator(message.message_type_id, message.action, version, parse_float=decimal.Decimal)
    except OSError:
        raise FrameError("not_implemented", f"{message.action} is not an OCPP {version} action.",
                         message.unique_id) from None
    if _compiled_check(validator)(message.payload):
        return
    error = next(iter(sorted(validator.iter_errors(_as_decimals(message.payload)), key=lambda e: e.path)), None)
    if error is not None:
        raise FrameError(_kind_of(error), _describe(error), message.unique_id)


# Schema validation (jsonschema, pure Python) was the largest CPU cost per frame: 0.7 ms for a MeterValues. The
# library's validator stays the judge, but first a check compiled from the same schema confirms the payloads
# that are certainly valid: it knows the few keywords of the OCPP schemas (types, properties, required, closed
# objects, enums of strings, lengths, item counts), answers True only where the Draft 4 validator has nothing to
# object, and False whenever it is not certain (a float, any violation); the validator then decides and
# describes the error. A schema with a keyword (or a form of one) that it does not know is not compiled, and
# its payloads always go to the validator. The check is generated Python source, one function per schema with
# the nesting unrolled: a MeterValues of 7 samples costs a few microseconds, several times less than calling a
# function per field.
Check = Callable[[object], bool]
_checks: dict[int, Check] = {}  # by validator id: the library keeps its validators for the process's life
_NOTES = frozenset({"title", "description", "$schema", "javaType", "id", "$id", "$comment"})
_OBJECT_KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties"})
_ARRAY_KEYWORDS = frozenset({"type", "items", "minItems", "maxItems"})
# additionalProperties, which some OCPP schemas put on strings, applies to objects only.
_SCALAR_KEYWORDS = frozenset({"type", "enum", "minLength", "maxLength", "additionalProperties"})
# Draft 4 types by the exact Python types that certainly satisfy them (bool is not an integer there; a parsed
# frame's fractions are Decimals, while a float is left to the validator).
_TYPES = {"string": (str,), "integer": (int,), "number": (int, decimal.Decimal), "boolean": (bool,),
          "object": (dict,), "array": (list,)}


class NotCompiled(Exception):
    """The schema uses something the compiled check does not know."""


def _never(value) -> bool:
    return False


def _compiled_check(validator) -> Check:
    check = _checks.get(id(validator))
    if check is None:
        try:
            check = _SchemaCompiler(validator.format_checker is None).compile(validator.schema)
        except NotCompiled:
            check = _never
        _checks[id(validator)] = check
    return check


class _SchemaCompiler:
    """Writes `def check(value)`: statements that return False as soon as a value is not certainly valid."""

    def __init__(self, formats_unchecked: bool) -> None:
        self.ignored = (_NOTES | {"format"}) if formats_unchecked else _NOTES
        self.lines: list[str] = []
        self.constants: dict[str, object] = {}

    def compile(self, schema) -> Check:
        self.emit(schema, "value", 1)
        source = "\n".join(["def check(value):", *self.lines, "    return True", ""])
        namespace = dict(self.constants)
        # The source comes from the library's schema files only; property names are written with repr().
        exec(compile(source, f"<schema check {schema.get('title', '')}>", "exec"), namespace)
        return namespace["check"]

    def constant(self, value) -> str:
        name = f"C{len(self.constants)}"
        self.constants[name] = value
        return name

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def emit(self, schema, var: str, depth: int) -> None:
        if not isinstance(schema, dict):
            raise NotCompiled
        keys = schema.keys() - self.ignored
        types = _TYPES.get(schema.get("type"))
        if types == (dict,) and keys <= _OBJECT_KEYWORDS:
            self.emit_object(schema, var, depth)
        elif types == (list,) and keys <= _ARRAY_KEYWORDS:
            self.emit_array(schema, var, depth)
        elif types is not None and keys <= _SCALAR_KEYWORDS:
            self.emit_scalar(schema, types, var, depth)
        else:
            raise NotCompiled

    def emit_object(self, schema: dict, var: str, depth: int) -> None:
        properties, required = schema.get("properties", {}), schema.get("required", [])
        additional = schema.get("additionalProperties", True)
        if not isinstance(properties, dict) or not isinstance(required, list) or not isinstance(additional, bool):
            raise NotCompiled
        self.line(depth, f"if type({var}) is not dict or not {var}.keys() >= {self.constant(frozenset(required))}:")
        self.line(depth + 1, "return False")
        if not properties and additional:
            return
        key, item = f"k{len(self.lines)}", f"v{len(self.lines)}"
        self.line(depth, f"for {key}, {item} in {var}.items():")
        for index, (name, subschema) in enumerate(properties.items()):
            self.line(depth + 1, f"{'elif' if index else 'if'} {key} == {name!r}:")
            self.emit(subschema, item, depth + 2)
        if properties:
            self.line(depth + 1, "else:")
        self.line(depth + 1 + bool(properties), "return False" if not additional else "pass")

    def emit_array(self, schema: dict, var: str, depth: int) -> None:
        low, high, items = schema.get("minItems", 0), schema.get("maxItems"), schema.get("items")
        if type(low) is not int or (high is not None and type(high) is not int):
            raise NotCompiled
        bounds = f" or len({var}) < {low}" + (f" or len({var}) > {high}" if high is not None else "")
        self.line(depth, f"if type({var}) is not list{bounds}:")
        self.line(depth + 1, "return False")
        if items is not None:
            item = f"v{len(self.lines)}"
            self.line(depth, f"for {item} in {var}:")
            self.emit(items, item, depth + 1)

    def emit_scalar(self, schema: dict, types: tuple[type, ...], var: str, depth: int) -> None:
        enum, low, high = schema.get("enum"), schema.get("minLength", 0), schema.get("maxLength")
        if enum is None and "minLength" not in schema and high is None:
            self.line(depth, f"if type({var}) not in {self.constant(types)}:")
            self.line(depth + 1, "return False")
            return
        if types != (str,) or type(low) is not int or (high is not None and type(high) is not int):
            raise NotCompiled
        condition = f"type({var}) is not str"
        if enum is not None:
            if not isinstance(enum, list) or not all(type(option) is str for option in enum):
                raise NotCompiled
            condition += f" or {var} not in {self.constant(frozenset(enum))}"
        if low:
            condition += f" or len({var}) < {low}"
        if high is not None:
            condition += f" or len({var}) > {high}"
        self.line(depth, f"if {condition}:")
        self.line(depth + 1, "return False")


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
