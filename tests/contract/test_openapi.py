"""The OpenAPI contract: generated from the code, kept in docs/, served by the local hub, and
exercised by schemathesis against a running local hub (bounded examples)."""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.platform import catalog
from local import openapi
from tests.conftest import reset_cached_clients

pytestmark = pytest.mark.aws  # runs the local hub (on moto)

DOCUMENT = json.loads(openapi.DOCUMENT_PATH.read_text())


def test_docs_openapi_json_is_what_the_code_generates():
    assert openapi.render(openapi.build()) == openapi.DOCUMENT_PATH.read_text(), (
        "docs/openapi.json is stale: run `.venv/bin/python -m local.openapi`"
    )


@pytest.mark.parametrize("route", catalog.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_is_documented_with_its_auth(route):
    operation = DOCUMENT["paths"][route.path][route.method.lower()]
    assert operation["security"] == openapi._security(route)
    assert {"400", "401", "404"} <= set(operation["responses"])


@pytest.mark.parametrize("route", catalog.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_documents_its_catalog_success_status(route):
    responses = DOCUMENT["paths"][route.path][route.method.lower()]["responses"]
    assert [status for status in responses if status.startswith("2")] == [str(route.success_status)]


@pytest.fixture(scope="module")
def hub():
    from local.hub import LocalHub

    reset_cached_clients()
    with LocalHub(port=0) as running:
        yield running
    reset_cached_clients()


def test_local_hub_serves_the_same_document(hub):
    served = requests.get(hub.base_url + openapi.SERVED_AT, timeout=10).json()
    assert served == DOCUMENT


schema = schemathesis.openapi.from_dict(DOCUMENT)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_contract(case, hub):
    case.call_and_validate(
        base_url=hub.base_url,
        headers={"X-API-Key": hub.dev_api_key, "X-Admin-Key": hub.admin_key},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance],
    )
