"""The configuration keys of a simulated OCPP 1.6 station (OCPP 1.6 chapter 9): what GetConfiguration
lists and ChangeConfiguration may change, with the answers a real station gives (Rejected for read-only
keys and invalid values, NotSupported for keys it does not know)."""

from dataclasses import dataclass

from stations.simulator.charging import ENERGY, SUPPORTED_MEASURANDS

FEATURE_PROFILES = "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"


@dataclass
class Key:
    value: str
    readonly: bool = False
    kind: str = "str"  # int | bool | measurands | str


def default_keys(*, connectors: int, is_dc: bool, heartbeat_interval_s: int, meter_interval_s: int) -> dict:
    sampled = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage" + (",SoC" if is_dc else "")
    rw, ro = False, True
    table = {
        # Core
        "AllowOfflineTxForUnknownId": ("false", rw, "bool"),
        "AuthorizationCacheEnabled": ("true", rw, "bool"),
        "AuthorizeRemoteTxRequests": ("false", rw, "bool"),
        "ClockAlignedDataInterval": ("0", rw, "int"),
        "ConnectionTimeOut": ("60", rw, "int"),
        "ConnectorPhaseRotation": (",".join(f"{n}.RST" for n in range(connectors + 1)), rw, "str"),
        "GetConfigurationMaxKeys": ("50", ro, "int"),
        "HeartbeatInterval": (str(heartbeat_interval_s), rw, "int"),
        "LocalAuthorizeOffline": ("true", rw, "bool"),
        "LocalPreAuthorize": ("false", rw, "bool"),
        "MeterValuesAlignedData": (ENERGY, rw, "measurands"),
        "MeterValuesSampledData": (sampled, rw, "measurands"),
        "MeterValueSampleInterval": (str(meter_interval_s), rw, "int"),
        "NumberOfConnectors": (str(connectors), ro, "int"),
        "ResetRetries": ("3", rw, "int"),
        "StopTransactionOnEVSideDisconnect": ("true", rw, "bool"),
        "StopTransactionOnInvalidId": ("true", rw, "bool"),
        "StopTxnAlignedData": ("", rw, "measurands"),
        "StopTxnSampledData": (ENERGY, rw, "measurands"),
        "SupportedFeatureProfiles": (FEATURE_PROFILES, ro, "str"),
        "TransactionMessageAttempts": ("3", rw, "int"),
        "TransactionMessageRetryInterval": ("60", rw, "int"),
        "UnlockConnectorOnEVSideDisconnect": ("true", rw, "bool"),
        "WebSocketPingInterval": ("20", rw, "int"),
        # Local authorisation list management
        "LocalAuthListEnabled": ("true", rw, "bool"),
        "LocalAuthListMaxLength": ("1000", ro, "int"),
        "SendLocalListMaxLength": ("250", ro, "int"),
        # Reservation
        "ReserveConnectorZeroSupported": ("true", ro, "bool"),
        # Smart charging
        "ChargeProfileMaxStackLevel": ("10", ro, "int"),
        "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", ro, "str"),
        "ChargingScheduleMaxPeriods": ("24", ro, "int"),
        "ConnectorSwitch3to1PhaseSupported": ("false", ro, "bool"),
        "MaxChargingProfilesInstalled": ("10", ro, "int"),
    }
    return {name: Key(value, readonly, kind) for name, (value, readonly, kind) in table.items()}


class Configuration:
    def __init__(self, keys: dict[str, Key]):
        self.keys = keys

    def get(self, names: list[str] | None) -> tuple[list[dict], list[str]]:
        """GetConfiguration: the requested keys (all when none are named) and the unknown ones."""
        names = list(self.keys) if not names else names
        known = [{"key": n, "readonly": self.keys[n].readonly, "value": self.keys[n].value}
                 for n in names if n in self.keys]
        return known, [n for n in names if n not in self.keys]

    def change(self, name: str, value: str) -> str:
        key = self.keys.get(name)
        if key is None:
            return "NotSupported"
        if key.readonly or not _valid(key.kind, value):
            return "Rejected"
        key.value = value.lower() if key.kind == "bool" else value
        return "Accepted"

    def int(self, name: str) -> int:
        return int(self.keys[name].value)

    def bool(self, name: str) -> bool:
        return self.keys[name].value.lower() == "true"

    def list(self, name: str) -> list[str]:
        return [item.strip() for item in self.keys[name].value.split(",") if item.strip()]

    def set(self, name: str, value) -> None:
        self.keys[name].value = str(value).lower() if isinstance(value, bool) else str(value)


def _valid(kind: str, value: str) -> bool:
    if kind == "int":
        return value.isdigit()
    if kind == "bool":
        return value.lower() in ("true", "false")
    if kind == "measurands":
        return all(item.strip() in SUPPORTED_MEASURANDS for item in value.split(",") if item.strip())
    return len(value) <= 500
