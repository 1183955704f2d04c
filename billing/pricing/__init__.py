"""The pricing engine: an OCPI 2.2.1 tariff and the facts of a charging session give the session's price, per
dimension and VAT rate, with an explanation. Pure functions on frozen dataclasses; no database.

    tariff = tariff_from_ocpi(document)                  # or Tariff(...) from the stored model
    facts = SessionFacts(start, stop, "Europe/Berlin", intervals)
    priced = price_session(tariff, facts)                # priced.total.incl_vat, priced.explanation
    # later: apply_discounts(priced, membership, ...) works on priced.periods and priced.exact_total

Modules: `tariffs` (the dataclasses), `ocpi` (JSON in and out, `TariffError`), `facts` (session facts,
`intervals_from_readings`), `engine` (`price_session`), `results`, `feeds` (dynamic prices), `money`
(`quantize_price`), `local_time` (the location's clock), `explain` (the plain-language lines).

Semantics, as in the specification (mod_tariffs and mod_cdrs of OCPI 2.2.1)
--------------------------------------------------------------------------
- For every dimension (ENERGY, FLAT, TIME, PARKING_TIME) and at every moment, the first tariff element, in
  order, that has a component for the dimension and whose restrictions all match prices it. Restrictions
  switch elements on and off during a session, so the session is cut wherever one can switch: local times of
  day, local midnights (weekday, date), daylight-saving jumps, durations since the start, the moment the
  session's energy passes a min/max kWh, changes of power and current (interval boundaries), charging/parking
  changes and price-feed intervals. A session crossing 22:00 is priced in two parts.
- TIME is charging time, PARKING_TIME time in which the vehicle draws no power (see 7); ENERGY is per kWh;
  FLAT once. A new charging period (for the CDR) starts whenever an active component or its price changes.
- step_size counts once per session: the energy total is rounded up to the step of the last energy period's
  component; of TIME and PARKING_TIME combined, only the dimension of the last time-based period is rounded
  (its session total, to the step of that last component), so charging time followed by parking is not
  rounded. The extra quantity is added to that last period, at its price.
- min_price / max_price bound the total excl. VAT by their excl_vat and, separately, the total incl. VAT by
  their incl_vat.

Choices where the specification is silent
-----------------------------------------
1. Rounding. The specification leaves it to law and contracts. Amounts stay exact Decimals (money is summed
   as price x quantity and divided once, so no repeating decimal is rounded and summed) and are rounded once,
   in `quantize_price`, to the currency's minor unit, half up: the session totals excl. and incl. VAT after
   min/max price. Per-period amounts, the VAT breakdown and the CDR cost split stay exact, so an invoice can
   add many sessions and round per VAT rate once. This is what reproduces the spec's totals: the complex
   example's 2.875 + 3.30 + 4.125 = 10.30 EUR incl. VAT (rounding each line first would give 10.31), and its
   5.125 EUR is 5.13 EUR (half up, not half even). The explanation shows line amounts rounded.
2. Numbers. OCPI numbers have 4 decimals; tariff prices, VAT rates and thresholds with more are refused.
   A dynamic unit price (feed + margin, clamped) is rounded half up to 4 decimals.
3. Gaps. When no element prices a dimension at some moment, that dimension is free then; free time and
   energy do not count towards the step_size total, and the rounding goes to the last period that had a
   component (as the spec's "switching to Free-of-Charge Tariff Element" example does).
4. step_size is read as "round up to a multiple" (an exact multiple is not rounded further; the text's
   "greater than" would bill 10 minutes for 5). 0 means no rounding and is never divided by.
5. FLAT is charged once per phase (the reservation, the charging session): at the first moment any FLAT
   component matches, from the first matching element at that moment, so a FLAT with `min_duration` is a
   fee for long sessions. A session of zero duration is evaluated at its start.
6. Within a meter interval, power and current are constant and energy flows evenly: a cut gives the earlier
   part floor(energy x elapsed / duration) Wh, so parts are whole Wh and add up to the interval's energy;
   the moment a kWh threshold is reached is the first microsecond at which the energy so far reaches it.
   Energy so far is a whole number of Wh, so a threshold in kWh is compared as ceil(kWh x 1000) Wh.
7. An interval with energy or power is charging time; without either, parking time. ENERGY is only
   looked up where energy flows, so the step rounding goes to an element that really priced energy.
   `intervals_from_readings` holds each reading's power and current until the next reading (sample and hold),
   so the interval after the last reading with power is still charging time.
8. Times of day are the location's wall clock. An end of 00:00 is the end of the day; start only: until
   midnight; end only: from midnight; start equal to end: the whole day. In the skipped hour of spring, a
   time inside the gap is passed at the jump; in the repeated hour of autumn, a time restriction applies in
   both occurrences. Durations are real elapsed time, whatever the clock did.
9. Dates and weekdays are the location's calendar. min/max_duration count from the session's start (from
   the reservation's start for reservation elements).
10. A tariff with current restrictions needs the current of every charging interval: missing, the facts are
   refused (SessionFactsError) rather than the time silently priced as free. Power, when missing, is the
   interval's average from its energy. Parking intervals have zero power and current.
11. min/max price: the total includes reservation costs. The clamping difference is reported as
   `limit_adjustment` (excl. and incl. VAT) and not spread over the VAT rates. A limit without incl_vat moves
   the total incl. VAT in proportion to the total excl. VAT (the session's own VAT mix); for a session that
   cost nothing, at the tariff's single VAT rate, or without VAT if rates differ.
12. Validity. A tariff must be in force when the session (or its reservation) starts; it then prices the
   whole session even if its end_date_time passes during it (drivers pay what they agreed to at the start).
13. Reservations. During a reservation only elements with a `reservation` restriction apply, during the
   session only those without. An expired reservation is priced by RESERVATION_EXPIRES elements first, then
   RESERVATION elements (the spec's note); a used one by RESERVATION elements only. Reservation time is
   its own total for step_size (the CDR's RESERVATION_TIME) and does not join the session's time rounding.
14. Dynamic prices (not OCPI). An ENERGY component may carry `dynamic_price` {feed, margin, min_price,
   max_price}; its unit price for energy delivered in a feed interval is feed + margin, clamped, never below
   zero (negative market prices are not paid out). Its `price` stays the announced price that plain OCPI
   partners see (`tariff_to_ocpi(..., extensions=False)`). A moment without a feed value is an error.
15. Currencies: ISO 4217 codes in circulation (py-moneyed's list of currencies used by a country, so not
   DEM, XAU or XXX). VAT omitted and VAT 0 % are different rates; omitted means incl. = excl.
16. OCPI import is strict: unknown fields are refused (a misspelt key must not silently drop a restriction);
   country_code, party_id, id and last_updated are optional because the platform assigns them.
"""

from .engine import Restriction, price_session
from .errors import PriceFeedError, PricingError, SessionFactsError, TariffError
from .facts import (
    MAX_PLAUSIBLE_POWER_W,
    MeterInterval,
    MeterReading,
    Reservation,
    SessionFacts,
    intervals_from_readings,
)
from .feeds import PriceFeed
from .money import quantize_price
from .ocpi import tariff_from_ocpi, tariff_to_ocpi
from .results import Amount, ChargingPeriod, PricedPeriod, PricedSession, VatLine
from .tariffs import (
    DayOfWeek,
    Dimension,
    DisplayText,
    DynamicPrice,
    Price,
    PriceComponent,
    ReservationRestriction,
    Tariff,
    TariffElement,
    TariffRestrictions,
    TariffType,
)

__all__ = [
    "MAX_PLAUSIBLE_POWER_W", "Amount", "ChargingPeriod", "DayOfWeek", "Dimension", "DisplayText", "DynamicPrice",
    "MeterInterval", "MeterReading", "Price", "PriceComponent", "PriceFeed", "PriceFeedError", "PricedPeriod",
    "PricedSession", "PricingError", "Reservation", "ReservationRestriction", "Restriction", "SessionFacts",
    "SessionFactsError",
    "Tariff", "TariffElement", "TariffError", "TariffRestrictions", "TariffType", "VatLine", "intervals_from_readings",
    "price_session", "quantize_price", "tariff_from_ocpi", "tariff_to_ocpi",
]  # fmt: skip
