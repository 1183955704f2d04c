"""`manage.py simulate_fleet` against the real server: stations from the database boot, charge with the
database's valid cards, and stop every session cleanly when the duration ends."""

import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from stations.models import ChargePoint, ChargingSession, MeterValue
from tests.e2e.conftest import STATION_PASSWORD
from tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory, IdTokenFactory

pytestmark = pytest.mark.e2e


def station_with(identity: str, **plug) -> ChargePoint:
    charge_point = ChargePointFactory(identity=identity, password=STATION_PASSWORD, vendor="ABB", model="Terra 184")
    for n in (1, 2):
        ConnectorFactory(evse=EvseFactory(charge_point=charge_point, ocpp_evse_id=n), **plug)
    return charge_point


def test_simulate_fleet_charges_with_valid_cards_and_stops_every_session_when_the_duration_ends(
        ocpp_url, eventually):
    run = uuid.uuid4().hex[:8]
    ac = station_with(f"E2E-AC-{run}")
    dc = station_with(f"E2E-DC-{run}", power_type="DC", max_power_w=150_000, max_voltage_v=920, max_amperage_a=200)
    cards = {IdTokenFactory().uid for _ in range(4)}
    out = StringIO()

    call_command("simulate_fleet", identities=f"{ac.identity},{dc.identity}", url=ocpp_url, password=STATION_PASSWORD,
                 duration=4, speed=600, meter_interval=300, seed=7, stdout=out)

    output = out.getvalue()
    sessions = ChargingSession.objects.filter(charge_point__in=[ac, dc])
    assert {s.charge_point_id for s in sessions} == {ac.pk, dc.pk}, output
    assert {s.state for s in sessions} == {ChargingSession.State.COMPLETED}  # none left running
    assert {s.id_tag for s in sessions if s.id_tag_status == "Accepted"} <= cards
    assert all(s.energy_wh > 0 for s in sessions if s.stop_reason != "Other")
    dc_soc = MeterValue.objects.filter(session__charge_point=dc, measurand="SoC")
    assert dc_soc.exists() and not MeterValue.objects.filter(session__charge_point=ac, measurand="SoC").exists()
    assert f"{ac.identity} connected" in output and "started tx" in output and "stopped tx" in output
    assert "Stopped. 2 stations:" in output
    eventually(lambda: not ChargePoint.objects.filter(pk__in=[ac.pk, dc.pk], is_connected=True).exists(),
               what="both stations offline")
