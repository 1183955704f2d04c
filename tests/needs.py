"""What some tests need from the machine (Chromium, Node, localstripe, PostgreSQL and Redis for other
processes). A developer's machine without it skips those tests and says why; CI (CI=true, set by .ci/run)
provides all of it, so there a missing piece fails the test instead of hiding it behind a skip."""

import os

import pytest


def missing(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run this test, but: {reason}", pytrace=False)
    pytest.skip(reason)
