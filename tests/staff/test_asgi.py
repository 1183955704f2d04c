"""Under the real ASGI server (uvicorn), the audit scope set by the middleware reaches the view's thread: an API
write by a staff token is recorded under its user and the client address."""

import json
import urllib.error
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from staff.models import AuditEntry
from staff.roles import SUPPORT
from tests.factories import IdTokenFactory
from tests.staff.conftest import staff_member

pytestmark = pytest.mark.e2e


def _request(url: str, method: str = "GET", body: dict | None = None, headers: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_token_write_through_the_asgi_server_is_audited_under_the_tokens_user(live_asgi_server):
    support = staff_member(SUPPORT)
    token = IdTokenFactory()
    key = Token.objects.create(user=support).key

    status = _request(f"{live_asgi_server}/api/v1/tokens/{token.pk}/", "PATCH", {"status": "blocked"},
                      {"Authorization": f"Token {key}"})

    assert status == 200
    entry = AuditEntry.objects.get(object_pk=str(token.pk), content_type__model="idtoken")
    assert entry.actor == support and entry.after == {"status": "blocked"} and entry.ip_address == "127.0.0.1"
