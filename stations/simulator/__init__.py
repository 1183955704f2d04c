"""Simulated OCPP 1.6J charging stations for demos, tests and benchmarks: `SimulatedStation` is one station
on a real websocket (the `ocpp` library as the client); `fleet` runs many of them from the database's
stations and tokens (`manage.py simulate_fleet`)."""

from stations.simulator.charging import AC_1_PHASE, AC_3_PHASE, DC, ConnectorSpec, SessionPlan, Vehicle
from stations.simulator.clock import Clock
from stations.simulator.state import Session
from stations.simulator.station import SimulatedStation, StationRefused
from stations.simulator.tokens import TokenPool

__all__ = [
    "AC_1_PHASE", "AC_3_PHASE", "DC", "Clock", "ConnectorSpec", "Session", "SessionPlan", "SimulatedStation",
    "StationRefused", "TokenPool", "Vehicle",
]
