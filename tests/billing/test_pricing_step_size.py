"""step_size: the tariff module's examples of switching elements (tariff_14_step_size.json), its note on
energy steps, the CDR module's step_size rules (mod_cdrs.asciidoc, "step_size"), and a step size of 0."""

from decimal import Decimal

from billing.pricing import Dimension, price_session

from .sessions import Charge, Park, billed, component, element, session, spec_tariff, tariff, totals

STEP_SIZE_TARIFF = "tariff_14_step_size"


def test_example_switching_to_different_tariff_element_1():
    # Plug in 16:55, charge 10 minutes, park 2: charging 5 min at 1.20/h (0.10) + 5 min at 2.40/h (0.20), and
    # parking 2 minutes rounded to 15 by the step size of the last parking period (0.25): "€ 0.55 ex VAT".
    priced = price_session(spec_tariff(STEP_SIZE_TARIFF), session("2026-06-01 16:55", Charge(10, 1_800), Park(2)))

    assert totals(priced) == ("0.55", "0.55")  # no VAT in this tariff
    assert billed(priced, Dimension.TIME) == [(0, Decimal(300), Decimal("0.1")), (1, Decimal(300), Decimal("0.2"))]
    assert billed(priced, Dimension.PARKING_TIME) == [(1, Decimal(900), Decimal("0.25"))]


def test_example_switching_to_different_tariff_element_2():
    # Plug in 16:35, charge 35 minutes, leave: the total 35 minutes round to 45 by the last element's 15-minute
    # step; 25 minutes before 17:00 (0.50) and 20 after (0.80): "a session fee of € 1.30".
    priced = price_session(spec_tariff(STEP_SIZE_TARIFF), session("2026-06-01 16:35", Charge(35, 6_000)))

    assert totals(priced) == ("1.30", "1.30")
    assert billed(priced, Dimension.TIME) == [(0, Decimal(1500), Decimal("0.5")), (1, Decimal(1200), Decimal("0.8"))]


def test_example_switching_to_free_of_charge_tariff_element():
    # Plug in 19:40, charge 12 minutes, park 20: parking is free after 20:00, so 8 billable minutes round to 15
    # by the step of the last active parking component, added to 19:52-20:00: 0.48 + 0.25 = "€ 0.73".
    priced = price_session(spec_tariff(STEP_SIZE_TARIFF), session("2026-06-01 19:40", Charge(12, 2_000), Park(20)))

    assert totals(priced) == ("0.73", "0.73")
    assert billed(priced, Dimension.TIME) == [(1, Decimal(720), Decimal("0.48"))]
    [parking] = priced.periods_of(Dimension.PARKING_TIME)
    assert (parking.element_index, parking.consumed, parking.billed) == (1, Decimal(480), Decimal(900))
    assert parking.end == session("2026-06-01 20:00").start


def test_energy_step_size_note_in_the_price_component():
    # The note: 0.25 EUR/kWh, 115.2 Wh bills as 116 Wh with step 1 (0.029), as 125 Wh with step 25 ("€ 0.031",
    # exactly 0.03125) and as 500 Wh with step 500 (0.125). Our meter facts are whole Wh, so 115 Wh here.
    def energy_cost(step_size):
        priced = price_session(
            tariff(element(component("ENERGY", "0.25", step_size))), session("2026-06-01 10:00", Charge(1, 115))
        )
        return billed(priced, Dimension.ENERGY)

    assert energy_cost(1) == [(0, Decimal(115), Decimal("0.02875"))]
    assert energy_cost(25) == [(0, Decimal(125), Decimal("0.03125"))]
    assert energy_cost(500) == [(0, Decimal(500), Decimal("0.125"))]


def test_cdr_rule_step_size_is_not_applied_to_charging_time_followed_by_parking():
    # mod_cdrs: 5-minute steps for both; 21 minutes charging then 7 parking: "The cost of charging will be
    # calculated based on 21 minutes (not 25). The cost of parking will be calculated based on 10 minutes".
    priced = price_session(
        tariff(element(component("TIME", "1.00", 300), component("PARKING_TIME", "2.00", 300))),
        session("2026-06-01 10:00", Charge(21, 3_000), Park(7)),
    )

    assert [p.billed for p in priced.periods_of(Dimension.TIME)] == [Decimal(21 * 60)]
    assert [p.billed for p in priced.periods_of(Dimension.PARKING_TIME)] == [Decimal(10 * 60)]


def test_cdr_rule_energy_step_size_applies_to_the_session_total():
    # mod_cdrs: 0.20/kWh before 17:00, 0.27 after, both per 500 Wh; 4.3 kWh before and 1.1 kWh after: "a total
    # of 5.4 kWh ... rounds this up to 5.5 kWh total. It does NOT round the energy used after 17:00 to 1.5 kWh."
    priced = price_session(
        tariff(
            element(component("ENERGY", "0.20", 500), start_time="00:00", end_time="17:00"),
            element(component("ENERGY", "0.27", 500)),
        ),
        session("2026-06-01 16:30", Charge(30, 4_300), Charge(10, 1_100)),
    )

    assert billed(priced, Dimension.ENERGY) == [
        (0, Decimal(4_300), Decimal("0.86")),
        (1, Decimal(1_200), Decimal("0.324")),
    ]
    assert totals(priced) == ("1.18", "1.18")


def test_cdr_rule_time_step_size_applies_to_the_session_total():
    # mod_cdrs: 5/h before 17:00, 7/h after, both per 10 minutes; 6 minutes before and 22 after: "a total of 28
    # minutes ... rounds this up to 30 minutes total, so 24 minutes after 17:00 will be billed."
    priced = price_session(
        tariff(
            element(component("TIME", "5.00", 600), start_time="00:00", end_time="17:00"),
            element(component("TIME", "7.00", 600)),
        ),
        session("2026-06-01 16:54", Charge(28, 5_000)),
    )

    assert billed(priced, Dimension.TIME) == [(0, Decimal(360), Decimal("0.5")), (1, Decimal(1440), Decimal("2.8"))]


def test_cdr_rule_with_time_and_parking_only_the_parking_duration_is_rounded():
    # mod_cdrs: charging 1.00/h, parking 2.00/h, both per 10 minutes; 21 minutes charging, 16 parking: parking
    # rounds to 20 minutes, charging stays 21.
    priced = price_session(
        tariff(element(component("TIME", "1.00", 600), component("PARKING_TIME", "2.00", 600))),
        session("2026-06-01 10:00", Charge(21, 3_000), Park(16)),
    )

    assert [p.billed for p in priced.periods] == [Decimal(21 * 60), Decimal(20 * 60)]
    assert totals(priced) == ("1.02", "1.02")  # 0.35 + 0.6667


def test_time_rounding_goes_to_charging_time_when_charging_resumes_after_parking():
    # The last time-based period decides: here charging again after a pause, so charging time is rounded.
    priced = price_session(
        tariff(element(component("TIME", "6.00", 600), component("PARKING_TIME", "3.00", 600))),
        session("2026-06-01 10:00", Charge(21, 3_000), Park(7), Charge(3, 200)),
    )

    assert [(p.dimension, p.billed) for p in priced.periods] == [
        (Dimension.TIME, Decimal(21 * 60)),
        (Dimension.PARKING_TIME, Decimal(7 * 60)),
        (Dimension.TIME, Decimal(9 * 60)),  # 24 minutes of charging round to 30
    ]


def test_step_size_zero_bills_exactly_what_was_used():
    priced = price_session(
        tariff(element(component("ENERGY", "0.30", 0), component("TIME", "1.20", 0), component("FLAT", "1", 0))),
        session("2026-06-01 10:00", Charge(37.5, 7_777)),
    )

    assert [p.billed for p in priced.periods] == [Decimal(1), Decimal(7_777), Decimal(2250)]
    assert priced.exact_total.excl_vat == Decimal("1") + Decimal("0.75") + Decimal("2.3331")


def test_an_exact_multiple_of_the_step_is_not_rounded_further():
    priced = price_session(
        tariff(element(component("PARKING_TIME", "6.00", 300))), session("2026-06-01 10:00", Charge(5, 500), Park(10))
    )

    assert [p.billed for p in priced.periods] == [Decimal(600)]


def test_step_size_of_the_last_energy_element_applies_to_energy_from_all_elements():
    # 1 Wh steps before 2 kWh, 1 kWh steps after: 2.5 kWh in total rounds to 3 kWh; the extra 0.5 kWh is billed
    # at the second element's price.
    priced = price_session(
        tariff(element(component("ENERGY", "0.40", 1), max_kwh=2), element(component("ENERGY", "0.20", 1_000))),
        session("2026-06-01 10:00", Charge(30, 2_500)),
    )

    assert billed(priced, Dimension.ENERGY) == [
        (0, Decimal(2_000), Decimal("0.8")),
        (1, Decimal(1_000), Decimal("0.2")),
    ]
