"""The ASGI application behind a real uvicorn server answers as an operator's browser expects."""

import urllib.request

import pytest

pytestmark = pytest.mark.e2e


def fetch(url: str) -> tuple[int, dict, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


def test_admin_login_page_is_served_with_its_stylesheet(live_asgi_server):
    status, headers, body = fetch(f"{live_asgi_server}/admin/login/")

    assert status == 200
    assert "Log in" in body and 'name="csrfmiddlewaretoken"' in body
    assert "csrftoken" in headers.get("set-cookie", "")

    css_status, css_headers, css = fetch(f"{live_asgi_server}/static/admin/css/base.css")
    assert css_status == 200
    assert "text/css" in css_headers["content-type"]


def test_root_sends_visitors_to_the_charger_map_and_health_probe_answers(live_asgi_server):
    status, _, body = fetch(f"{live_asgi_server}/")  # urllib follows the redirect

    assert status == 200 and "Find a charger" in body
    health_status, _, health = fetch(f"{live_asgi_server}/healthz")
    assert health_status == 200 and '"status": "ok"' in health
