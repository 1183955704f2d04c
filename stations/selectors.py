"""Reads of the network for the public (the charger finder, its JSON and the map): which locations are
published, what their connectors are and whether a driver could plug in now.

Only public facts leave this module: a location's address and position, its EVSE ids (printed on the
stations), connector types, power and a coarse state. Nothing about sessions, customers or tokens.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from stations.models import ChargePoint, Connector, ConnectorStatus, Location


class PublicState(StrEnum):
    """What a driver needs to know about a connector: can I plug in here now?"""

    AVAILABLE = "available"
    OCCUPIED = "occupied"
    RESERVED = "reserved"
    OFFLINE = "offline"
    OUT_OF_SERVICE = "out_of_service"

    @property
    def label(self) -> str:
        return str(_STATE_LABELS[self])

    @property
    def badge(self) -> str:
        """The portal stylesheet's badge class."""
        if self is PublicState.AVAILABLE:
            return "ok"
        return "busy" if self in (PublicState.OCCUPIED, PublicState.RESERVED) else "bad"


_STATE_LABELS = {
    PublicState.AVAILABLE: _("Available"),
    PublicState.OCCUPIED: _("In use"),
    PublicState.RESERVED: _("Reserved"),
    PublicState.OFFLINE: _("Station offline"),
    PublicState.OUT_OF_SERVICE: _("Out of service"),
}
# A vehicle is at the EVSE: plugged in (Preparing), charging, paused or finishing. An EVSE charges one vehicle
# at a time, so its other connectors are in use too, whatever they report.
_IN_USE = {
    ConnectorStatus.PREPARING, ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.SUSPENDED_EVSE, ConnectorStatus.FINISHING, ConnectorStatus.OCCUPIED,
}
_STATION_DOWN = {ConnectorStatus.UNAVAILABLE, ConnectorStatus.FAULTED}

_CONNECTOR_FIELDS = (
    "id", "ocpp_connector_id", "standard", "format", "power_type", "max_power_w", "status",
    "evse_id", "evse__evse_id", "evse__ocpp_evse_id", "evse__physical_reference", "evse__charge_point_id",
    "evse__charge_point__location_id", "evse__charge_point__is_connected", "evse__charge_point__status",
    "evse__charge_point__registration_status",
)


@dataclass(frozen=True)
class PublicConnector:
    id: int
    evse_pk: int
    evse_id: str
    physical_reference: str
    ocpp_connector_id: int
    charge_point_id: int
    location_id: int
    standard: str
    format: str
    power_type: str
    max_power_w: int | None
    state: PublicState

    @property
    def standard_label(self) -> str:
        return str(Connector.Standard(self.standard).label)

    @property
    def format_label(self) -> str:
        return str(Connector.Format(self.format).label) if self.format else ""

    @property
    def power_type_label(self) -> str:
        return str(Connector.PowerType(self.power_type).label) if self.power_type else ""

    @property
    def power_kw(self) -> Decimal | None:
        return power_kw(self.max_power_w)

    @property
    def group_key(self) -> str:
        return f"{self.standard}-{self.max_power_w or 0}"

    @property
    def name(self) -> str:
        """'Type 2, 22 kW', in the reader's number format."""
        return connector_name(self.standard_label, self.power_kw)


@dataclass
class ConnectorGroup:
    """The connectors of one type and power at a location: "Type 2, 22 kW: 3 of 4 available"."""

    key: str
    standard: str
    label: str
    power_kw: Decimal | None
    total: int = 0
    available: int = 0

    @property
    def name(self) -> str:
        return connector_name(self.label, self.power_kw)


@dataclass
class LocationAvailability:
    location_id: int
    connectors: list[PublicConnector] = field(default_factory=list)
    groups: list[ConnectorGroup] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.connectors)

    @property
    def available(self) -> int:
        return sum(1 for c in self.connectors if c.state is PublicState.AVAILABLE)

    @property
    def state(self) -> PublicState:
        """Available if any connector is; in use if any is in use or reserved; otherwise out of service."""
        states = {c.state for c in self.connectors}
        if PublicState.AVAILABLE in states:
            return PublicState.AVAILABLE
        if states & {PublicState.OCCUPIED, PublicState.RESERVED}:
            return PublicState.OCCUPIED
        return PublicState.OFFLINE if states == {PublicState.OFFLINE} else PublicState.OUT_OF_SERVICE


def power_kw(max_power_w: int | None) -> Decimal | None:
    """Power as drivers read it: 22 kW, 3.7 kW, 11 kW for 11040 W (one decimal at most)."""
    if not max_power_w:
        return None
    kw = (Decimal(max_power_w) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return kw.quantize(Decimal(1)) if kw == kw.to_integral_value() else kw


def connector_name(label: str, kw: Decimal | None) -> str:
    return f"{label}, {formats.number_format(kw)} kW" if kw is not None else label


def public_connectors_q(prefix: str = "") -> Q:
    """Connectors a driver can be shown: described by the operator (a plug type) on an EVSE with an eMI3 id."""
    return Q(**{f"{prefix}evse__evse_id__isnull": False}) & ~Q(**{f"{prefix}standard": ""})


def published_locations() -> QuerySet[Location]:
    """Published locations with at least one connector a driver can be shown."""
    public = Connector.objects.filter(public_connectors_q(), evse__charge_point__location=OuterRef("pk"))
    return Location.objects.filter(Exists(public), is_published=True)


def network_standards() -> list[str]:
    """The connector types drivers can find at published locations, most common first."""
    rows = (Connector.objects.filter(public_connectors_q(), evse__charge_point__location__is_published=True)
            .values("standard").annotate(count=Count("id")).order_by("-count", "standard"))
    return [row["standard"] for row in rows]


def location_search(
    *, query: str = "", standard: str = "", min_power_kw: int | None = None
) -> QuerySet[Location]:
    """Published locations matching every word of `query` (name, address, postal code, city or code), with a
    connector of `standard` and at least `min_power_kw` if given."""
    locations = published_locations()
    for word in query.split()[:8]:
        locations = locations.filter(
            Q(name__icontains=word) | Q(address__icontains=word) | Q(city__icontains=word)
            | Q(postal_code__istartswith=word) | Q(code__iexact=word)
        )
    if standard or min_power_kw:
        wanted = Connector.objects.filter(public_connectors_q(), evse__charge_point__location=OuterRef("pk"))
        if standard:
            wanted = wanted.filter(standard=standard)
        if min_power_kw:
            wanted = wanted.filter(max_power_w__gte=min_power_kw * 1000)
        locations = locations.filter(Exists(wanted))
    return locations.order_by("name", "city", "pk")


def location_availability(locations: QuerySet[Location] | list[Location]) -> dict[int, LocationAvailability]:
    """Per location id: its public connectors with their state and the per type-and-power counts. One query,
    whatever the number of locations (a queryset is used as a subquery)."""
    rows = (
        Connector.objects.filter(public_connectors_q(), evse__charge_point__location__in=locations)
        .order_by("evse__charge_point__location_id", "evse__evse_id", "ocpp_connector_id")
        .values(*_CONNECTOR_FIELDS)
    )
    by_evse: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_evse[row["evse_id"]].append(row)
    result: dict[int, LocationAvailability] = {}
    for evse_rows in by_evse.values():
        evse_in_use = any(row["status"] in _IN_USE for row in evse_rows)
        for row in evse_rows:
            connector = _public_connector(row, evse_in_use)
            availability = result.setdefault(connector.location_id, LocationAvailability(connector.location_id))
            availability.connectors.append(connector)
    for availability in result.values():
        availability.connectors.sort(key=lambda c: (c.evse_id, c.ocpp_connector_id))
        availability.groups = _groups(availability.connectors)
    return result


def connector_state(*, status: str, station_connected: bool, station_status: str, station_registration: str,
                    evse_in_use: bool) -> PublicState:
    """A station that is offline, not accepted or down as a whole makes every connector unusable, whatever
    its connectors last reported."""
    if not station_connected:
        return PublicState.OFFLINE
    if station_registration != ChargePoint.RegistrationStatus.ACCEPTED or station_status in _STATION_DOWN:
        return PublicState.OUT_OF_SERVICE
    if status in _IN_USE or evse_in_use:
        return PublicState.OCCUPIED
    if status == ConnectorStatus.RESERVED:
        return PublicState.RESERVED
    if status == ConnectorStatus.AVAILABLE:
        return PublicState.AVAILABLE
    return PublicState.OUT_OF_SERVICE  # Unavailable, Faulted, Unknown


def _public_connector(row: dict, evse_in_use: bool) -> PublicConnector:
    state = connector_state(
        status=row["status"], station_connected=row["evse__charge_point__is_connected"],
        station_status=row["evse__charge_point__status"],
        station_registration=row["evse__charge_point__registration_status"], evse_in_use=evse_in_use,
    )
    return PublicConnector(
        id=row["id"], evse_pk=row["evse_id"], evse_id=row["evse__evse_id"],
        physical_reference=row["evse__physical_reference"], ocpp_connector_id=row["ocpp_connector_id"],
        charge_point_id=row["evse__charge_point_id"], location_id=row["evse__charge_point__location_id"],
        standard=row["standard"], format=row["format"], power_type=row["power_type"],
        max_power_w=row["max_power_w"], state=state,
    )


def _groups(connectors: list[PublicConnector]) -> list[ConnectorGroup]:
    groups: dict[str, ConnectorGroup] = {}
    for connector in connectors:
        group = groups.get(connector.group_key)
        if group is None:
            group = groups[connector.group_key] = ConnectorGroup(
                key=connector.group_key, standard=connector.standard, label=connector.standard_label,
                power_kw=connector.power_kw,
            )
        group.total += 1
        group.available += connector.state is PublicState.AVAILABLE
    # The fastest first: that is what a driver on a trip looks for.
    return sorted(groups.values(), key=lambda g: (-(g.power_kw or 0), g.label))
