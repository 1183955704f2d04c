"""Frame-level helpers behave exactly like the library's own conversions they replace on the hot path."""

import copy
import decimal
import json

import pytest
from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.messages import CallResult, get_validator
from ocpp.v16 import call_result
from ocpp.v16.enums import DataTransferStatus, RegistrationStatus

from stations.protocol import frames
from stations.protocol.frames import FrameError, parse_frame, result_frame, validate_payload
from stations.protocol.v16 import ChargePointV16, snake_case_keys

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


# --- schema checks compiled from the schemas -------------------------------------------------------------
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


def test_the_frequent_calls_are_confirmed_by_their_compiled_check_without_the_validator(monkeypatch):
    monkeypatch.setattr(frames, "_as_decimals", None)  # the way to the validator: it must not be taken
    for action, payload in (("MeterValues", METER_VALUES), ("BootNotification", BOOT), ("Heartbeat", {}),
                            ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})):
        validate_payload(_call(payload, action), "1.6")


def test_a_schema_with_a_keyword_the_compiler_does_not_know_always_goes_to_the_validator():
    for action in ("SetChargingProfile", "LogStatusNotification"):
        validator = get_validator(2, action, "1.6", parse_float=decimal.Decimal)
        assert frames._compiled_check(validator) is frames._never  # $ref, multipleOf


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


# --- answers written without the library's round trip -------------------------------------------------------
@pytest.mark.parametrize("unique_id", ["u-1", 'quo"te\\back', "ünï€ode", "tab\there", "", "x" * 36])
@pytest.mark.parametrize("payload", [{}, {"currentTime": "2026-11-23T10:00:00.000Z"}, {"status": "Accepted"},
                                     {"transactionId": 5, "idTagInfo": {"status": "Blocked", "parentIdTag": "G"}},
                                     {"data": decimal.Decimal("21.5")}])
def test_a_callresult_frame_is_written_as_the_library_writes_it(unique_id, payload):
    assert result_frame(unique_id, payload) == CallResult(unique_id, payload).to_json()


@pytest.mark.parametrize("response", [
    call_result.MeterValues(), call_result.StatusNotification(),
    call_result.Heartbeat(current_time="2026-11-23T10:00Z"),
    call_result.BootNotification(current_time="2026-11-23T10:00Z", interval=300, status="Accepted"),
    call_result.BootNotification(current_time="t", interval=60, status=RegistrationStatus.pending),
    call_result.Authorize(id_tag_info={"status": "Accepted", "expiry_date": "x", "parent_id_tag": None}),
    call_result.StartTransaction(transaction_id=7, id_tag_info={"status": "Accepted"}),
    call_result.StopTransaction(), call_result.StopTransaction(id_tag_info={"status": "Invalid"}),
    call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id),
    call_result.DataTransfer(status="Accepted", data="soc_limit"),
])
def test_answers_are_encoded_as_the_library_encodes_them(response):
    expected = snake_to_camel_case(remove_nones(serialize_as_dict(response)))
    encoded = ChargePointV16.encode_response(None, response)
    assert encoded == expected
    assert result_frame("u-1", encoded) == CallResult("u-1", expected).to_json()
