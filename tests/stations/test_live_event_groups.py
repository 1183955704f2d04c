"""Live events of committed OCPP writes go only to channel-layer groups that someone listens to; which groups
have members is asked of Redis in one call per batch, however many groups the batch touches."""

import pytest
from channels.layers import get_channel_layer

from stations.events import _groups_with_members, send_committed
from tests.needs import missing

pytestmark = pytest.mark.asyncio


@pytest.fixture
def redis_layer():
    layer = get_channel_layer()
    if not hasattr(layer, "consistent_hash"):
        missing("needs REDIS_URL: the membership check is for the Redis channel layer")
    return layer


async def test_only_groups_with_members_are_reported(redis_layer):
    listener = await redis_layer.new_channel()
    await redis_layer.group_add("station.LIVE-1", listener)
    try:
        groups = {"station.LIVE-1", "station.QUIET-2", "dashboard-nobody", "customer.999999"}
        assert await _groups_with_members(redis_layer, groups) == {"station.LIVE-1"}
        assert await _groups_with_members(redis_layer, set()) == set()
    finally:
        await redis_layer.group_discard("station.LIVE-1", listener)
    assert await _groups_with_members(redis_layer, {"station.LIVE-1"}) == set()


async def test_committed_events_reach_a_listener_and_skip_empty_groups(redis_layer):
    listener = await redis_layer.new_channel()
    await redis_layer.group_add("station.LIVE-3", listener)
    try:
        await send_committed([
            (["station.NOBODY-4", "station.LIVE-3"], {"type": "station.status", "status": "Charging"}),
            (["station.NOBODY-4"], {"type": "station.status", "status": "Faulted"}),
        ])
        assert await redis_layer.receive(listener) == {"type": "station.status", "status": "Charging"}
    finally:
        await redis_layer.group_discard("station.LIVE-3", listener)
