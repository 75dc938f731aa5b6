"""A tenant's API keys: a second key, then revoke the first (locally and as API Gateway keys on moto)."""

from __future__ import annotations

from tests.faults.test_tenant_keys import cloud, gateway, gateway_keys  # noqa: F401  (the cloud fixture)


def whoami(api, key: str) -> int:
    return api.call("GET", "/api/keys", api_key=key).status


def test_a_tenant_adds_a_second_key_switches_to_it_and_revokes_the_first(api, tenant):
    first = tenant["apiKey"]
    [only] = api.call("GET", "/api/keys", api_key=first).data
    assert only["usedByThisRequest"] is True and "apiKey" not in only
    added = api.call("POST", "/api/keys", api_key=first)
    assert added.status == 201, added.raw
    second = added.data["apiKey"]
    assert second != first and whoami(api, second) == 200 and whoami(api, first) == 200
    listed = api.call("GET", "/api/keys", api_key=second).data
    assert [k["usedByThisRequest"] for k in listed] == [False, True]
    assert second not in str(listed) and first not in str(listed)

    third = api.call("POST", "/api/keys", api_key=second)
    assert (third.status, third.error_code) == (409, "LIMIT_REACHED")

    revoked = api.call("DELETE", f"/api/keys/{only['keyId']}", api_key=second)
    assert revoked.data == {"keyId": only["keyId"], "revoked": True}
    assert whoami(api, first) == 401 and whoami(api, second) == 200
    [left] = api.call("GET", "/api/keys", api_key=second).data
    last = api.call("DELETE", f"/api/keys/{left['keyId']}", api_key=second)
    assert (last.status, last.error_code) == (409, "CONFLICT") and whoami(api, second) == 200
    assert api.call("DELETE", f"/api/keys/{only['keyId']}", api_key=second).status == 404
    other = api.create_tenant("other")["apiKey"]
    assert api.call("DELETE", f"/api/keys/{left['keyId']}", api_key=other).status == 404


def test_revoking_the_tenant_revokes_every_key(api, tenant):
    first = tenant["apiKey"]
    second = api.call("POST", "/api/keys", api_key=first).data["apiKey"]
    assert api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).status == 200
    assert whoami(api, first) == 401 and whoami(api, second) == 401


def test_in_the_cloud_each_key_is_an_api_gateway_key_in_the_plan_and_revoking_deletes_it(api, cloud):
    tenant = api.create_tenant()
    added = api.call("POST", "/api/keys", api_key=tenant["apiKey"])
    assert added.status == 201, added.raw
    keys = {k["value"]: k for k in gateway_keys()}
    assert set(keys) == {tenant["apiKey"], added.data["apiKey"]}
    assert all(k["enabled"] for k in keys.values())
    in_plan = {k["id"] for k in gateway().get_usage_plan_keys(usagePlanId=cloud)["items"]}
    assert in_plan == {k["id"] for k in keys.values()}

    [first, _] = api.call("GET", "/api/keys", api_key=added.data["apiKey"]).data
    assert api.call("DELETE", f"/api/keys/{first['keyId']}", api_key=added.data["apiKey"]).status == 200
    assert [k["value"] for k in gateway_keys()] == [added.data["apiKey"]]
    assert api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).status == 200
    assert gateway_keys() == []
