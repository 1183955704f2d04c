"""Live events: what changed on a station, published after commit to the channel-layer groups that live
pages subscribe to (`station.<identity>`, `dashboard`, and `customer.<id>` for a driver's own sessions)."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

DASHBOARD_GROUP = "dashboard"


def station_group(identity: str) -> str:
    return f"station.{identity}"


def customer_group(customer_id: int) -> str:
    return f"customer.{customer_id}"


def publish_after_commit(identity: str, event: dict, *, dashboard: bool = True) -> None:
    """Send `event` to the station's group, the dashboard and its customer once the transaction commits.

    Meter readings skip the dashboard (`dashboard=False`): they are many and only session pages want them.
    """
    groups = event_groups(identity, event, dashboard=dashboard)
    transaction.on_commit(lambda: _send(groups, event))


def event_groups(identity: str, event: dict, *, dashboard: bool = True) -> list[str]:
    groups = [station_group(identity)] + ([DASHBOARD_GROUP] if dashboard else [])
    if event.get("customer_id"):
        groups.append(customer_group(event["customer_id"]))
    return groups


async def send_committed(publications: list[tuple[list[str], dict]]) -> None:
    """Send events whose writes the OCPP group writer has committed. It runs on the event loop, so there is
    no thread hop per event as with publish_after_commit; groups nobody listens to are skipped after one
    membership check per batch (most stations have no live page open). A failure is logged, like _send's."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        listened = await _groups_with_members(layer, {group for groups, _ in publications for group in groups})
    except Exception:
        logger.exception("Could not check which live groups have members")
        listened = None
    for groups, event in publications:
        try:
            for group in groups:
                if listened is None or group in listened:
                    await layer.group_send(group, event)
        except Exception:
            logger.exception("Could not publish %s", event.get("type"))


# Which of the given group keys (channels_redis keeps a group as a sorted set of channel names) have members:
# one command however many groups a batch touches.
_GROUPS_WITH_MEMBERS = """
local found = {}
for index, key in ipairs(KEYS) do
    if redis.call('ZCARD', key) > 0 then found[#found + 1] = index end
end
return found
"""


async def _groups_with_members(layer, groups: set[str]) -> set[str] | None:
    """The groups that have members, with one script call per Redis shard; None (send to all) for other
    layers. channels_redis' group_send costs two round trips even for an empty group, and asking for each
    group's size separately cost the event loop more than the rest of a batch's events. A group that gains
    its first member right now misses this one event, as it would a moment earlier."""
    if not all(hasattr(layer, name) for name in ("consistent_hash", "connection", "_group_key")):
        return None
    by_shard: dict[int, list[str]] = {}
    for group in groups:
        by_shard.setdefault(layer.consistent_hash(group), []).append(group)
    listened = set()
    for shard, names in by_shard.items():
        connection = layer.connection(shard)
        script = connection.register_script(_GROUPS_WITH_MEMBERS)
        found = await script(keys=[layer._group_key(name) for name in names])
        listened.update(names[index - 1] for index in found)
    return listened


def _send(groups: list[str], event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, event)
    except Exception:  # a live page missing an update must never undo or fail the write it reports
        logger.exception("Could not publish %s", event.get("type"))
