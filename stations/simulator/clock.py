"""Station time for simulated stations: real UTC timestamps, waits compressed by a speed factor."""

import asyncio
from datetime import UTC, datetime


class Clock:
    """Station time. `speed` > 1 compresses waits; timestamps stay real."""

    def __init__(self, speed: float = 1.0):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed

    def now(self) -> datetime:
        """Now, to the millisecond: the precision stations send (so what the station keeps and what the
        server stores compare equal)."""
        moment = datetime.now(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def real_s(self, station_s: float) -> float:
        return max(station_s, 0) / self.speed

    async def sleep(self, station_s: float) -> None:
        await asyncio.sleep(self.real_s(station_s))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
