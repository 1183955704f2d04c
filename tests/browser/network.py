"""The charging network the browser tests' drivers find: a location with one two-connector station, its price,
a card in stock; the simulated station that charges there; and how to read the figures the portal shows."""

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from customers.tokens import card_stock_create
from stations.simulator import Clock, SessionPlan, SimulatedStation, Vehicle
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.billing.invoice_factories import OperatorProfileFactory
from tests.e2e.conftest import STATION_PASSWORD
from tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory, LocationFactory

#: Station time runs this much faster than real time: a meter reading (every 60 station seconds) every 2 s.
STATION_SPEED = 30


class Network:
    """One location with one two-connector 22 kW station, priced at 0.50 EUR/kWh and 1.00 EUR per session incl.
    19 % VAT, and a card in stock with the activation code printed on its carrier."""

    def __init__(self):
        OperatorProfileFactory()
        tariff = TariffFactory(name="AC public", elements=[
            {"energy_price": Decimal("0.4202"), "energy_vat": Decimal("19"),
             "flat_price": Decimal("0.8403"), "flat_vat": Decimal("19")}])
        TariffAssignmentFactory(tariff=tariff, valid_from=datetime(2020, 1, 1, tzinfo=UTC))
        self.location = LocationFactory(name="Hafenpark Charging", address="Am Sandtorkai 41", postal_code="20457",
                                        city="Hamburg", latitude=Decimal("53.543500"), longitude=Decimal("9.988600"))
        self.station = ChargePointFactory(location=self.location, identity=f"BRW-{uuid.uuid4().hex[:10]}",
                                          password=STATION_PASSWORD)
        self.evses = [EvseFactory(charge_point=self.station, ocpp_evse_id=n,
                                  evse_id=f"DE*EVB*E{self.station.pk:04d}{n}*{n}") for n in (1, 2)]
        for evse in self.evses:
            ConnectorFactory(evse=evse, max_power_w=22_000)
        self.card, self.activation_code = card_stock_create(uid=f"04{uuid.uuid4().hex[:12].upper()}",
                                                            visual_number="EVB-C-0042-7731")

    def simulated_station(self, ws_url: str) -> SimulatedStation:
        """The station, ready to connect to the live server; remote starts charge until stopped."""
        return SimulatedStation(self.station.identity, ws_url + "/ocpp/", STATION_PASSWORD, connectors=2,
                                clock=Clock(STATION_SPEED), plans=parked_for_hours, vendor="Alfen BV",
                                model="Eve Double Pro-line")


def a_car_at_11_kw(*, dwell_s: float) -> SessionPlan:
    """A car drawing 11 kW, plugged in for `dwell_s` station seconds, then unplugged."""
    vehicle = Vehicle(battery_wh=77_000, soc=25.0, max_ac_w=11_000, max_dc_w=100_000, nominal_voltage_v=400)
    return SessionPlan(vehicle, dwell_s=dwell_s, stop_reason="EVDisconnected", unplug_s=0)


def parked_for_hours(spec=None, rng=None) -> SessionPlan:
    """Far longer than any test: only a stop ends the session."""
    return a_car_at_11_kw(dwell_s=8 * 3600)


# --- what the driver sees -------------------------------------------------------------------------------------
def figure(page, term: str):
    """The value shown for `term` in a list of key figures (<dl class="figures">)."""
    return page.locator("dl.figures > div").filter(has=page.get_by_text(term, exact=True)).locator("dd")


def amount(text: str) -> Decimal:
    """The first number in a figure's text ("about €1.37", "1,65 EUR", "0.183 kWh"), either decimal mark."""
    match = re.search(r"\d+(?:[.,]\d+)?", text.replace("\u202f", "").replace("\xa0", ""))
    assert match, f"no number in {text!r}"
    return Decimal(match.group().replace(",", "."))
