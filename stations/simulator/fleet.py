"""Many simulated stations in one process: which stations and cards to simulate (read from the database
before the event loop starts, so the simulation itself never touches the database) and running them
together until a duration ends or the process is stopped."""

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, IdToken
from stations import demo
from stations.models import ChargePoint, ChargingSession
from stations.simulator.charging import AC_3_PHASE, ConnectorSpec
from stations.simulator.clock import Clock
from stations.simulator.station import SimulatedStation
from stations.simulator.tokens import TokenPool

DEFAULT_CONNECTORS = (ConnectorSpec(1), ConnectorSpec(2))


@dataclass(frozen=True)
class StationProfile:
    """What a simulated station says about itself in its BootNotification, and its connectors."""

    identity: str
    vendor: str = "evbackoffice"
    model: str = "Simulated AC"
    firmware_version: str = "1.0.0"
    serial_number: str | None = None
    meter_type: str | None = None
    connectors: tuple[ConnectorSpec, ...] = field(default=DEFAULT_CONNECTORS)


def demo_profiles(*, count: int) -> list[StationProfile]:
    """The first `count` demo stations (in the demo's order) that are Accepted and speak OCPP 1.6."""
    order = [station.identity for station in demo.STATIONS]
    stations = ChargePoint.objects.filter(
        identity__in=order, registration_status=ChargePoint.RegistrationStatus.ACCEPTED,
        ocpp_version=ChargePoint.OcppVersion.V16,
    ).prefetch_related("evses__connectors")
    return [profile_of(station) for station in sorted(stations, key=lambda s: order.index(s.identity))[:count]]


def profiles_for(identities: list[str]) -> list[StationProfile]:
    """Profiles for named stations; one the database does not know gets two 22 kW AC connectors."""
    known = {s.identity: s for s in ChargePoint.objects.filter(identity__in=identities)
             .prefetch_related("evses__connectors")}
    return [profile_of(known[identity]) if identity in known else StationProfile(identity)
            for identity in identities]


def profile_of(station: ChargePoint) -> StationProfile:
    """OCPP 1.6 connector N is EVSE N; its first plug decides power type and maximum power."""
    connectors = []
    for evse in sorted(station.evses.all(), key=lambda e: e.ocpp_evse_id):
        plug = min(evse.connectors.all(), key=lambda c: c.ocpp_connector_id, default=None)
        connectors.append(ConnectorSpec(evse.ocpp_evse_id, (plug and plug.power_type) or AC_3_PHASE,
                                        (plug and plug.max_power_w) or 22_000))
    hardware = next((demo.HARDWARE[s.hardware] for s in demo.STATIONS if s.identity == station.identity), None)
    return StationProfile(
        station.identity,
        vendor=station.vendor or (hardware.vendor if hardware else StationProfile.vendor),
        model=station.model or (hardware.model if hardware else StationProfile.model),
        firmware_version=station.firmware_version or (hardware.firmware_version if hardware else "1.0.0"),
        serial_number=station.serial_number or None,
        meter_type=station.meter_type or (hardware.meter_type if hardware else None),
        connectors=tuple(connectors) or DEFAULT_CONNECTORS,
    )


def valid_id_tags() -> list[str]:
    """Cards the back office accepts now: valid, unexpired, of an active customer, not charging already."""
    charging = ChargingSession.objects.filter(state=ChargingSession.State.ACTIVE, id_token__isnull=False)
    return list(
        IdToken.objects.filter(status=IdToken.Status.VALID, customer__status=Customer.Status.ACTIVE)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .exclude(pk__in=charging.values("id_token"))
        .order_by("uid").values_list("uid", flat=True)
    )


def build(profiles: list[StationProfile], *, url: str, password: str | None, tokens: TokenPool, clock: Clock,
          meter_interval_s: int = 60, seed: int | None = None) -> list[SimulatedStation]:
    return [
        SimulatedStation(
            p.identity, url, password, connectors=list(p.connectors), clock=clock, tokens=tokens, vendor=p.vendor,
            model=p.model, firmware_version=p.firmware_version, serial_number=p.serial_number,
            meter_type=p.meter_type, meter_interval_s=meter_interval_s,
            rng=random.Random(f"{seed}:{p.identity}") if seed is not None else None,
        )
        for p in profiles
    ]


async def run(stations: list[SimulatedStation], *, duration_s: float | None = None, stagger_s: float = 0.05) -> None:
    """Run every station until `duration_s` (real seconds) or cancellation; each closes cleanly, stopping its
    sessions. Connections are opened a little apart so that a large fleet does not arrive all at once."""
    runs = [asyncio.create_task(s.run(duration_s=duration_s, start_delay_s=i * stagger_s), name=s.id)
            for i, s in enumerate(stations)]
    try:
        await asyncio.gather(*runs)
    finally:
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)


def summary(stations: list[SimulatedStation]) -> str:
    total = sum((s.stats for s in stations), Counter())
    return (f"{len(stations)} stations: {total.get('started', 0)} sessions started, {total.get('stopped', 0)} "
            f"stopped, {total.get('refused', 0)} refused, {total.get('energy_wh', 0) / 1000:.1f} kWh charged")
