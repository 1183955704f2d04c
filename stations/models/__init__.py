"""Models of the stations app: the network (network.py), what stations report about charging
(sessions.py) and the OCPP machinery around them (ocpp.py)."""

from stations.models.network import (  # noqa: F401
    EVSE_ID_RE,
    IDENTITY_RE,
    ChargePoint,
    Connector,
    ConnectorStatus,
    Evse,
    Location,
    always_open,
    validate_evse_id,
    validate_identity,
    validate_opening_hours,
    validate_time_zone,
)
from stations.models.ocpp import (  # noqa: F401
    LocalListEntry,
    OcppMessage,
    Reservation,
    StationCommand,
    StationEvent,
    StatusEvent,
)
from stations.models.sessions import ChargingSession, MeterValue  # noqa: F401
