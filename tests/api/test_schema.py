"""The OpenAPI description of the API and its Swagger UI page."""

import json

from django.core.management import call_command
from drf_spectacular.validation import validate_schema


def test_schema_endpoint_serves_valid_openapi_describing_every_endpoint(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)
    for path in ["/api/v1/locations/", "/api/v1/charge-points/{id}/", "/api/v1/customers/", "/api/v1/tokens/{id}/"]:
        assert path in schema["paths"]
    assert "delete" not in schema["paths"]["/api/v1/charge-points/{id}/"]
    charge_point_request = schema["components"]["schemas"]["ChargePointRequest"]["properties"]
    assert "password" in charge_point_request and "is_connected" not in charge_point_request
    assert "password" not in schema["components"]["schemas"]["ChargePoint"]["properties"]


def test_schema_generation_raises_no_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (unresolvable type, enum name clash, ...) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def test_swagger_ui_page_is_served_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/schema/" in page
    assert "drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn.jsdelivr.net" not in page
