"""The location's clock: the instants (UTC microseconds since the epoch) at which the local wall clock reaches a
time of day, including the jumps of daylight-saving changes, so the engine can cut a session there."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import SessionFactsError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
US_PER_S = 1_000_000
US_PER_H = 3_600 * US_PER_S
US_PER_DAY = 86_400 * US_PER_S


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (no float on the way)."""
    return (moment - EPOCH) // ONE_US


def from_us(instant_us: int) -> datetime:
    return EPOCH + timedelta(microseconds=instant_us)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SessionFactsError("time_zone", f"must be an IANA time zone such as Europe/Berlin, not {name!r}") from None


def local(instant_us: int, zone_name: str) -> datetime:
    return from_us(instant_us).astimezone(zone(zone_name))


@lru_cache(maxsize=8192)
def day_boundaries(zone_name: str, day: date, seconds_of_day: tuple[int, ...]) -> tuple[int, ...]:
    """Instants of local day `day` where a restriction on the clock or the calendar can switch: local midnight,
    each time of day in `seconds_of_day`, and any daylight-saving jump.

    A time of day that occurs twice (the repeated hour in autumn) gives both instants; one that does not exist
    (the skipped hour in spring) gives instants around the gap, and the jump itself is added, which is where a
    time inside the gap is passed. Extra instants are harmless: the engine only cuts there."""
    tz = zone(zone_name)
    midnight = datetime.combine(day, time())
    instants = set()
    for second in (0, *seconds_of_day):
        wall = midnight + timedelta(seconds=second)
        instants.add(to_us(wall.replace(tzinfo=tz, fold=0)))
        instants.add(to_us(wall.replace(tzinfo=tz, fold=1)))
    day_start = to_us(midnight.replace(tzinfo=tz))
    day_end = to_us((midnight + timedelta(days=1)).replace(tzinfo=tz))
    if _offset(day_start, tz) != _offset(day_end, tz):
        instants.add(_transition(day_start, day_end, tz))
    return tuple(sorted(instants))


def _offset(instant_us: int, tz: ZoneInfo) -> timedelta:
    return from_us(instant_us).astimezone(tz).utcoffset()


def _transition(low_us: int, high_us: int, tz: ZoneInfo) -> int:
    """The first whole second in (low, high] with the offset of `high` (one change per day at most)."""
    low, high = low_us // US_PER_S, -(-high_us // US_PER_S)
    target = _offset(high * US_PER_S, tz)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(middle * US_PER_S, tz) == target:
            high = middle
        else:
            low = middle
    return high * US_PER_S


@lru_cache(maxsize=16384)
def _utc_day_boundaries(zone_name: str, utc_day: int, seconds_of_day: tuple[int, ...]) -> tuple[int, ...]:
    """The `day_boundaries` that fall within UTC day number `utc_day` (days since the epoch). Offsets stay
    within a day, so only the local days before, of and after it can contribute."""
    low, high = utc_day * US_PER_DAY, (utc_day + 1) * US_PER_DAY
    day = _EPOCH_DATE + timedelta(days=utc_day)
    found = set()
    for local_day in (day - timedelta(days=1), day, day + timedelta(days=1)):
        found.update(b for b in day_boundaries(zone_name, local_day, seconds_of_day) if low <= b < high)
    return tuple(sorted(found))


_EPOCH_DATE = date(1970, 1, 1)


def calendar_boundaries(zone_name: str, start_us: int, end_us: int, seconds_of_day: tuple[int, ...]) -> list[int]:
    """All `day_boundaries` strictly between start and end, sorted."""
    instants = []
    for utc_day in range(start_us // US_PER_DAY, end_us // US_PER_DAY + 1):
        day = _utc_day_boundaries(zone_name, utc_day, seconds_of_day)
        instants.extend(day[bisect_right(day, start_us) : bisect_left(day, end_us)])
    return instants
