"""Price feeds for dynamic energy prices (e.g. day-ahead market prices per 15 minutes): a function of the
interval start or a mapping of interval starts to prices, both per kWh excl. VAT in the tariff's currency."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from .errors import PriceFeedError
from .local_time import US_PER_S, from_us, to_us

PriceFeedSource = Callable[[datetime], Decimal] | Mapping[datetime, Decimal]


class PriceFeed:
    """Where the feed's intervals begin and what each costs. `interval_s` is the length of one feed interval:
    for a function, intervals are aligned to multiples of it since the Unix epoch (quarter hours, hours) and
    the function gets each interval's start; for a mapping, each price holds from its start until the next
    start or for `interval_s`, whichever comes first. A moment no price covers raises `PriceFeedError`."""

    def __init__(self, source: PriceFeedSource, interval_s: int = 900):
        if isinstance(interval_s, bool) or not isinstance(interval_s, int) or interval_s <= 0:
            raise PriceFeedError("feed_interval_s", "must be a positive number of seconds")
        self._interval_us = interval_s * US_PER_S
        self._function = None
        self._starts: list[int] = []
        self._prices: list[Decimal] = []
        self._cache: dict[int, Decimal] = {}
        if isinstance(source, Mapping):
            for start, price in sorted((to_us(_aware(start)), price) for start, price in source.items()):
                self._starts.append(start)
                self._prices.append(_checked(price, from_us(start)))
        elif callable(source):
            self._function = source
        else:
            raise PriceFeedError("price_feed", "must be a function of the interval start or a mapping")

    def boundaries(self, start_us: int, end_us: int) -> list[int]:
        """Where feed intervals change, strictly between start and end."""
        if self._function is not None:
            step = self._interval_us
            first = -(-start_us // step) * step
            return [b for b in range(first, end_us, step) if b > start_us]
        cuts = set()
        index = max(bisect_right(self._starts, start_us) - 1, 0)
        while index < len(self._starts) and self._starts[index] < end_us:
            begin = self._starts[index]
            end = begin + self._interval_us
            if index + 1 < len(self._starts):
                end = min(end, self._starts[index + 1])
            cuts.update(b for b in (begin, end) if start_us < b < end_us)
            index += 1
        return sorted(cuts)

    def price_at(self, instant_us: int) -> Decimal:
        if self._function is not None:
            begin = instant_us // self._interval_us * self._interval_us
            if begin not in self._cache:
                try:
                    self._cache[begin] = _checked(self._function(from_us(begin)), from_us(begin))
                except LookupError:
                    raise PriceFeedError("price_feed", f"has no price for {from_us(begin).isoformat()}") from None
            return self._cache[begin]
        index = bisect_right(self._starts, instant_us) - 1
        if index < 0 or instant_us >= self._starts[index] + self._interval_us:
            raise PriceFeedError("price_feed", f"has no price for {from_us(instant_us).isoformat()}")
        return self._prices[index]


def as_price_feed(source: PriceFeed | PriceFeedSource | None, interval_s: int) -> PriceFeed | None:
    if source is None or isinstance(source, PriceFeed):
        return source
    return PriceFeed(source, interval_s)


def _aware(moment) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise PriceFeedError("price_feed", "interval starts must be aware date-times")
    return moment


def _checked(price, moment: datetime) -> Decimal:
    if isinstance(price, bool) or not isinstance(price, Decimal | int):
        raise PriceFeedError("price_feed", f"price for {moment.isoformat()} must be a Decimal, not {price!r}")
    return Decimal(price)
