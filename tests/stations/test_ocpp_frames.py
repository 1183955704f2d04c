"""Frame-level helpers behave exactly like the library's own conversions they replace on the hot path."""

import copy
import json

import pytest
from ocpp.charge_point import camel_to_snake_case

from stations.protocol import frames
from stations.protocol.frames import FrameError, parse_frame, validate_payload
from stations.protocol.v16 import snake_case_keys

METER_VALUES = {
    "connectorId": 1, "transactionId": 7,
    "meterValue": [{"timestamp": "2026-11-23T10:00:00Z", "sampledValue": [
        {"value": "1200", "measurand": "Energy.Active.Import.Register", "unit": "Wh", "phase": "L1-N"},
        {"value": "80", "measurand": "SoC", "unit": "Percent", "location": "EV"},
    ]}],
}
BOOT = {"chargePointVendor": "V", "chargePointModel": "M", "chargeBoxSerialNumber": "S", "iccid": "I",
        "meterSerialNumber": "MS", "firmwareVersion": "1.0"}


def test_cached_key_conversion_matches_the_library_on_nested_payloads():
    for payload in (METER_VALUES, BOOT, {"idTagInfo": {"parentIdTag": "G", "expiryDate": "x"}}):
        assert snake_case_keys(payload) == camel_to_snake_case(payload)
    assert snake_case_keys(BOOT)["charge_box_serial_number"] == "S"


# --- schema verdicts remembered per payload skeleton -------------------------------------------------------
def _call(payload: dict, action: str = "MeterValues"):
    return parse_frame(json.dumps([2, "u-1", action, payload]))


def _with(payload: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(payload)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("path, value, kind", [
    (("meterValue", 0, "sampledValue", 0, "measurand"), "Energy.Bogus", "property"),  # enum
    (("meterValue", 0, "sampledValue", 0, "value"), 1200, "type"),  # a number where a string is due
    (("meterValue", 0, "sampledValue", 1, "location"), "Trunk", "property"),
    (("connectorId",), "1", "type"),
    (("meterValue", 0, "sampledValue"), [], "property"),  # minItems
])
def test_payload_like_an_accepted_one_is_still_refused_for_a_value_its_schema_forbids(path, value, kind):
    validate_payload(_call(METER_VALUES), "1.6")  # its skeleton is now remembered as valid
    with pytest.raises(FrameError) as refused:
        validate_payload(_call(_with(METER_VALUES, path, value)), "1.6")
    assert refused.value.kind == kind


def test_payloads_differing_only_in_unconstrained_values_share_one_verdict():
    validate_payload(_call(METER_VALUES), "1.6")
    other = _with(_with(METER_VALUES, ("meterValue", 0, "sampledValue", 0, "value"), "1375"),
                  ("meterValue", 0, "timestamp"), "2026-11-23T10:05:00Z")
    before = len(frames._valid_skeletons)
    validate_payload(_call(other), "1.6")
    assert len(frames._valid_skeletons) == before


def test_missing_required_field_is_refused_after_a_complete_payload_was_accepted():
    validate_payload(_call(BOOT, "BootNotification"), "1.6")
    incomplete = {k: v for k, v in BOOT.items() if k != "chargePointModel"}
    with pytest.raises(FrameError) as refused:
        validate_payload(_call(incomplete, "BootNotification"), "1.6")
    assert refused.value.kind == "occurrence"


def test_payload_with_its_fields_in_another_order_is_judged_on_its_own():
    validate_payload(_call(METER_VALUES), "1.6")
    reordered = {"meterValue": [{"sampledValue": [{"unit": "Wh", "measurand": "Energy.Bogus", "value": "1"}],
                                 "timestamp": "2026-11-23T10:00:00Z"}], "transactionId": 7, "connectorId": 1}
    with pytest.raises(FrameError) as refused:
        validate_payload(_call(reordered), "1.6")
    assert refused.value.kind == "property"
    reordered["meterValue"][0]["sampledValue"][0]["measurand"] = "Energy.Active.Import.Register"
    validate_payload(_call(reordered), "1.6")  # the same fields, valid, in the order this station sends them
