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
    groups = [station_group(identity)] + ([DASHBOARD_GROUP] if dashboard else [])
    if event.get("customer_id"):
        groups.append(customer_group(event["customer_id"]))
    transaction.on_commit(lambda: _send(groups, event))


def _send(groups: list[str], event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, event)
    except Exception:  # a live page missing an update must never undo or fail the write it reports
        logger.exception("Could not publish %s", event.get("type"))
