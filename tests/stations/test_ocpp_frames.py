"""Frame-level helpers behave exactly like the library's own conversions they replace on the hot path."""

from ocpp.charge_point import camel_to_snake_case

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
