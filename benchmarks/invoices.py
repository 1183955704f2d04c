"""How many invoices one worker issues and renders per second, for a 30-line invoice, against a bare WeasyPrint
render of the same HTML; whether memory stays flat over many renders; and what that means for a month close.

    python benchmarks/invoices.py [--database-url URL] [--invoices 40] [--lines 30] [--memory-renders 2000]

Phases, in one process (one worker's work; the embedded default runs Celery tasks inline, so `invoice_issue`
renders and stores the PDF in its after-commit hook exactly as a worker's `billing.render_invoice_pdf` would):

1. bare: `weasyprint.HTML(string=html).write_pdf(stylesheets=[CSS(filename=invoice.css)])` of the same HTML,
   as a plain WeasyPrint user would call it (fresh stylesheet and fonts each time, WeasyPrint's defaults).
2. render: `render_invoice_pdf_bytes(invoice)` of issued invoices (context, template, PDF).
3. issue + render + store: `invoice_issue` of fresh 30-line drafts (totals, snapshots, gapless number, then the
   PDF written to private storage with its SHA-256), per invoice.
4. memory: RSS every 250 renders over `--memory-renders` renders.
Each figure is wall-clock and CPU time of the process (the second is steadier on a shared machine). The month
close estimate is 10,000 invoices over two workers on two cores, from phase 3's CPU time per invoice.

Defaults to SQLite in a temporary folder; `--database-url postgres://postgres@127.0.0.1:5432/evb_bench_inv`
(created if missing) is closer to production. Refuses a PostgreSQL database whose name lacks "bench".
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--invoices", type=int, default=40, help="invoices issued and rendered in phase 3")
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--bare", type=int, default=10, help="bare renders in phase 1")
    parser.add_argument("--memory-renders", type=int, default=2000)
    parser.add_argument("--einvoice", action="store_true", help="company customers: Factur-X PDF/A-3b e-invoices")
    return parser.parse_args()


def setup_django(database_url: str, scratch: Path) -> None:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["PRIVATE_STORAGE_ROOT"] = str(scratch / "private")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.pop("REDIS_URL", None), os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evbackoffice.settings")
    if database_url.startswith("postgres"):
        ensure_postgres_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_postgres_database(url: str) -> None:
    import urllib.parse

    import psycopg

    name = urllib.parse.urlparse(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing to write benchmark data into {name!r}: use a database whose name contains 'bench'.")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def make_drafts(count: int, lines: int, run: str, einvoice: bool) -> list:
    """`count` draft invoices of `lines` charging lines each, for fresh customers (one period per run)."""
    from billing.models import Invoice, InvoiceLine, OperatorProfile
    from customers.models import Customer

    OperatorProfile.objects.get_or_create(singleton=True, defaults=dict(
        legal_name="Voltpark Charging GmbH", address_line1="Invalidenstrasse 117", postal_code="10115", city="Berlin",
        country="DE", vat_id="DE123456789", registration="Amtsgericht Berlin HRB 123456 B",
        email="billing@voltpark.example", iban="DE89370400440532013000", bic="COBADEFFXXX", bank_name="Berliner Bank",
    ))  # fmt: skip
    drafts = []
    for n in range(count):
        customer = Customer.objects.create(
            kind=Customer.Kind.COMPANY if einvoice else Customer.Kind.PERSON, name=f"Fleet {run}-{n} GmbH",
            email=f"fleet{run}{n}@example.com", address_line1="Hauptstrasse 5", postal_code="10115", city="Berlin",
            country="DE", currency="EUR",
        )
        invoice = Invoice.objects.create(customer=customer, currency="EUR", period_start=date(2026, 6, 1),
                                         period_end=date(2026, 7, 1))  # fmt: skip
        InvoiceLine.objects.bulk_create([
            InvoiceLine(invoice=invoice, position=p, kind=InvoiceLine.Kind.CHARGING,
                        description=f"Charging at Alexanderplatz {p % 7 + 1}, DE*EVB*E{p:05d}",
                        service_start=datetime(2026, 6, p % 28 + 1, 8, tzinfo=UTC), energy_wh=12_345 + p,
                        duration_s=3_600 + 60 * p, quantity=Decimal("1"), unit="session",
                        unit_price_excl_vat=Decimal("4.8146"), net_amount=Decimal("4.8146"), vat_rate=Decimal(19))
            for p in range(1, lines + 1)
        ])  # fmt: skip
        drafts.append(invoice)
    return drafts


def timed(function, repeat: int) -> tuple[float, float]:
    """(wall s, CPU s) per call."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - wall) / repeat, (time.process_time() - cpu) / repeat


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="evb-bench-inv-"))
    setup_django(args.database_url, scratch)
    from django.db import connection
    from weasyprint import CSS, HTML

    from billing.invoicing import invoice_issue
    from billing.invoicing.pdf import STYLESHEET, render_invoice_html, render_invoice_pdf_bytes
    from billing.models import Invoice

    run = datetime.now().strftime("%H%M%S")
    kind = "Factur-X e-invoices" if args.einvoice else "PDF invoices"
    print(f"database: {connection.vendor}; {args.lines}-line {kind}; PID {os.getpid()}")
    warm = make_drafts(2, args.lines, run + "w", args.einvoice)
    sample = [invoice_issue(invoice=draft) for draft in warm]  # warms templates, fonts, stylesheets
    invoice = Invoice.objects.select_related("credited_invoice").get(pk=sample[0].pk)
    html = render_invoice_html(invoice)
    HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])

    bare = timed(lambda: HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))]), args.bare)
    print(f"1 bare WeasyPrint render:      {bare[0]:.3f} s wall, {bare[1]:.3f} s CPU per invoice")
    render = timed(lambda: render_invoice_pdf_bytes(invoice), args.bare)
    print(f"2 render_invoice_pdf_bytes:    {render[0]:.3f} s wall, {render[1]:.3f} s CPU per invoice "
          f"(x{render[1] / bare[1]:.2f} of bare, CPU)")

    drafts = iter(make_drafts(args.invoices, args.lines, run, args.einvoice))
    issued = timed(lambda: invoice_issue(invoice=next(drafts)), args.invoices)
    done = Invoice.objects.filter(customer__name__startswith=f"Fleet {run}-").exclude(pdf_sha256="").count()
    print(f"3 issue + render + store:      {issued[0]:.3f} s wall, {issued[1]:.3f} s CPU per invoice "
          f"= {1 / issued[0]:.2f} invoices/s per worker (x{issued[1] / bare[1]:.2f} of bare, CPU); "
          f"{done}/{args.invoices} with their PDF stored")
    month = 10_000 * issued[1] / 2 / 60
    print(f"  month close, 10,000 invoices, two workers on two cores: {month:.1f} min "
          f"({'within' if month <= 30 else 'OVER'} 30 min; needs <= 0.36 s per invoice per worker)")

    if args.memory_renders:
        print(f"4 memory over {args.memory_renders} renders (RSS MB):", flush=True)
        start = rss_mb()
        print(f"  {0:>5}: {start:.1f}", flush=True)
        for n in range(1, args.memory_renders + 1):
            render_invoice_pdf_bytes(invoice)
            if n % 250 == 0:
                print(f"  {n:>5}: {rss_mb():.1f}", flush=True)
        print(f"  growth: {rss_mb() - start:+.1f} MB")


if __name__ == "__main__":
    main()
