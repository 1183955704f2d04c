"""The state a simulated station keeps: its connectors, the session on each, and reservations."""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from stations.simulator.charging import ConnectorSpec, SessionPlan


@dataclass
class Reservation:
    reservation_id: int
    connector_id: int
    id_tag: str
    expires_at: datetime
    parent_id_tag: str | None = None
    expiry: asyncio.Task | None = None


@dataclass
class Session:
    """One driver at one connector, from plugging in (Preparing) to unplugging (Available)."""

    connector_id: int
    id_tag: str
    plan: SessionPlan
    remote: bool = False
    from_pool: bool = False
    charging_profile: dict | None = None
    authorization: str = ""  # what Authorize (or StartTransaction) answered
    transaction_id: int | None = None
    reservation_id: int | None = None
    meter_start_wh: int = 0
    meter_stop_wh: int | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    hurry: bool = False  # skip the unplugging pause (shutdown, reset)
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    def request_stop(self, reason: str, *, hurry: bool = False) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.hurry = self.hurry or hurry
        self.stop_requested.set()

    @property
    def energy_wh(self) -> int | None:
        return None if self.meter_stop_wh is None else self.meter_stop_wh - self.meter_start_wh


@dataclass
class ConnectorState:
    spec: ConnectorSpec
    meter_wh: float  # the connector's energy register
    status: str = "Available"
    operative: bool = True
    pending_operative: bool | None = None  # a ChangeAvailability we answered Scheduled
    reservation: Reservation | None = None
    session: Session | None = None

    def free_for(self, id_tag: str | None) -> bool:
        reserved_for_other = self.reservation is not None and self.reservation.id_tag != id_tag
        return self.session is None and self.operative and self.status != "Faulted" and not reserved_for_other

    @property
    def idle_status(self) -> str:
        if not self.operative:
            return "Unavailable"
        return "Reserved" if self.reservation is not None else "Available"
