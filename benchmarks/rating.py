"""How many finished sessions per second the rating service turns into charge records, database included:
reading the session and its meter values, choosing the tariff, pricing, discounts, writing the record and the
loyalty entries. The pure engine's figure is `benchmarks/pricing.py`; this one shows what the rest costs.

    python benchmarks/rating.py [--database-url postgres://postgres@127.0.0.1:5432/evb_bench_rating] [--repeat 2]

Uses the demo network (`seed_demo`: about 880 sessions over a month, 26k meter values, the demo tariffs,
fleet deal and membership), seeding it first if the database has none. Each run deletes the charge records
(and what hangs on them) inside a transaction, rates every finished session again with
`billing.demo.rate_finished_sessions()` (the service the Celery task calls), reports, and rolls back, so the
database is left as it was. Refuses a database whose name does not contain "bench".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/evb_bench_rating")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        sys.exit("Refusing: the database name must contain 'bench' (this script deletes charge records).")
    os.environ.update(DATABASE_URL=args.database_url, DEBUG="true", LOG_LEVEL="WARNING")
    os.environ.pop("REDIS_URL", None)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evbackoffice.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from stations.models import ChargingSession

    if not ChargingSession.objects.exists():
        print("Seeding the demo network (once)...")
        call_command("seed_demo", "--force", verbosity=0)
    finished = ChargingSession.objects.filter(state="completed").count()
    print(f"{connection.vendor}, {finished} finished sessions, "
          f"{ChargingSession.objects.filter(meter_values__isnull=False).distinct().count()} with meter values")
    for run in range(1, args.repeat + 1):
        created, seconds, cpu = _run()
        print(f"run {run}: {created} charge records in {seconds:.2f} s: {created / seconds:,.0f} sessions/s "
              f"wall-clock, {created / cpu:,.0f}/s CPU of this process ({1000 * cpu / created:.1f} ms CPU per session)")


def _run() -> tuple[int, float, float]:
    from django.db import transaction

    from billing.demo import rate_finished_sessions
    from billing.models import ChargeDetailRecord, PointsEntry, PromoRedemption
    from stations.models import ChargingSession

    result = {}
    try:
        with transaction.atomic():
            PointsEntry.objects.filter(cdr__isnull=False)._raw_delete(PointsEntry.objects.db)
            PromoRedemption.objects.update(cdr=None)
            ChargeDetailRecord.objects.all()._raw_delete(ChargeDetailRecord.objects.db)
            ChargingSession.objects.filter(review_reason__startswith="Not priced").update(needs_review=False)
            started, cpu_started = time.perf_counter(), time.process_time()
            result["created"] = rate_finished_sessions()
            result["seconds"] = time.perf_counter() - started
            result["cpu"] = time.process_time() - cpu_started
            raise _Rollback
    except _Rollback:
        pass
    return result["created"], result["seconds"], result["cpu"]


if __name__ == "__main__":
    main()
