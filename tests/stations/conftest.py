import uuid

import pytest

from tests.conftest import close_background_connections
from tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory
from tests.stations.ocpp_helpers import STATION_PASSWORD


@pytest.fixture
def channel_layer_of_this_test(settings):
    """A channel layer no other test (or other process sharing Redis) sends into."""
    layers = settings.CHANNEL_LAYERS
    if layers["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    else:
        config = {**layers["default"].get("CONFIG", {}), "prefix": f"test-{uuid.uuid4().hex[:12]}"}
        settings.CHANNEL_LAYERS = {"default": {**layers["default"], "CONFIG": config}}


@pytest.fixture
def ocpp_db(transactional_db, channel_layer_of_this_test, settings):
    """OCPP handlers use their own database threads: tests need committed data and a clean pool."""
    settings.OCPP_ACCEPT_UNKNOWN_STATIONS = False
    yield
    close_background_connections()


@pytest.fixture
def station(ocpp_db):
    """A registered station with two connectors (Accepted, security profile 1)."""
    charge_point = ChargePointFactory(identity="CP-TEST-1", password=STATION_PASSWORD)
    for n in (1, 2):
        ConnectorFactory(evse=EvseFactory(charge_point=charge_point, ocpp_evse_id=n))
    return charge_point
