"""How many sessions per second the pricing engine prices on one core, for a simple tariff (one price per kWh)
and for the OCPI specification's complex tariff (start fee, charging time by current and weekday, parking by
time of day and weekday).

    python benchmarks/pricing.py [--sessions 20000] [--intervals 8] [--repeat 3] [--pin CPU] [--profile]

Sessions are synthetic but shaped like real ones: a random start over a year (so weekends, nights and both
daylight-saving changes of Europe/Berlin come up), 20 minutes to 6 hours of charging in `--intervals` meter
intervals whose current wanders around one of 16, 32, 48 or 96 A (so the complex tariff's 32 A limit switches
elements mid-session), then no parking or up to 90 minutes of it. The same sessions are priced with each
tariff, in one process, one after the other; each figure is the best of `--repeat` runs, as wall-clock and as
CPU time of the process (the second is steadier on a shared machine). "complex + explanation" also renders
the explanation text, which `PricedSession.explanation` otherwise does on first use.

The target: at least 5,000 sessions/s on one core for the complex tariff. Needs only the project's code: no
database, no Django settings."""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from billing.pricing import MeterInterval, SessionFacts, price_session, tariff_from_ocpi  # noqa: E402

TIME_ZONE = "Europe/Berlin"

SIMPLE_TARIFF = {
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": Decimal("0.39"), "vat": 19, "step_size": 1}]}],
}

# The specification's "Complex Tariff example" (examples/tariff_4_complex.json of OCPI 2.2.1).
_WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
COMPLEX_TARIFF = {
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": Decimal("2.50"), "vat": 15, "step_size": 1}]},
        {
            "price_components": [{"type": "TIME", "price": Decimal("1.00"), "vat": 20, "step_size": 900}],
            "restrictions": {"max_current": 32},
        },
        {
            "price_components": [{"type": "TIME", "price": Decimal("2.00"), "vat": 20, "step_size": 600}],
            "restrictions": {"min_current": 32, "day_of_week": _WEEKDAYS},
        },
        {
            "price_components": [{"type": "TIME", "price": Decimal("1.25"), "vat": 20, "step_size": 600}],
            "restrictions": {"min_current": 32, "day_of_week": ["SATURDAY", "SUNDAY"]},
        },
        {
            "price_components": [{"type": "PARKING_TIME", "price": Decimal("5.00"), "vat": 10, "step_size": 300}],
            "restrictions": {"start_time": "09:00", "end_time": "18:00", "day_of_week": _WEEKDAYS},
        },
        {
            "price_components": [{"type": "PARKING_TIME", "price": Decimal("6.00"), "vat": 10, "step_size": 300}],
            "restrictions": {"start_time": "10:00", "end_time": "17:00", "day_of_week": ["SATURDAY"]},
        },
    ],
}


def synthetic_sessions(count: int, intervals: int, seed: int = 4) -> list[SessionFacts]:
    rng = random.Random(seed)
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    sessions = []
    for _ in range(count):
        start = year_start + timedelta(seconds=rng.randrange(365 * 86_400))
        charging_s = rng.randrange(20 * 60, 6 * 3600)
        moments = sorted(rng.sample(range(1, charging_s), intervals - 1))
        bounds = [start] + [start + timedelta(seconds=s) for s in moments] + [start + timedelta(seconds=charging_s)]
        phase_current = rng.choice((16, 32, 48, 96))
        periods = []
        for begin, end in zip(bounds, bounds[1:], strict=False):
            current = Decimal(max(6, phase_current + rng.randrange(-10, 10)))
            power_w = current * 230
            energy_wh = int(power_w * Decimal((end - begin).total_seconds()) / 3600)
            periods.append(MeterInterval(begin, end, energy_wh, power_w, current))
        stop = bounds[-1]
        parking_s = rng.choice((0, rng.randrange(60, 90 * 60)))
        if parking_s:
            periods.append(MeterInterval(stop, stop + timedelta(seconds=parking_s), 0, 0, 0))
            stop += timedelta(seconds=parking_s)
        sessions.append(SessionFacts(start, stop, TIME_ZONE, tuple(periods)))
    return sessions


def measure(name: str, tariff_document: dict, sessions: list[SessionFacts], repeat: int, explain: bool) -> float:
    """Best sessions/s over `repeat` runs, by CPU time; prints wall-clock and CPU figures."""
    tariff = tariff_from_ocpi(tariff_document)
    best_wall = best_cpu = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for facts in sessions:
            priced = price_session(tariff, facts)
            if explain:
                priced.explanation  # noqa: B018 - rendering is what is measured
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best_wall = wall if best_wall is None else min(best_wall, wall)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    count = len(sessions)
    print(
        f"{name:<22} {count / best_wall:>9,.0f} sessions/s wall-clock ({best_wall:6.3f} s)"
        f"  {count / best_cpu:>9,.0f} sessions/s CPU ({best_cpu:6.3f} s)",
        flush=True,
    )
    return count / best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--intervals", type=int, default=8, help="meter intervals per charging phase")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the complex tariff run instead")
    parser.add_argument("--pin", type=int, metavar="CPU", help="run on this CPU only (Linux)")
    args = parser.parse_args()
    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})
    sessions = synthetic_sessions(args.sessions, args.intervals)
    periods = sum(len(s.intervals) for s in sessions) / len(sessions)
    print(f"Python {sys.version.split()[0]}, {args.sessions} sessions, {periods:.1f} meter intervals each")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(measure, "complex", COMPLEX_TARIFF, sessions, 1, False)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average before the run: {load:.2f} on {os.cpu_count()} CPUs")
    measure("simple", SIMPLE_TARIFF, sessions, args.repeat, explain=False)
    complex_rate = measure("complex", COMPLEX_TARIFF, sessions, args.repeat, explain=False)
    explained_rate = measure("complex + explanation", COMPLEX_TARIFF, sessions, args.repeat, explain=True)
    for name, rate in (("complex", complex_rate), ("complex + explanation", explained_rate)):
        verdict = "MET" if rate >= 5_000 else "MISSED"
        print(f"target >= 5,000 sessions/s on one core, {name}: {verdict} ({rate:,.0f}/s CPU)")


if __name__ == "__main__":
    main()
