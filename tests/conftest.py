import contextlib

import pytest
from rest_framework.test import APIClient

from tests.factories import StaffUserFactory, UserFactory

# Tests make many users and stations; production work factors would dominate the run. What is stored is
# still a salted hash, so "never stored in clear" stays observable.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "stations.hashers.StationPasswordHasher"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def staff_second_factor(settings):
    """Tests sign staff in with force_login, which has no second factor: 2FA is off here and on in tests/staff/
    (and wherever a test asks for it by overriding this fixture)."""
    settings.STAFF_2FA_REQUIRED = False


@pytest.fixture(scope="session", autouse=True)
def private_files_in_a_temporary_folder(tmp_path_factory):
    """Documents the tests render (invoice PDFs) go to a temporary folder, never into the checkout's var/."""
    from django.conf import settings
    from django.test import override_settings

    storages = {**settings.STORAGES, "default": {**settings.STORAGES["default"],
                                                 "OPTIONS": {"location": str(tmp_path_factory.mktemp("private"))}}}
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture(scope="session", autouse=True)
def celery_tasks_run_inline():
    """Tests in this process run Celery tasks inline, as the embedded default does, also when CI points the
    broker at Redis (nothing consumes that queue here). tests/e2e/test_billing_worker.py runs a real worker."""
    from evbackoffice.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def staff_user(db):
    return StaffUserFactory()


@pytest.fixture
def driver_user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def staff_api_client(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@contextlib.contextmanager
def serve_asgi(**config):
    """Serve the product's ASGI application with a real uvicorn server on a free loopback port, in a thread of
    the test process so that it shares the test database. Yields the base URL."""
    import asyncio
    import socket
    import threading
    import time

    import uvicorn
    from channels.layers import channel_layers
    from django.db import connections

    from evbackoffice.asgi import application

    # A channel layer belongs to the event loop that receives on it (channels_redis refuses a second loop). A
    # previous server's thread can still be winding down on a loaded machine, so each server gets its own.
    channel_layers.backends.clear()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Each request runs in a thread of its own context (asgiref's ThreadSensitiveContext) that ends with the
    # request; a connection kept for reuse (CONN_MAX_AGE) would outlive its thread, unreachable, and keep
    # PostgreSQL from dropping the test database at the end of the session. While serving, none is kept.
    kept_for_s = {alias: connections.settings[alias].get("CONN_MAX_AGE", 0) for alias in connections}
    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 0
    options = {"lifespan": "off", "log_level": "warning", "ws_ping_interval": None, **config}
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        if thread.is_alive():
            thread.join(timeout=30)
        close_background_connections()
        for alias, seconds in kept_for_s.items():
            connections.settings[alias]["CONN_MAX_AGE"] = seconds


@pytest.fixture(scope="session", autouse=True)
def background_connections_closed_at_the_end(django_db_setup, django_db_blocker):
    """Consumer tests run the OCPP database pool in-process, outside any live server; its threads' connections
    would stay open to the end of the run, and PostgreSQL refuses to drop a test database that is still in use.
    Requesting django_db_setup makes this teardown run before the databases are dropped."""
    yield
    with django_db_blocker.unblock():
        close_background_connections()


@pytest.fixture
def live_asgi_server(transactional_db):
    with serve_asgi() as url:
        yield url


def close_background_connections() -> None:
    """Close the database connections that async code opened in worker threads (asgiref's thread-sensitive
    executor, the OCPP pool); PostgreSQL refuses to drop the test database while they are open."""
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from stations.protocol.db import close_pool

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
    close_pool()
