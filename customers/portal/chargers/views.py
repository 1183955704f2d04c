"""Find a charger: public pages (no sign-in), so they show only public facts; a signed-in driver sees the price
of their own account (group tariff or membership), everyone else the price for a driver without an account.

Every page reads through `stations.selectors` (what is published and its state) and `billing.tariffs.public`
(which tariff and what it says), in a constant number of queries whatever the size of the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.views.decorators.cache import cache_page
from django.views.decorators.http import require_safe

from billing.tariffs.public import PublicPrice, connector_tariffs, public_price
from stations.models import Location
from stations.selectors import (
    LocationAvailability,
    PublicConnector,
    PublicState,
    location_availability,
    location_search,
    network_standards,
    published_locations,
)

from .forms import ChargerSearchForm

PAGE_SIZE = 20
#: Seconds the availability JSON may be served from the cache (the map refreshes every 30 s).
STATUS_CACHE_S = 5


@dataclass
class PriceBlock:
    """One tariff at a location; `applies_to` names the connector types when the location has several."""

    price: PublicPrice | None
    applies_to: list[str] = field(default_factory=list)


@dataclass
class LocationCard:
    location: Location
    availability: LocationAvailability
    prices: list[PriceBlock] = field(default_factory=list)
    distance_km: float | None = None


@dataclass
class EvseCard:
    evse_id: str
    physical_reference: str
    connectors: list[PublicConnector]

    @property
    def state(self) -> PublicState:
        states = [c.state for c in self.connectors]
        return PublicState.AVAILABLE if PublicState.AVAILABLE in states else min(states, key=_STATE_ORDER.index)

    @property
    def can_start(self) -> bool:
        """Offer to start unless the station cannot take it (a driver may have plugged in already: "in use")."""
        return self.state not in (PublicState.OFFLINE, PublicState.OUT_OF_SERVICE)


_STATE_ORDER = list(PublicState)


@require_safe
def charger_list(request: HttpRequest) -> HttpResponse:
    form = ChargerSearchForm(request.GET or None, standards=network_standards())
    filters = form.filters()
    matches = location_search(query=filters["query"], standard=filters["standard"],
                              min_power_kw=filters["min_power_kw"])
    availability = location_availability(matches)
    cards = [LocationCard(location, availability[location.pk]) for location in matches
             if location.pk in availability]
    if filters["available_only"]:
        cards = [card for card in cards if card.availability.available]
    origin = filters["origin"]
    if origin is not None:
        for card in cards:
            card.distance_km = _distance_km(origin, card.location)
        cards.sort(key=lambda card: card.distance_km)
    page = Paginator(cards, PAGE_SIZE).get_page(request.GET.get("page"))
    _attach_prices(page.object_list, request, timezone.now())
    return render(request, "portal/chargers/list.html", {
        "form": form, "page": page, "cards": page.object_list, "total": len(cards),
        "map_data": _map_data(cards, request), "query_without_page": _query_without_page(request),
    })


@require_safe
def charger_detail(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(published_locations(), pk=pk)
    availability = location_availability([location])[location.pk]
    card = LocationCard(location, availability)
    _attach_prices([card], request, timezone.now())
    evses: dict[int, EvseCard] = {}
    for connector in availability.connectors:
        evse = evses.setdefault(connector.evse_pk, EvseCard(connector.evse_id, connector.physical_reference, []))
        evse.connectors.append(connector)
    return render(request, "portal/chargers/detail.html", {
        "card": card, "location": location, "evses": list(evses.values()),
        "opening_hours": opening_hours(location.opening_hours),
        "map_data": _map_data([card], request, location=location),
    })


@require_safe
@cache_page(STATUS_CACHE_S)
def charger_status(request: HttpRequest) -> JsonResponse:
    """Availability of every published location (per connector type and power), and with `?location=<id>`
    the state of each of that location's connectors. Public: states and counts only."""
    location_param = request.GET.get("location")
    locations = published_locations()
    if location_param is not None:
        if not location_param.isdigit():
            return JsonResponse({"error": gettext("location must be a location id.")}, status=400)
        locations = locations.filter(pk=int(location_param))
        if not locations.exists():
            return JsonResponse({"error": gettext("No such location.")}, status=404)
    availability = location_availability(locations)
    data = {"generated_at": timezone.now().isoformat(),
            "locations": [_availability_json(a) for a in availability.values()]}
    if location_param is not None:
        data["connectors"] = [
            {"id": c.id, "evse_id": c.evse_id, "state": c.state.value, "label": c.state.label, "badge": c.state.badge}
            for a in availability.values() for c in a.connectors
        ]
    return JsonResponse(data)


# -- helpers ------------------------------------------------------------------------------------------------


def _customer(request: HttpRequest):
    user = request.user
    return user.customer if user.is_authenticated and getattr(user, "customer_id", None) else None


def _attach_prices(cards: list[LocationCard], request: HttpRequest, at: datetime) -> None:
    """Each card's price blocks: the connectors grouped by the tariff that would price them now."""
    connectors = [c for card in cards for c in card.availability.connectors]
    tariffs = connector_tariffs(connectors=connectors, customer=_customer(request), at=at)
    described: dict[tuple, PublicPrice] = {}
    for card in cards:
        by_tariff: dict[int | None, PriceBlock] = {}
        for connector in card.availability.connectors:
            tariff = tariffs.get(connector.id)
            block = by_tariff.get(tariff.pk if tariff else None)
            if block is None:
                price = None
                if tariff is not None:
                    key = (tariff.pk, card.location.time_zone)
                    price = described.get(key) or public_price(tariff, time_zone=key[1], at=at)
                    described[key] = price
                block = by_tariff[tariff.pk if tariff else None] = PriceBlock(price)
            if connector.name not in block.applies_to:
                block.applies_to.append(connector.name)
        card.prices = list(by_tariff.values())
        if len(card.prices) == 1:
            card.prices[0].applies_to = []


def _availability_json(availability: LocationAvailability) -> dict:
    return {
        "id": availability.location_id,
        "state": availability.state.value,
        "badge": availability.state.badge,
        "available": availability.available,
        "total": availability.total,
        "text": _count_text(availability.available, availability.total),
        "groups": [{"key": g.key, "name": g.name, "available": g.available, "total": g.total,
                    "text": _count_text(g.available, g.total)} for g in availability.groups],
    }


def _count_text(available: int, total: int) -> str:
    return gettext("%(available)s of %(total)s available") % {"available": available, "total": total}


def _map_data(cards: list[LocationCard], request: HttpRequest, location: Location | None = None) -> dict:
    status_url = reverse("portal:chargers-status")
    if location is not None:
        status_url += f"?location={location.pk}"
    return {
        "tile_url": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "status_url": status_url,
        "refresh_s": 30,
        "messages": {"details": gettext("Details"), "tiles_failed": (
            gettext("The map could not be loaded. The list has every charger.") if location is None
            else gettext("The map could not be loaded. The address is above."))},
        "locations": [{
            "id": card.location.pk, "name": card.location.name,
            "address": f"{card.location.address}, {card.location.postal_code} {card.location.city}",
            "lat": float(card.location.latitude), "lon": float(card.location.longitude),
            "url": reverse("portal:charger", args=[card.location.pk]),
            "badge": card.availability.state.badge,
            "text": _count_text(card.availability.available, card.availability.total),
        } for card in cards],
    }


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _distance_km(origin: tuple[float, float], location: Location) -> float:
    """Great-circle distance (haversine), good to a few metres at city scale."""
    lat1, lon1 = map(math.radians, origin)
    lat2, lon2 = math.radians(float(location.latitude)), math.radians(float(location.longitude))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(a, 1.0)))


def opening_hours(value: dict) -> dict:
    """OCPI Hours for the page: {"always": True} or {"days": [(weekday name, ["08:00-20:00", ...]), ...]}
    with every day of the week (an empty list is a closed day)."""
    if not isinstance(value, dict) or value.get("twentyfourseven") is True:
        return {"always": True}
    periods: dict[int, list[str]] = {day: [] for day in range(1, 8)}
    for period in value.get("regular_hours") or []:
        if isinstance(period, dict) and period.get("weekday") in periods:
            periods[period["weekday"]].append(f"{period.get('period_begin')}-{period.get('period_end')}")
    return {"always": False, "days": [(WEEKDAYS[day - 1], sorted(times)) for day, times in periods.items()]}
