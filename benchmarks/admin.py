"""p95 time and query count of the operator's busiest pages on a large network, as a signed-in staff user
(Django's test Client in this process, so no network or web server in the figures):

    python benchmarks/admin.py [--database-url postgres://postgres@127.0.0.1:5432/evb_scale] [--requests 30]

The database must hold the `seed_scale` network (`manage.py seed_scale --stations 2000 --sessions 1000000`);
the script refuses one without it. It adds one superuser (bench-admin) and reads everything else. Pages: the
operator dashboard and its counters and charts JSON (charts: cached, so the p95 is the cached answer; the
first request's time is printed too), the sessions changelist unfiltered and filtered (active, needs
review), and the station view of a station with a running session. Each page is requested --warmup times,
then --requests times; the query count is that of the last request (constant pages give the same number
every time, which the script checks).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/evb_scale")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, DEBUG="true", LOG_LEVEL="WARNING", AXES_ENABLED="false")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evbackoffice.settings")
    import django

    django.setup()
    from django.db import connection

    from stations.models import ChargePoint, ChargingSession

    if not ChargePoint.objects.filter(identity__startswith="SCALE-").exists():
        sys.exit("No seed_scale network in this database: run manage.py seed_scale first.")
    print(f"{connection.vendor}: {ChargePoint.objects.count():,} stations, "
          f"{ChargingSession.objects.count():,} sessions")
    client = _staff_client()
    rows = [(name, *_measure(client, url, args.warmup, args.requests)) for name, url in _pages()]
    print(f"\n| page ({args.requests} requests after {args.warmup} warm-up) | first ms | p50 ms | p95 ms | max ms "
          "| queries |")
    print("|---|---|---|---|---|---|")
    for name, first, p50, p95, worst, queries in rows:
        print(f"| {name} | {first:.0f} | {p50:.0f} | {p95:.0f} | {worst:.0f} | {queries} |")


def _staff_client():
    from django.test import Client

    from customers.models import User

    user = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        username="bench-admin", email="bench-admin@example.com", password=None)
    client = Client()
    client.force_login(user)
    _verified_second_factor(client, user)
    return client


def _verified_second_factor(client, user) -> None:
    """Staff pages require a verified TOTP device in the session (staff/): mark this session as django-otp's
    login does, so the figures include the 2FA check every staff request pays."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="benchmark", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def _pages() -> list[tuple[str, str]]:
    from django.urls import reverse

    from stations.models import ChargingSession

    sessions = reverse("admin:stations_chargingsession_changelist")
    busy = (ChargingSession.objects.filter(state="active", charge_point__identity__startswith="SCALE-")
            .values_list("charge_point_id", flat=True).first())
    return [
        ("operator dashboard", reverse("stations:dashboard")),
        ("dashboard counters JSON", reverse("stations:dashboard-counters")),
        ("dashboard charts JSON (cached 5 min)", reverse("stations:dashboard-charts")),
        ("sessions list", sessions),
        ("sessions list, active", sessions + "?state__exact=active"),
        ("sessions list, needs review", sessions + "?needs_review__exact=1"),
        ("station view (running session)", reverse("admin:stations_chargepoint_change", args=[busy])),
    ]


def _measure(client, url: str, warmup: int, requests: int) -> tuple[float, float, float, float, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # the first request computes what a page caches
    started = time.perf_counter()
    _get(client, url)
    first = 1000 * (time.perf_counter() - started)
    for _ in range(warmup - 1):
        _get(client, url)
    timings, counts = [], set()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            _get(client, url)
            timings.append(1000 * (time.perf_counter() - started))
        counts.add(len(queries.captured_queries))
    if len(counts) != 1:
        print(f"  note: {url} made {sorted(counts)} queries across requests")
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(0.95 * len(timings))) - 1)]
    return first, statistics.median(timings), p95, timings[-1], max(counts)


def _get(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}")


if __name__ == "__main__":
    main()
