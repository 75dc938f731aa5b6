"""Tenant keys in the cloud (API Gateway keys on moto): no failure leaves a key the gateway accepts without a
tenant row, API Gateway throttling is a 503 with Retry-After, and no usage plans means no tenants."""

from __future__ import annotations

import json

import boto3
import pytest

from hub.platform import catalog, ddb, settings
from hub.tenants import api_keys_store as api_keys
from local import resources
from tests.conftest import ADMIN_KEY
from tests.faults.test_fault_injection import FailingClient


def gateway():
    return boto3.client("apigateway")


def gateway_keys() -> list[dict]:
    return gateway().get_api_keys(includeValues=True)["items"]


def tenant_rows() -> list[dict]:
    return ddb.client().scan(TableName=ddb.name(catalog.TENANTS))["Items"]


@pytest.fixture
def cloud(aws, monkeypatch):
    """The admin function as the stack configures it: no HUB_LOCAL, its operator-key secret, REST API and
    USAGE_PLAN_IDS naming a real usage plan."""
    plan_id = gateway().create_usage_plan(name="default")["id"]
    secret = boto3.client("secretsmanager").create_secret(Name=resources.ADMIN_KEY_SECRET_NAME, SecretString=ADMIN_KEY)
    monkeypatch.setenv("ADMIN_KEY_SECRET_ARN", secret["ARN"])
    monkeypatch.setenv("REST_API_ID", gateway().create_rest_api(name="hub")["id"])
    monkeypatch.setenv("HUB_LOCAL", "false")
    monkeypatch.setenv("USAGE_PLAN_IDS", json.dumps({"default": plan_id}))
    client = api_keys.client  # tests replace it with a failing one
    settings.load.cache_clear()
    client.cache_clear()
    yield plan_id
    settings.load.cache_clear()
    client.cache_clear()


def failing_gateway(monkeypatch, operation: str, code: str, times: int = 1) -> FailingClient:
    """API Gateway failing the named call `times` times, then working."""
    failing = FailingClient(api_keys.client(), operation, code, times)
    monkeypatch.setattr(api_keys, "client", lambda: failing)
    return failing


def test_a_cloud_tenant_gets_an_enabled_key_in_its_plan(api, cloud):
    created = api.create_tenant()
    [key] = gateway_keys()
    assert key["enabled"] is True and key["value"] == created["apiKey"]
    assert [k["id"] for k in gateway().get_usage_plan_keys(usagePlanId=cloud)["items"]] == [key["id"]]


def test_without_usage_plans_a_cloud_deployment_refuses_tenants(api, cloud, monkeypatch):
    monkeypatch.delenv("USAGE_PLAN_IDS")
    reply = api.call("POST", "/api/admin/tenants", body={"name": "acme"}, admin=True)
    assert (reply.status, reply.error_code) == (500, "NOT_CONFIGURED")
    assert "USAGE_PLAN_IDS" in reply.json["error"]["message"]
    assert gateway_keys() == [] and tenant_rows() == []


def test_the_local_hub_needs_no_usage_plans(api, aws):
    assert settings.load().local
    api.create_tenant()
    assert gateway_keys() == []


@pytest.mark.parametrize("operation", ["create_api_key", "create_usage_plan_key", "update_api_key"])
def test_api_gateway_throttling_is_a_503_with_retry_after_and_leaves_nothing(api, cloud, monkeypatch, operation):
    failing_gateway(monkeypatch, operation, "TooManyRequestsException")
    reply = api.call("POST", "/api/admin/tenants", body={"name": "acme"}, admin=True)
    assert (reply.status, reply.error_code, reply.headers.get("retry-after")) == (503, "UNAVAILABLE", "1")
    assert gateway_keys() == [] and tenant_rows() == []


def test_a_failed_tenant_commit_leaves_no_key_and_at_worst_a_disabled_one(api, cloud, monkeypatch):
    failing = FailingClient(ddb.client(), "transact_write_items", "ValidationException")
    monkeypatch.setattr(ddb, "client", lambda: failing)
    assert api.call("POST", "/api/admin/tenants", body={"name": "acme"}, admin=True).status == 500
    assert gateway_keys() == []
    # The cleanup failing too leaves the key disabled: the gateway refuses it.
    failing.remaining = 1
    failing_gateway(monkeypatch, "delete_api_key", "InternalServerError")
    assert api.call("POST", "/api/admin/tenants", body={"name": "acme"}, admin=True).status == 500
    assert [k["enabled"] for k in gateway_keys()] == [False]
    assert tenant_rows() == []


def test_a_failed_enable_undoes_the_tenant_and_its_key(api, cloud, monkeypatch):
    failing_gateway(monkeypatch, "update_api_key", "InternalServerError")
    assert api.call("POST", "/api/admin/tenants", body={"name": "acme"}, admin=True).status >= 500
    assert gateway_keys() == [] and tenant_rows() == []


def test_revocation_deletes_the_gateway_key_before_the_rows(api, cloud, monkeypatch):
    created = api.create_tenant()
    failing_gateway(monkeypatch, "delete_api_key", "InternalServerError")
    failed = api.call("DELETE", f"/api/admin/tenants/{created['tenantId']}", admin=True)
    assert failed.status >= 500
    # Nothing changed: the key still works in the gateway and in the hub, and the operator can retry.
    assert [k["enabled"] for k in gateway_keys()] == [True]
    assert api.call("GET", "/api/usage", api_key=created["apiKey"]).status == 200
    revoked = api.call("DELETE", f"/api/admin/tenants/{created['tenantId']}", admin=True)
    assert revoked.status == 200 and revoked.data["purge"]["complete"] is True
    assert gateway_keys() == [] and tenant_rows() == []


def test_revocation_retried_after_the_key_is_gone_finishes(api, cloud, monkeypatch):
    created = api.create_tenant()
    failing = FailingClient(ddb.client(), "transact_write_items", "ValidationException")
    monkeypatch.setattr(ddb, "client", lambda: failing)
    assert api.call("DELETE", f"/api/admin/tenants/{created['tenantId']}", admin=True).status == 500
    assert gateway_keys() == []  # the gateway refuses the key from the first attempt on
    assert api.call("DELETE", f"/api/admin/tenants/{created['tenantId']}", admin=True).status == 200
    assert tenant_rows() == []
