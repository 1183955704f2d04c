"""Database access for the OCPP server: a pool of threads, each with its own Django connection.

Channels' `database_sync_to_async` runs every ORM call of the whole process in one shared thread, so one
slow transaction stalls every station. Handlers instead run their service in this pool; a station's own
messages stay in order because its consumer awaits each one before reading the next.
"""

import asyncio
import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

_executor: ThreadPoolExecutor | None = None
_writer_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=settings.OCPP_DB_THREADS, thread_name_prefix="ocpp-db"
            )
        return _executor


def _writer_pool() -> ThreadPoolExecutor:
    """The group writer's own thread; with one database thread configured, that one. SQLite (the embedded
    setup, whose default is one) takes one writing transaction at a time: a batch committing beside a handler's
    transaction failed one of them with "database table is locked"."""
    if settings.OCPP_DB_THREADS == 1:
        return _pool()
    global _writer_executor
    with _lock:
        if _writer_executor is None:
            _writer_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocpp-writer")
        return _writer_executor


def _run(fn, args, kwargs):
    close_old_connections()  # drop connections that broke or outlived CONN_MAX_AGE
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


async def run_db(fn, /, *args, **kwargs):
    """Run a synchronous, database-touching function in the pool and return its result.

    Through asgiref (not a bare run_in_executor) so that async_to_sync inside, e.g. a channel-layer send
    after commit, runs on this event loop rather than on a private one.
    """
    return await sync_to_async(_run, thread_sensitive=False, executor=_pool())(fn, args, kwargs)


async def run_in_writer_thread(fn, /, *args):
    """Run `fn` in the group writer's own thread, whose connection stays open between batches.

    Unlike run_db: no queueing behind the handlers' work in the pool, no connection checks before and after
    (each would cost a round trip per batch; the batch replaces a connection that failed it), and no asgiref
    hop (the batch sends nothing through async_to_sync; its live events go out from the loop)."""
    return await asyncio.get_running_loop().run_in_executor(_writer_pool(), functools.partial(fn, *args))


def close_pool() -> None:
    """Close every pool thread's database connection and retire the pools (tests, shutdown)."""
    global _executor, _writer_executor
    with _lock:
        executor, _executor = _executor, None
        writer, _writer_executor = _writer_executor, None
    for pool in (writer, executor):
        if pool is not None:
            _close_connections(pool)


def _close_connections(executor: ThreadPoolExecutor) -> None:
    workers = executor._max_workers
    barrier = threading.Barrier(workers)

    def close_in_this_thread():
        barrier.wait(timeout=10)  # holds each thread until all have a task, so every thread runs one
        connections.close_all()

    for future in [executor.submit(close_in_this_thread) for _ in range(workers)]:
        future.result(timeout=15)
    executor.shutdown(wait=True)
