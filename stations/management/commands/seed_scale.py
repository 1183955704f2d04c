"""Seed a large network for the admin and dashboard benchmarks: `manage.py seed_scale --stations 2000
--sessions 1000000`. Stations named SCALE-nnnnn on locations of four, two EVSEs each, sessions spread over
--days days back from now (about a tenth of the connectors charging now), charge records for the sessions of
the last --cdr-days days, and a short journal and status history per station.

PostgreSQL gets the rows through COPY (psycopg), SQLite through executemany in batches. Refuses to run twice
(SCALE- stations already there): the data set is the benchmark's fixture, not something to top up.
"""

import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.management import color
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from billing.models import ChargeDetailRecord
from stations.models import ChargePoint, ChargingSession, Connector, Evse, Location, OcppMessage, StatusEvent

PREFIX = "SCALE-"
BATCH = 20_000
PRICE_PER_KWH_EXCL_VAT = Decimal("0.4950")
VAT = Decimal("1.19")
CITIES = (("Berlin", "10115", "52.52", "13.40"), ("München", "80331", "48.14", "11.58"),
          ("Hamburg", "20095", "53.55", "9.99"), ("Köln", "50667", "50.94", "6.96"),
          ("Leipzig", "04109", "51.34", "12.37"))


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--stations", type=int, default=2000)
        parser.add_argument("--sessions", type=int, default=1_000_000)
        parser.add_argument("--days", type=int, default=365, help="History the sessions spread over.")
        parser.add_argument("--cdr-days", type=int, default=90, help="Days of charge records (newest sessions).")
        parser.add_argument("--seed", type=int, default=8)

    def handle(self, *args, stations, sessions, days, cdr_days, seed, **options):
        if stations < 1 or sessions < 0 or days < 1:
            raise CommandError("--stations and --days must be positive, --sessions not negative.")
        if ChargePoint.objects.filter(identity__startswith=PREFIX).exists():
            raise CommandError(f"{PREFIX} stations exist already: this command seeds an empty network once.")
        rng = random.Random(seed)
        now = datetime.now(UTC).replace(microsecond=0)
        started = time.monotonic()
        with transaction.atomic():
            connectors = self._network(stations, rng, now)
            self._say(started, f"{stations} stations, {len(connectors)} connectors")
            counts = SessionWriter(rng, now, days, cdr_days).write(connectors, sessions)
            self._say(started, f"{counts[0]} sessions, {counts[1]} charge records")
            self._history(rng, now)
            _reset_sequences()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self._say(started, "done")

    def _say(self, started: float, text: str) -> None:
        self.stdout.write(f"[{time.monotonic() - started:6.1f} s] {text}")

    def _network(self, count: int, rng: random.Random, now: datetime) -> list[tuple[int, int, int, int]]:
        """(connector pk, EVSE pk, station pk, location pk) of every connector created."""
        locations = Location.objects.bulk_create([
            Location(code=f"scale-{n:05d}", name=f"Scale park {n:05d}", address=f"Teststraße {n}",
                     postal_code=city[1], city=city[0], country="DE", latitude=Decimal(city[2]),
                     longitude=Decimal(city[3]), time_zone="Europe/Berlin")
            for n, city in ((n, CITIES[n % len(CITIES)]) for n in range((count + 3) // 4))], batch_size=1000)
        stations = ChargePoint.objects.bulk_create([
            ChargePoint(identity=f"{PREFIX}{n:05d}", location=locations[n // 4], vendor="Alfen", model="Eve Double",
                        firmware_version="6.1.2", serial_number=f"SN{n:08d}",
                        registration_status=ChargePoint.RegistrationStatus.ACCEPTED,
                        is_connected=rng.random() < 0.95, last_seen_at=now - timedelta(seconds=rng.randrange(600)),
                        connected_at=now - timedelta(days=rng.randrange(30)), status="Available")
            for n in range(count)], batch_size=1000)
        evses = Evse.objects.bulk_create([
            Evse(charge_point=station, ocpp_evse_id=number, evse_id=f"DE*SCL*E{station.pk:06d}*{number}")
            for station in stations for number in (1, 2)], batch_size=2000)
        connectors = Connector.objects.bulk_create([
            Connector(evse=evse, standard=Connector.Standard.TYPE2, format=Connector.Format.SOCKET,
                      power_type=Connector.PowerType.AC_3_PHASE, max_voltage_v=400, max_amperage_a=32,
                      max_power_w=22000, status=rng.choices(("Available", "Faulted", "Unavailable"), (97, 2, 1))[0],
                      status_changed_at=now - timedelta(hours=rng.randrange(48)))
            for evse in evses], batch_size=2000)
        by_evse = {evse.pk: evse for evse in evses}
        return [(c.pk, c.evse_id, by_evse[c.evse_id].charge_point_id, by_evse[c.evse_id].charge_point.location_id)
                for c in connectors]

    def _history(self, rng: random.Random, now: datetime) -> None:
        """A few journal frames and status reports per station, for the station view."""
        stations = list(ChargePoint.objects.filter(identity__startswith=PREFIX).values_list("pk", flat=True))
        frames = [(pk, "in", 2, f"{pk}-{k}", "Heartbeat", '[2,"x","Heartbeat",{}]', now - timedelta(minutes=5 * k))
                  for pk in stations for k in range(10)]
        copy_rows(OcppMessage, ("charge_point_id", "direction", "message_type", "unique_id", "action", "frame",
                                "created_at"), frames)
        statuses = [(pk, None, rng.choice(("Available", "Faulted")), rng.choice(("NoError", "GroundFailure")), "",
                     "", "", now - timedelta(hours=k), now - timedelta(hours=k)) for pk in stations for k in range(5)]
        copy_rows(StatusEvent, ("charge_point_id", "connector_id", "status", "error_code", "info", "vendor_id",
                                "vendor_error_code", "timestamp", "received_at"), statuses)


class SessionWriter:
    """Sessions per connector, one after another, none overlapping; the newest may still be running."""

    SESSION_COLUMNS = ("id", "charge_point_id", "transaction_id", "evse_id", "connector_id", "id_tag", "started_at",
                       "stopped_at", "meter_start_wh", "meter_stop_wh", "stop_reason", "state", "id_tag_status",
                       "needs_review", "review_reason", "created_at", "updated_at")
    CDR_COLUMNS = ("ocpi_id", "kind", "session_id", "reason", "token_uid", "contract_id", "location_id",
                   "location_snapshot", "charge_point_identity", "transaction_id", "tariff_snapshot", "currency",
                   "start_date_time", "end_date_time", "total_energy_wh", "total_time_s", "total_parking_time_s",
                   "charging_periods", "tariff_cost_excl_vat", "tariff_cost_incl_vat", "discount_excl_vat",
                   "discount_incl_vat", "total_cost_excl_vat", "total_cost_incl_vat", "cost_breakdown",
                   "vat_breakdown", "discounts", "explanation", "driver_explanation", "created_at")

    def __init__(self, rng: random.Random, now: datetime, days: int, cdr_days: int):
        self.rng, self.now, self.days = rng, now, days
        self.cdr_since = now - timedelta(days=cdr_days)
        self.next_id = (ChargingSession.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        self.transactions: dict[int, int] = {}
        self.identities = dict(ChargePoint.objects.filter(identity__startswith=PREFIX).values_list("pk", "identity"))

    def write(self, connectors: list[tuple[int, int, int, int]], total: int) -> tuple[int, int]:
        sessions, cdrs, written = [], [], [0, 0]
        per_connector, extra = divmod(total, len(connectors))
        for index, connector in enumerate(connectors):
            for row, cdr in self._for_connector(connector, per_connector + (index < extra)):
                sessions.append(row)
                if cdr is not None:
                    cdrs.append(cdr)
            if len(sessions) >= BATCH:
                written = self._flush(sessions, cdrs, written)
        return self._flush(sessions, cdrs, written)

    def _flush(self, sessions: list, cdrs: list, written: list[int]) -> list[int]:
        copy_rows(ChargingSession, self.SESSION_COLUMNS, sessions)
        copy_rows(ChargeDetailRecord, self.CDR_COLUMNS, cdrs)
        written = [written[0] + len(sessions), written[1] + len(cdrs)]
        sessions.clear()
        cdrs.clear()
        return written

    def _for_connector(self, connector: tuple[int, int, int, int], count: int):
        connector_pk, evse_pk, station_pk, location_pk = connector
        if count == 0:
            return
        slot = timedelta(days=self.days) / count
        meter = self.rng.randrange(1_000_000)
        charging_now = self.rng.random() < 0.1
        for k in range(count):
            begin = self.now - timedelta(days=self.days) + slot * k
            start = begin + slot * self.rng.uniform(0, 0.5)
            active = charging_now and k == count - 1
            minutes = self.rng.randint(20, 240)
            stop = min(start + timedelta(minutes=minutes), begin + slot, self.now)
            energy_wh = 0 if active else int((stop - start).total_seconds() / 3600 * self.rng.uniform(3_000, 11_000))
            transaction = self.transactions[station_pk] = self.transactions.get(station_pk, 0) + 1
            review = self.rng.random() < 0.001
            session_id = self.next_id
            self.next_id += 1
            yield (session_id, station_pk, str(transaction), evse_pk, connector_pk, f"SCL{connector_pk:08X}",
                   start, None if active else stop, meter, None if active else meter + energy_wh,
                   "" if active else "EVDisconnected", "active" if active else "completed", "Accepted", review,
                   "Seeded for review." if review else "", start, stop), (
                None if active or start < self.cdr_since else self._cdr(session_id, location_pk, station_pk,
                                                                       transaction, connector_pk, start, stop,
                                                                       energy_wh))
            meter += energy_wh

    def _cdr(self, session_id, location_pk, station_pk, transaction, connector_pk, start, stop, energy_wh):
        excl = (PRICE_PER_KWH_EXCL_VAT * energy_wh / 1000).quantize(Decimal("0.01"))
        incl = (excl * VAT).quantize(Decimal("0.01"))
        return (f"SCL{session_id:012d}", "charge", session_id, "", f"SCL{connector_pk:08X}", "", location_pk, "{}",
                self.identities[station_pk], str(transaction), "{}", "EUR", start, stop, energy_wh,
                int((stop - start).total_seconds()), 0, "[]", excl, incl, Decimal(0), Decimal(0), excl, incl, "{}",
                "[]", "[]", "[]", "[]", stop)


def copy_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY on PostgreSQL; executemany elsewhere (values adapted as Django would for that database)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        by_column = {field.column: field for field in model._meta.concrete_fields}
        fields = [by_column[column] for column in columns]
        adapted = [[value if value is None or isinstance(value, str) else field.get_db_prep_save(value, connection)
                    for field, value in zip(fields, row, strict=True)] for row in rows]
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", adapted)


def _reset_sequences() -> None:
    """Sessions were written with explicit ids: move the id sequence past them (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(color.no_style(), [ChargingSession])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
