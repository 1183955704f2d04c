import pytest

from stations.protocol.db import close_pool
from tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory
from tests.stations.ocpp_helpers import STATION_PASSWORD


@pytest.fixture
def ocpp_db(transactional_db):
    """OCPP handlers use their own database threads: tests need committed data and a clean pool."""
    yield
    close_pool()


@pytest.fixture
def station(ocpp_db):
    """A registered station with two connectors (Accepted, security profile 1)."""
    charge_point = ChargePointFactory(identity="CP-TEST-1", password=STATION_PASSWORD)
    for n in (1, 2):
        ConnectorFactory(evse=EvseFactory(charge_point=charge_point, ocpp_evse_id=n))
    return charge_point
