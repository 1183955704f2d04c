"""Money to invoice across processes: an issued invoice's PDF is rendered by a real Celery worker process taking
the message from Redis, and lands in that worker's private storage with its SHA-256."""

import hashlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from billing.invoicing import invoice_issue
from billing.invoicing.rendering import render_invoice_pdf
from billing.models import Invoice
from evbackoffice.celery import app
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory
from tests.e2e.conftest import BASE_DIR, process_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def pdf_worker(transactional_db, tmp_path):
    """A worker on a queue of its own (no other test's tasks reach it), with its own private storage folder."""
    queue = f"e2e-pdf-{uuid.uuid4().hex[:8]}"
    private = tmp_path / "private"
    env = process_env(CELERY_TASK_DEFAULT_QUEUE=queue, CELERY_TASK_ALWAYS_EAGER="false",
                      PRIVATE_STORAGE_ROOT=str(private))
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "evbackoffice", "worker", "--pool", "solo", "--queues", queue,
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        yield queue, private, log_path
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def test_a_worker_renders_an_issued_invoice_into_private_storage(pdf_worker, monkeypatch, eventually):
    queue, private, log_path = pdf_worker
    OperatorProfileFactory()
    draft = InvoiceFactory()
    InvoiceLineFactory(invoice=draft)
    # In this process tasks run inline: issue without the inline render, then send a real message.
    monkeypatch.setattr(render_invoice_pdf, "delay_on_commit", lambda *args: None)
    invoice = invoice_issue(invoice=draft)
    app.conf.task_always_eager = False
    try:
        render_invoice_pdf.apply_async((invoice.pk,), queue=queue)
    finally:
        app.conf.task_always_eager = True  # as tests/conftest.py's autouse fixture set it

    stored = eventually(lambda: Invoice.objects.filter(pk=invoice.pk).exclude(pdf_sha256="").first(), timeout=60,
                        what=f"the worker to render the PDF (worker log: {log_path})")
    path = private / stored.pdf.name
    assert path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == stored.pdf_sha256
    assert path.read_bytes().startswith(b"%PDF-") and stored.pdf_rendered_at and stored.pdf_error == ""
    assert "billing.render_invoice_pdf" in Path(log_path).read_text(errors="replace")
