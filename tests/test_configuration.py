"""The configuration contract: embedded defaults with nothing set, real services from the environment,
production hardening from DEBUG=false, and CI really running on PostgreSQL and Redis."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "DEBUG", "SECRET_KEY")

PROBE = """
import json, django
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "debug": settings.DEBUG,
}))
"""


def settings_with(**env_vars: str) -> dict:
    """Load settings in a fresh interpreter with exactly these service variables set."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    env.update(env_vars, DJANGO_SETTINGS_MODULE="evbackoffice.settings")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_nothing_set_means_sqlite_in_memory_layer_and_inline_tasks():
    loaded = settings_with()

    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["db_name"].endswith("var/db.sqlite3")
    assert loaded["channel_layer"] == "channels.layers.InMemoryChannelLayer"
    assert loaded["broker"] == "memory://"
    assert loaded["eager"] is True
    assert loaded["debug"] is True


def test_database_url_selects_postgresql_and_redis_url_the_redis_layer_and_broker():
    loaded = settings_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/evbackoffice", REDIS_URL="redis://127.0.0.1:6379/3"
    )

    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["db_name"] == "evbackoffice"
    assert loaded["channel_layer"] == "channels_redis.core.RedisChannelLayer"
    assert loaded["broker"] == "redis://127.0.0.1:6379/3"
    assert loaded["eager"] is False


def test_rabbitmq_broker_can_replace_redis_for_celery():
    loaded = settings_with(CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//")

    assert loaded["broker"].startswith("amqp://")
    assert loaded["eager"] is False
    assert loaded["channel_layer"] == "channels.layers.InMemoryChannelLayer"


def run_deploy_check(**extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    env.update(
        DEBUG="false",
        SECRET_KEY="x7Hq9vNw2LpR4tZc8YmB3kJd6FsA1gUe5oXiQ0rVhWnTyPlMbCaKzGjDfSuEwRqNv",
        ALLOWED_HOSTS="backoffice.example.com",
        **extra,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )


def test_debug_false_passes_the_deployment_checklist():
    result = run_deploy_check()

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_proxy_doing_the_https_redirect_leaves_only_the_documented_warning():
    result = run_deploy_check(SECURE_SSL_REDIRECT="false", BEHIND_TLS_PROXY="true")

    assert result.returncode != 0
    assert "security.W008" in result.stderr
    assert result.stderr.count("(security.") == 1, result.stderr


def test_debug_false_without_secret_key_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.skipif(not os.environ.get("CI"), reason="CI must test on PostgreSQL; local runs may use SQLite")
def test_ci_runs_against_postgresql_and_redis():
    assert connection.vendor == "postgresql"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"


def test_channel_layer_delivers_a_group_message_round_trip():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("config-test", channel)
    async_to_sync(layer.group_send)("config-test", {"type": "ping", "n": 7})

    message = async_to_sync(layer.receive)(channel)

    assert message == {"type": "ping", "n": 7}
    async_to_sync(layer.group_discard)("config-test", channel)


@pytest.mark.django_db
def test_models_and_migrations_are_in_step():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_health_probe_reports_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_error_pages_are_styled_and_lead_back_without_a_500(client, settings, db):
    settings.DEBUG = False
    missing = client.get("/portal/no-such-page/")

    assert missing.status_code == 404
    page = missing.content.decode()
    assert "Page not found" in page and 'href="/"' in page and "portal.css" in page


LIFESPAN_PROBE = """
import asyncio, gc, json
from evbackoffice.asgi import application

async def main():
    sent, inbox = [], asyncio.Queue()
    for message in ({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}):
        inbox.put_nowait(message)

    async def send(message):
        sent.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            print(json.dumps({"threshold": gc.get_threshold()[0], "frozen": gc.get_freeze_count()}))

    await application({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)
    print(json.dumps(sent))

before = {"threshold": gc.get_threshold()[0], "frozen": gc.get_freeze_count()}
print(json.dumps(before))
asyncio.run(main())
"""


@pytest.mark.parametrize("threshold", ["12345", "0"])
def test_the_server_settles_its_garbage_collector_when_it_starts_not_when_the_app_is_imported(threshold):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    env.update(DJANGO_SETTINGS_MODULE="evbackoffice.settings", SERVER_GC_GEN0_THRESHOLD=threshold)
    out = subprocess.run([sys.executable, "-c", LIFESPAN_PROBE], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    imported, started, sent = (json.loads(line) for line in out.stdout.strip().splitlines())

    assert imported == {"threshold": 700, "frozen": 0}  # importing the app (tests, commands) changes nothing
    if threshold == "0":
        assert started == imported  # Python's defaults kept
    else:
        assert started["threshold"] == 12345
        assert started["frozen"] > 10_000  # Django, the apps and the libraries are frozen out of collections
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
