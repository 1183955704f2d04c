"""The compiled schema checks (stations.protocol.frames) never accept what the library's validator refuses.

Property-style: for every OCPP 1.6 schema, payloads are generated from the schema (valid ones, with optional
fields present or not) and then broken in one random place each (a value of another type, a bool or a float where
an integer is due, a string one character too long, an unknown enum value or key, a missing key, an empty or a
longer list). For each payload, the compiled check may say "valid" only if the validator finds no error, and
validate_payload refuses exactly what the validator refuses. Seeded, so a failure can be replayed.
"""

import copy
import decimal
import glob
import os
import random

import ocpp
import pytest
from ocpp.messages import Call, CallResult, get_validator

from stations.protocol import frames
from stations.protocol.frames import FrameError, validate_payload

PAYLOADS_PER_SCHEMA = 150
TRAPS = [0, 1, -1, True, False, None, 1.0, 1.5, decimal.Decimal("2"), decimal.Decimal("2.5"), "", "1", "Raw",
         "Energy.Active.Import.Register", "x" * 600, [], [{}], {}, {"value": "1"}]


def schema_names() -> list[str]:
    directory = os.path.join(os.path.dirname(ocpp.__file__), "v16", "schemas")
    return sorted(os.path.basename(path)[:-5] for path in glob.glob(os.path.join(directory, "*.json")))


def message_for(name: str, payload) -> Call | CallResult:
    if name.endswith("Response"):
        result = CallResult("u-1", payload)
        result.action = name.removesuffix("Response")
        return result
    return Call("u-1", name, payload)


def validator_for(name: str):
    message_type, action = (3, name.removesuffix("Response")) if name.endswith("Response") else (2, name)
    return get_validator(message_type, action, "1.6", parse_float=decimal.Decimal)


def generate(schema: dict, rng: random.Random):
    """A valid instance of a schema made of the keywords the compiler knows (enough for the 1.6 schemas)."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {key: generate(sub, rng) for key, sub in properties.items() if key in required or rng.random() < 0.5}
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        return [generate(schema.get("items", {"type": "string"}), rng) for _ in range(rng.randint(low, high))]
    if kind == "string":
        high = schema.get("maxLength", 30)
        return "".join(rng.choice("aZ9-_.:é€ \"\\") for _ in range(rng.randint(schema.get("minLength", 0), high)))
    if kind == "integer":
        return rng.randint(-10**6, 10**6)
    if kind == "number":
        return rng.choice([rng.randint(-100, 100), decimal.Decimal(rng.randint(-1000, 1000)) / 10])
    if kind == "boolean":
        return rng.random() < 0.5
    return rng.choice(TRAPS)  # a schema the compiler does not know: anything


def nodes(value, path=()):
    """Every (path, value) inside a payload, the payload itself included."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nodes(item, (*path, index))


def mutate(payload, rng: random.Random):
    """The payload broken (or not: some changes keep it valid) in one randomly chosen place."""
    changed = copy.deepcopy(payload)
    path, target = rng.choice(list(nodes(changed)))
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    choice = rng.random()
    if isinstance(target, dict) and choice < 0.5:
        if target and rng.random() < 0.5:
            del target[rng.choice(list(target))]  # maybe a required key
        else:
            target[rng.choice(["unknownKey", "value", "status", "idTag"])] = rng.choice(TRAPS)
    elif isinstance(target, list) and choice < 0.5:
        if rng.random() < 0.5:
            target.clear()
        else:
            target.extend(copy.deepcopy(target[:1]) * rng.randint(1, 3) or [rng.choice(TRAPS)])
    elif isinstance(target, str) and choice < 0.5:
        target_options = [target.lower(), target.upper(), target + "x", target[:-1], target + "x" * 20,
                          target * 30]
        replacement = rng.choice(target_options)
        if path:
            parent[path[-1]] = replacement
        else:
            return replacement
    elif path:
        parent[path[-1]] = rng.choice(TRAPS)
    else:
        return rng.choice(TRAPS)
    return changed


def validator_accepts(validator, payload) -> bool:
    return not any(True for _ in validator.iter_errors(frames._as_decimals(payload)))


@pytest.mark.parametrize("name", schema_names())
def test_the_compiled_check_accepts_nothing_the_validator_refuses(name):
    validator = validator_for(name)
    check = frames._compiled_check(validator)
    rng = random.Random(f"ocpp-1.6-{name}")
    confirmed = refused = 0
    for _ in range(PAYLOADS_PER_SCHEMA):
        valid = generate(validator.schema, rng)
        for payload in (valid, mutate(valid, rng), mutate(mutate(valid, rng), rng)):
            accepted = validator_accepts(validator, payload)
            if check(payload):
                assert accepted, f"{name}: the compiled check accepted {payload!r}"
                confirmed += 1
            refused += not accepted
            message = message_for(name, payload)
            if accepted:
                validate_payload(message, "1.6")
            else:
                with pytest.raises(FrameError):
                    validate_payload(message, "1.6")
    assert refused, f"{name}: no generated payload was invalid, the mutations test nothing"
    if check is not frames._never:
        assert confirmed >= PAYLOADS_PER_SCHEMA, f"{name}: valid payloads went to the validator"


def test_the_schemas_of_the_frequent_calls_are_compiled():
    for name in ("MeterValues", "StatusNotification", "Heartbeat", "Authorize", "StartTransaction",
                 "StopTransaction", "BootNotification", "DataTransfer"):
        assert frames._compiled_check(validator_for(name)) is not frames._never, name


@pytest.mark.parametrize("value, accepted", [
    (1, True), (True, False), (False, False), (1.0, False), (decimal.Decimal("1"), False), ("1", False),
])
def test_an_integer_field_is_confirmed_exactly_when_draft_4_accepts_it(value, accepted):
    validator = validator_for("StatusNotification")
    payload = {"connectorId": value, "errorCode": "NoError", "status": "Available"}
    assert frames._compiled_check(validator)(payload) is accepted
    assert validator_accepts(validator, payload) is accepted  # a bool is no integer; nor is a float or Decimal
