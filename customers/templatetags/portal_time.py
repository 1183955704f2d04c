"""Times of a charging session as the portal shows them: on the location's clock (what the driver saw at the
charging point, and what the price explanation and time-of-day tariffs use), with the zone's abbreviation,
because the reader may be somewhere else (or on a device set to another zone) when reading it."""

from datetime import datetime, tzinfo

from django import template
from django.utils import formats

register = template.Library()


@register.simple_tag
def location_time(moment: datetime | None, zone: tzinfo | None = None, format_name: str = "DATETIME_FORMAT") -> str:
    """`moment` on `zone`'s clock (default: its own, as in `SessionRow.started_local`) in the active language's
    `format_name`, then the zone: "24.11.2026, 00:37 CET". Unlike the `date` filter, never the server's zone."""
    if moment is None:
        return ""
    local = moment.astimezone(zone or moment.tzinfo)
    return f"{formats.date_format(local, format_name)} {formats.date_format(local, 'T')}"
