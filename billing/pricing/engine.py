"""`price_session`: cut a session wherever a tariff restriction can switch, find the first matching element per
dimension for every piece, apply step sizes once per session, then sum exactly and round once."""

from __future__ import annotations

import math
import threading
from bisect import bisect_right
from datetime import datetime
from decimal import Context, Decimal, localcontext
from enum import Enum

from . import local_time
from .errors import PricingError
from .facts import SessionFacts, checked_intervals
from .feeds import PriceFeed, PriceFeedSource, as_price_feed
from .local_time import US_PER_S, to_us
from .money import quantize_unit_price
from .results import PricedSession
from .tariffs import Dimension, PriceComponent, ReservationRestriction, Tariff, TariffRestrictions
from .totals import priced_session

# Exact sums of price x quantity need more digits than the default 28 (prices to 4 decimals x microseconds x
# VAT factors); the one division per total then rounds at the 60th digit, far below any minor unit.
_ARITHMETIC = Context(prec=60)
_ZERO = Decimal(0)


class _Phase(Enum):
    SESSION = "session"
    RESERVATION = "reservation"  # a reservation followed by the session
    EXPIRED = "expired"  # a reservation that expired without a session


def price_session(
    tariff: Tariff,
    facts: SessionFacts,
    *,
    price_feed: PriceFeed | PriceFeedSource | None = None,
    feed_interval_s: int = 900,
) -> PricedSession:
    """Price a session with a tariff. Raises `SessionFactsError` for facts that cannot be priced, `PriceFeedError`
    when a dynamic price has no feed value, `PricingError` when the tariff is not in force at the start."""
    plan = _plan_for(tariff)
    with localcontext(_ARITHMETIC):
        intervals = checked_intervals(facts, needs_current=plan.needs_current)
        first_moment = facts.reservation.start if facts.reservation else facts.start
        if not tariff.is_valid_at(first_moment):
            raise PricingError("start", f"the tariff is not in force at {first_moment.isoformat()}")
        feed = as_price_feed(price_feed, feed_interval_s) if plan.dynamic else None
        if plan.dynamic and feed is None:
            raise PricingError("price_feed", "is required: the tariff has dynamic energy prices")
        phases = []
        reservation = facts.reservation
        if reservation is not None:
            start, end = to_us(reservation.start), to_us(reservation.end)
            phase = _Phase.EXPIRED if reservation.expired else _Phase.RESERVATION
            phases.append(_price_phase(plan, phase, start, end, [(start, end, 0, 0, 0, False)], facts.time_zone, None))
        if reservation is None or not reservation.expired:
            start, end = to_us(facts.start), to_us(facts.stop)
            phases.append(_price_phase(plan, _Phase.SESSION, start, end, intervals, facts.time_zone, feed))
        return priced_session(tariff, facts, [_finished(phase) for phase in phases])


# -- the tariff, prepared once ------------------------------------------------------------------------------


def _calendar(moment: datetime) -> tuple:
    """What restrictions read of a local time: (second of the day, weekday, date)."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second, moment.weekday(), moment.date()


class Restriction:
    """TariffRestrictions in the units the engine counts in; `matches` is the logical AND of all of them."""

    __slots__ = (
        "time_of_day", "days", "start_date", "end_date", "min_wh", "max_wh", "min_current", "max_current",
        "min_power_w", "max_power_w", "min_duration_us", "max_duration_us",
    )  # fmt: skip

    def __init__(self, r: TariffRestrictions):
        self.time_of_day = None
        if r.start_time is not None or r.end_time is not None:
            start = _seconds_of_day(r.start_time) if r.start_time else 0
            end = _seconds_of_day(r.end_time) if r.end_time else 0
            self.time_of_day = (start, end or 86_400)  # an end of 00:00 is the end of the day
        self.days = frozenset(day.weekday for day in r.day_of_week) or None
        self.start_date, self.end_date = r.start_date, r.end_date
        self.min_wh, self.max_wh = _ceil_wh(r.min_kwh), _ceil_wh(r.max_kwh)
        self.min_current, self.max_current = r.min_current, r.max_current
        self.min_power_w = None if r.min_power is None else r.min_power * 1000
        self.max_power_w = None if r.max_power is None else r.max_power * 1000
        self.min_duration_us = None if r.min_duration is None else r.min_duration * US_PER_S
        self.max_duration_us = None if r.max_duration is None else r.max_duration * US_PER_S

    def holds_at_start(self, moment: datetime) -> bool:
        """Whether a session starting at `moment` (local time) meets it: elapsed time 0, no energy, no power
        (what the tariff pages show as the price now)."""
        return self.matches(_calendar(moment), 0, 0, Decimal(0), Decimal(0))

    def matches(self, calendar, elapsed_us: int, energy_so_far_wh: int, power_w, current_a) -> bool:
        if self.time_of_day is not None:
            start, end = self.time_of_day
            second = calendar[0]
            if start < end:
                if not start <= second < end:
                    return False
            elif end <= second < start:  # wraps past midnight; start == end is the whole day
                return False
        if self.days is not None and calendar[1] not in self.days:
            return False
        if self.start_date is not None and calendar[2] < self.start_date:
            return False
        if self.end_date is not None and calendar[2] >= self.end_date:
            return False
        if self.min_wh is not None and energy_so_far_wh < self.min_wh:
            return False
        if self.max_wh is not None and energy_so_far_wh >= self.max_wh:
            return False
        if self.min_power_w is not None and power_w < self.min_power_w:
            return False
        if self.max_power_w is not None and power_w >= self.max_power_w:
            return False
        if self.min_current is not None and current_a < self.min_current:
            return False
        if self.max_current is not None and current_a >= self.max_current:
            return False
        if self.min_duration_us is not None and elapsed_us < self.min_duration_us:
            return False
        return self.max_duration_us is None or elapsed_us < self.max_duration_us


class _Candidate:
    __slots__ = ("index", "component", "restriction", "description")

    def __init__(self, index: int, component: PriceComponent, restrictions: TariffRestrictions | None):
        self.index = index
        self.component = component
        self.restriction = Restriction(restrictions) if restrictions is not None else None
        self.description = restrictions.describe() if restrictions is not None else ""


class _Plan:
    """Per phase and dimension, the candidate components in the order they are tried; and where to cut."""

    def __init__(self, tariff: Tariff):
        self.candidates = {phase: {dimension: [] for dimension in Dimension} for phase in _Phase}
        expires_first = []
        times, durations, thresholds, power_limits, current_limits = set(), set(), set(), set(), set()
        self.needs_calendar = self.dynamic = False
        for index, element in enumerate(tariff.elements):
            r = element.restrictions
            reservation = r.reservation if r is not None else None
            for component in element.price_components:
                candidate = _Candidate(index, component, r)
                self.dynamic |= component.dynamic is not None
                if reservation is None:
                    self.candidates[_Phase.SESSION][component.type].append(candidate)
                elif reservation is ReservationRestriction.RESERVATION:
                    self.candidates[_Phase.RESERVATION][component.type].append(candidate)
                else:
                    expires_first.append(candidate)
            if r is None:
                continue
            times.update(_seconds_of_day(t) for t in (r.start_time, r.end_time) if t is not None)
            self.needs_calendar |= bool(r.start_time or r.end_time or r.day_of_week or r.start_date or r.end_date)
            durations.update(d * US_PER_S for d in (r.min_duration, r.max_duration) if d)
            thresholds.update(_ceil_wh(k) for k in (r.min_kwh, r.max_kwh) if k)
            power_limits.update(p * 1000 for p in (r.min_power, r.max_power) if p is not None)
            current_limits.update(c for c in (r.min_current, r.max_current) if c is not None)
        # An expired reservation is priced by RESERVATION_EXPIRES elements first, then by RESERVATION ones.
        for candidate in reversed(expires_first):
            self.candidates[_Phase.EXPIRED][candidate.component.type].insert(0, candidate)
        for dimension, reserved in self.candidates[_Phase.RESERVATION].items():
            self.candidates[_Phase.EXPIRED][dimension].extend(reserved)
        self.seconds_of_day = tuple(sorted(times - {0}))
        self.durations_us = tuple(sorted(durations))
        self.thresholds_wh = tuple(sorted(thresholds))
        self.power_limits_w = tuple(sorted(power_limits))
        self.current_limits_a = tuple(sorted(current_limits))
        self.needs_current = bool(current_limits)


_PLANS: dict[int, tuple[Tariff, _Plan]] = {}
_PLANS_LOCK = threading.Lock()


def _plan_for(tariff: Tariff) -> _Plan:
    # Keyed by identity (hashing a whole tariff costs more than planning it). The tariff is kept alive in the
    # entry, so its id cannot be reused while the entry exists; the oldest entries go first.
    entry = _PLANS.get(id(tariff))
    if entry is not None and entry[0] is tariff:
        return entry[1]
    plan = _Plan(tariff)
    with _PLANS_LOCK:
        _PLANS[id(tariff)] = (tariff, plan)
        while len(_PLANS) > 512:
            del _PLANS[next(iter(_PLANS))]
    return plan


def _seconds_of_day(moment) -> int:
    return moment.hour * 3600 + moment.minute * 60


def _ceil_wh(kwh: Decimal | None) -> int | None:
    # Energy so far is a whole number of Wh, so ">= 0.5 Wh" and ">= 1 Wh" are the same test.
    return None if kwh is None else math.ceil(kwh * 1000)


# -- one phase: cut, match, collect -------------------------------------------------------------------------


class _Run:
    """Consecutive pieces priced by the same component at the same unit price."""

    __slots__ = ("dimension", "candidate", "unit_price", "feed_price", "start", "end", "consumed", "extra")

    def __init__(self, dimension, candidate, unit_price, feed_price, start, end, consumed):
        self.dimension, self.candidate = dimension, candidate
        self.unit_price, self.feed_price = unit_price, feed_price
        self.start, self.end, self.consumed, self.extra = start, end, consumed, 0


class _PhaseResult:
    def __init__(self, phase: _Phase):
        self.phase = phase
        self.flat: _Run | None = None
        self.runs: dict[Dimension, list[_Run]] = {Dimension.ENERGY: [], Dimension.TIME: [], Dimension.PARKING_TIME: []}
        self.charging_periods: list[list] = []


def _price_phase(plan, phase, origin_us, end_us, intervals, zone_name, feed) -> _PhaseResult:
    calendar_cuts = []
    if plan.needs_calendar and end_us > origin_us:
        calendar_cuts = local_time.calendar_boundaries(zone_name, origin_us, end_us, plan.seconds_of_day)
    cuts = calendar_cuts  # sorted, without repeats
    if plan.durations_us or feed is not None:
        more = set(calendar_cuts)
        more.update(origin_us + d for d in plan.durations_us if origin_us + d < end_us)
        if feed is not None:
            more.update(feed.boundaries(origin_us, end_us))
        cuts = sorted(more)
    pieces = _split(intervals, cuts, plan, phase is _Phase.SESSION)
    pieces = pieces or [(origin_us, origin_us, 0, 0, _ZERO, _ZERO, False)]

    candidates = plan.candidates[phase]
    flat_candidates = candidates[Dimension.FLAT]
    energy_candidates = candidates[Dimension.ENERGY]
    time_candidates = candidates[Dimension.TIME]
    parking_candidates = candidates[Dimension.PARKING_TIME]
    reserved = phase is not _Phase.SESSION  # reserved time is priced as TIME, charging or not
    result = _PhaseResult(phase)
    needs_calendar = plan.needs_calendar
    calendars = {}
    calendar = None
    for start, end, energy_wh, energy_so_far_wh, power_w, current_a, charging in pieces:
        if needs_calendar:
            slot = bisect_right(calendar_cuts, start)
            calendar = calendars.get(slot)
            if calendar is None:
                moment = local_time.local(calendar_cuts[slot - 1] if slot else start, zone_name)
                calendar = calendars[slot] = _calendar(moment)
        facts = (calendar, start - origin_us, energy_so_far_wh, power_w, current_a)
        if result.flat is None and flat_candidates:
            flat = _first(flat_candidates, facts)
            if flat is not None:
                result.flat = _Run(Dimension.FLAT, flat, flat.component.price, None, start, start, 1)
        if end == start:
            continue
        active = []
        if charging or reserved:
            _extend(result, Dimension.TIME, _first(time_candidates, facts), start, end, end - start, None, active)
        else:
            parking = _first(parking_candidates, facts)
            _extend(result, Dimension.PARKING_TIME, parking, start, end, end - start, None, active)
        if energy_wh and energy_candidates:
            candidate = _first(energy_candidates, facts)
            _extend(result, Dimension.ENERGY, candidate, start, end, energy_wh, feed, active)
        _record_charging_period(result, phase, start, end, energy_wh, power_w, current_a, charging, tuple(active))
    return result


def _split(intervals, cuts: list[int], plan: _Plan, session: bool) -> list[tuple]:
    """Pieces (start, end, energy_wh, energy_so_far_wh, power_w, current_a, charging) during which no restriction
    can switch: intervals cut at the given instants and where the session's energy reaches a threshold.

    Energy within an interval flows at constant power: a cut at x gives the earlier part floor(energy x elapsed /
    duration) Wh, so parts are whole Wh and add up exactly; a threshold is reached at the first microsecond at
    which the energy so far reaches it. Consecutive intervals that no restriction can tell apart (no cut
    between them, both charging or both parking, on the same side of every power and current limit) are joined,
    so a session reported every minute costs little more than one reported every hour."""
    thresholds_wh = plan.thresholds_wh if session else ()
    power_limits, current_limits = plan.power_limits_w, plan.current_limits_a
    pieces = []
    energy_so_far = 0
    position = 0
    joinable = None  # what the last piece looks like to the restrictions, if the next one may join it
    for start, end, energy_wh, power_w, current_a, charging in intervals:
        duration = end - start
        position = bisect_right(cuts, start, lo=position)
        inner = []
        while position < len(cuts) and cuts[position] < end:
            inner.append(cuts[position])
            position += 1
        for threshold in thresholds_wh:
            if energy_so_far < threshold < energy_so_far + energy_wh:
                inner.append(start - (-(threshold - energy_so_far) * duration // energy_wh))
        if thresholds_wh:
            inner = sorted(set(x for x in inner if x < end))
        looks = charging
        if power_limits or current_limits:
            looks = (charging, *[power_w >= w for w in power_limits], *[current_a >= a for a in current_limits])
        segments = []
        before, delivered = start, 0
        for cut in (*inner, end):
            at_cut = energy_wh * (cut - start) // duration if cut != end else energy_wh
            segments.append([before, cut, at_cut - delivered, energy_so_far + delivered, power_w, current_a, charging])
            before, delivered = cut, at_cut
        if joinable is not None and joinable == looks:  # the first part extends the previous piece
            first, last = segments.pop(0), pieces[-1]
            last[1] = first[1]
            last[2] += first[2]
            if power_w > last[4]:
                last[4] = power_w
            if current_a > last[5]:
                last[5] = current_a
        pieces.extend(segments)
        energy_so_far += energy_wh
        at_cut = (position < len(cuts) and cuts[position] == end) or energy_so_far in thresholds_wh
        joinable = None if at_cut else looks
    return pieces


def _first(candidates, facts):
    for candidate in candidates:
        restriction = candidate.restriction
        if restriction is None or restriction.matches(*facts):
            return candidate
    return None


def _extend(result, dimension, candidate, start, end, consumed, feed, active) -> None:
    if candidate is None:  # no element prices this dimension now: it is free here
        return
    unit_price, feed_price = candidate.component.price, None
    dynamic = candidate.component.dynamic
    if dynamic is not None:
        feed_price = feed.price_at(start)
        unit_price = feed_price + dynamic.margin
        if dynamic.min_price is not None:
            unit_price = max(unit_price, dynamic.min_price)
        if dynamic.max_price is not None:
            unit_price = min(unit_price, dynamic.max_price)
        unit_price = quantize_unit_price(max(unit_price, _ZERO))
    active.append((dimension, candidate.index, unit_price))
    runs = result.runs[dimension]
    last = runs[-1] if runs else None
    if last is not None and last.end == start and last.candidate is candidate and last.unit_price == unit_price:
        last.end = end
        last.consumed += consumed
    else:
        runs.append(_Run(dimension, candidate, unit_price, feed_price, start, end, consumed))


def _record_charging_period(result, phase, start, end, energy_wh, power_w, current_a, charging, active):
    """[start, end, energy_wh, charging_us, parking_us, reservation_us, max power, max current, signature]:
    consecutive pieces with the same active components are one period."""
    duration = end - start
    slot = 5 if phase is not _Phase.SESSION else (3 if charging else 4)
    periods = result.charging_periods
    last = periods[-1] if periods else None
    if last is not None and last[1] == start and last[8] == (slot, active):
        last[1] = end
        last[2] += energy_wh
        last[slot] += duration
        last[6] = max(last[6], power_w)
        last[7] = max(last[7], current_a)
        return
    period = [start, end, energy_wh, 0, 0, 0, power_w, current_a, (slot, active)]
    period[slot] = duration
    periods.append(period)


# -- step sizes ---------------------------------------------------------------------------------------------


_ORDER = {Dimension.FLAT: 0, Dimension.ENERGY: 1, Dimension.TIME: 2, Dimension.PARKING_TIME: 3}


def _finished(result: _PhaseResult) -> tuple[bool, list[_Run], list[list]]:
    """The phase with step sizes applied: (reservation?, its runs in time order, its raw charging periods)."""
    _apply_step_sizes(result)
    runs = [run for dimension_runs in result.runs.values() for run in dimension_runs]
    if result.flat is not None:
        runs.append(result.flat)
    runs.sort(key=lambda run: (run.start, _ORDER[run.dimension]))
    return result.phase is not _Phase.SESSION, runs, result.charging_periods


def _apply_step_sizes(result: _PhaseResult) -> None:
    """step_size counts once per session: for the energy total, and for the time total of the dimension of the
    last time-based period (charging time followed by parking is not rounded). The step size is that of the
    last period's component, and the rounding is added to that last period."""
    _round_up_last(result.runs[Dimension.ENERGY], 1)
    timed = result.runs[Dimension.TIME] + result.runs[Dimension.PARKING_TIME]
    if timed:
        last = max(timed, key=lambda run: run.end)
        _round_up_last(result.runs[last.dimension], US_PER_S)


def _round_up_last(runs: list[_Run], unit: int) -> None:
    if not runs:
        return
    step = runs[-1].candidate.component.step_size * unit
    if step:
        total = sum(run.consumed for run in runs)
        runs[-1].extra = -(-total // step) * step - total
