"""Playwright's sync API on a thread of its own, used from the test's thread through transparent proxies.

Between two calls, Playwright's sync API marks its event loop as running in the thread that started it, and
Django refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation). Started in the test's
thread, one browser for the whole session would therefore break every database access that follows, in this
test and in every later one. So Playwright lives on a single dedicated thread; every object it hands out
(browser, context, page, locator, assertions) reaches the test wrapped in `Remote`, whose attribute reads and
method calls run on that thread and return (wrapped) results. Tests read as plain Playwright code:

    page.get_by_label("E-mail").fill("driver@example.com")
    expect(page.get_by_role("heading")).to_have_text("Sign in")

and the test's thread stays free for the ORM. Callbacks given to Playwright (page.on(...)) run on its thread:
keep them to collecting data, without database access.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class PlaywrightThread:
    """The one thread that owns Playwright; `call` runs a function there and returns its result."""

    def __init__(self):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")

    def call(self, fn: Callable, /, *args, **kwargs) -> Any:
        return self._executor.submit(fn, *args, **kwargs).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


def _is_playwright_object(value: Any) -> bool:
    return type(value).__module__.startswith("playwright.") and not isinstance(value, BaseException)


class Remote:
    """A Playwright object that lives on the Playwright thread."""

    __slots__ = ("_target", "_thread")

    def __init__(self, target: Any, thread: PlaywrightThread):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_thread", thread)

    def __getattr__(self, name: str) -> Any:
        value = self._thread.call(getattr, self._target, name)
        if callable(value) and not _is_playwright_object(value):
            return _RemoteMethod(value, self._thread)
        return wrap(value, self._thread)

    def __setattr__(self, name: str, value: Any) -> None:
        self._thread.call(setattr, self._target, name, unwrap(value))

    def __enter__(self):
        return wrap(self._thread.call(self._target.__enter__), self._thread)

    def __exit__(self, *exc) -> Any:
        return self._thread.call(self._target.__exit__, *exc)

    def __iter__(self):
        return iter(wrap(self._thread.call(list, self._target), self._thread))

    def __repr__(self) -> str:
        return f"Remote({self._thread.call(repr, self._target)})"


class _RemoteMethod:
    __slots__ = ("_method", "_thread")

    def __init__(self, method: Callable, thread: PlaywrightThread):
        self._method, self._thread = method, thread

    def __call__(self, *args, **kwargs) -> Any:
        result = self._thread.call(self._method, *unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()})
        return wrap(result, self._thread)


def wrap(value: Any, thread: PlaywrightThread) -> Any:
    if isinstance(value, list):
        return [wrap(item, thread) for item in value]
    if _is_playwright_object(value):
        return Remote(value, thread)
    return value


def unwrap(value: Any) -> Any:
    if isinstance(value, Remote):
        return object.__getattribute__(value, "_target")
    if isinstance(value, tuple):
        return tuple(unwrap(item) for item in value)
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def thread_of(value: Remote) -> PlaywrightThread:
    return object.__getattribute__(value, "_thread")


def expect(actual: Remote, message: str | None = None) -> Remote:
    """playwright.sync_api.expect for a proxied page or locator (its assertions run on the Playwright thread)."""
    from playwright.sync_api import expect as playwright_expect

    thread = thread_of(actual)
    return wrap(thread.call(playwright_expect, unwrap(actual), message), thread)
