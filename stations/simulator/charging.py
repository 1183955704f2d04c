"""How a simulated vehicle charges: power from the charger, the car and the smart-charging limit, energy and
state of charge over time, and the OCPP 1.6 sampled values a meter reports. Pure functions, no I/O.

AC: the car's on-board charger limits power (7.4, 11 or 22 kW), tapering only when the battery is nearly
full; the station knows no state of charge. DC: the car's peak power (50-150 kW) falls as the battery
fills, as real charging curves do, and the station reports SoC and the pack voltage.
"""

import random
from dataclasses import dataclass

AC_3_PHASE, AC_1_PHASE, DC = "AC_3_PHASE", "AC_1_PHASE", "DC"
PHASE_VOLTAGE_V = 230.0  # low-voltage grid, phase to neutral

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
POWER_OFFERED = "Power.Offered"
CURRENT = "Current.Import"
CURRENT_OFFERED = "Current.Offered"
VOLTAGE = "Voltage"
SOC = "SoC"
SUPPORTED_MEASURANDS = (ENERGY, POWER, POWER_OFFERED, CURRENT, CURRENT_OFFERED, VOLTAGE, SOC)


@dataclass(frozen=True)
class ConnectorSpec:
    """One OCPP 1.6 connector as the hardware has it."""

    connector_id: int
    power_type: str = AC_3_PHASE
    max_power_w: int = 22_000

    @property
    def is_dc(self) -> bool:
        return self.power_type == DC

    @property
    def phases(self) -> int:
        return 0 if self.is_dc else (1 if self.power_type == AC_1_PHASE else 3)

    @property
    def label(self) -> str:
        return f"{'DC' if self.is_dc else 'AC'} {self.max_power_w / 1000:g} kW"


@dataclass
class Vehicle:
    battery_wh: int
    soc: float  # percent
    max_ac_w: int  # on-board charger
    max_dc_w: int  # peak DC power at a low state of charge
    nominal_voltage_v: int  # battery pack: 400 V or 800 V architectures

    @classmethod
    def random(cls, rng: random.Random) -> "Vehicle":
        max_dc_w = rng.choice([50_000, 75_000, 100_000, 120_000, 150_000])
        return cls(
            battery_wh=rng.choice([40_000, 52_000, 58_000, 64_000, 77_000, 82_000, 100_000]),
            soc=rng.uniform(8, 50),
            max_ac_w=rng.choices([7_400, 11_000, 22_000], weights=[15, 70, 15])[0],
            max_dc_w=max_dc_w,
            nominal_voltage_v=800 if max_dc_w >= 150_000 else 400,
        )


@dataclass(frozen=True)
class SessionPlan:
    """What the driver will do: how long the car stays plugged in, when it counts as full, how the
    session ends, and how long unplugging takes. Durations are in station (simulated) seconds."""

    vehicle: Vehicle
    dwell_s: float
    target_soc: float = 100.0
    stop_reason: str = "Local"
    unplug_s: float = 30.0

    @classmethod
    def random(cls, spec: ConnectorSpec, rng: random.Random) -> "SessionPlan":
        vehicle = Vehicle.random(rng)
        reason = rng.choices(["Local", "EVDisconnected"], weights=[60, 40])[0]
        if spec.is_dc:  # a fast-charging stop: to about 80 %, rarely more than three quarters of an hour
            return cls(vehicle, dwell_s=rng.uniform(15, 45) * 60, target_soc=rng.uniform(75, 90),
                       stop_reason=reason, unplug_s=rng.uniform(20, 60))
        return cls(vehicle, dwell_s=rng.uniform(45, 240) * 60, stop_reason=reason, unplug_s=rng.uniform(20, 90))


def charging_power_w(spec: ConnectorSpec, vehicle: Vehicle, limit_w: float | None = None) -> float:
    """Power the car draws now, in W."""
    offered = min(spec.max_power_w, limit_w if limit_w is not None else spec.max_power_w)
    if vehicle.soc >= 100:
        return 0.0
    if spec.is_dc:
        peak = min(offered, vehicle.max_dc_w)
        soc = vehicle.soc
        if soc < 50:
            factor = 1.0
        elif soc < 80:
            factor = 1.0 - 0.5 * (soc - 50) / 30  # down to half of peak at 80 %
        else:
            factor = max(0.5 - 0.4 * (soc - 80) / 20, 0.08)  # and to a trickle when full
        return peak * factor
    ac_cap = min(vehicle.max_ac_w, 7_400) if spec.phases == 1 else vehicle.max_ac_w
    power = min(offered, ac_cap)
    if vehicle.soc > 95:
        power *= max((100 - vehicle.soc) / 5, 0.1)  # top balancing
    return power


def advance(vehicle: Vehicle, power_w: float, seconds: float) -> float:
    """Charge the car for `seconds` at `power_w`; returns the energy delivered in Wh."""
    room_wh = max(vehicle.battery_wh * (100 - vehicle.soc) / 100, 0)
    energy_wh = min(power_w * seconds / 3600, room_wh)
    vehicle.soc = min(vehicle.soc + 100 * energy_wh / vehicle.battery_wh, 100.0)
    return energy_wh


@dataclass(frozen=True)
class Reading:
    """What the meter of one connector shows at one moment."""

    spec: ConnectorSpec
    energy_wh: int
    power_w: float = 0.0
    offered_w: float = 0.0
    soc: float | None = None
    pack_voltage_v: float | None = None
    phase_voltages_v: tuple[float, ...] = ()

    @classmethod
    def measure(cls, spec: ConnectorSpec, energy_wh: int, rng: random.Random, *, power_w: float = 0.0,
                offered_w: float | None = None, vehicle: Vehicle | None = None) -> "Reading":
        offered = spec.max_power_w if offered_w is None else offered_w
        if spec.is_dc:
            soc = vehicle.soc if vehicle else None
            pack = vehicle.nominal_voltage_v * (0.85 + 0.25 * soc / 100) if vehicle else None
            return cls(spec, energy_wh, power_w, offered, soc, pack)
        voltages = tuple(PHASE_VOLTAGE_V + rng.uniform(-3, 3) for _ in range(spec.phases))
        return cls(spec, energy_wh, power_w, offered, phase_voltages_v=voltages)


def sampled_values(reading: Reading, measurands: list[str], context: str) -> list[dict]:
    """OCPP 1.6 SampledValue dicts (snake_case, as the `ocpp` library takes them) for the configured
    measurands; a measurand the hardware cannot measure (SoC on AC) is left out."""
    values = []
    for measurand in measurands:
        values += _sampled(reading, measurand)
    for value in values:
        value["context"] = context
    return values


def _sampled(r: Reading, measurand: str) -> list[dict]:
    def value(v: str, unit: str, **extra) -> dict:
        return {"value": v, "measurand": measurand, "unit": unit, "location": extra.pop("location", "Outlet"),
                **extra}

    phases = [f"L{n}" for n in range(1, r.spec.phases + 1)]
    if measurand == ENERGY:
        return [value(str(r.energy_wh), "Wh")]
    if measurand in (POWER, POWER_OFFERED):
        return [value(str(round(r.power_w if measurand == POWER else r.offered_w)), "W")]
    if measurand in (CURRENT, CURRENT_OFFERED):
        watts = r.power_w if measurand == CURRENT else r.offered_w
        if r.spec.is_dc:
            return [value(f"{watts / r.pack_voltage_v:.1f}", "A")] if r.pack_voltage_v else []
        per_phase = [watts / (len(phases) * v) for v in r.phase_voltages_v]
        return [value(f"{amps:.1f}", "A", phase=phase) for phase, amps in zip(phases, per_phase, strict=True)]
    if measurand == VOLTAGE:
        if r.spec.is_dc:
            return [value(f"{r.pack_voltage_v:.1f}", "V")] if r.pack_voltage_v else []
        return [value(f"{v:.1f}", "V", phase=f"{phase}-N") for phase, v in zip(phases, r.phase_voltages_v,
                                                                               strict=True)]
    if measurand == SOC and r.soc is not None:
        return [value(str(int(r.soc)), "Percent", location="EV")]
    return []
