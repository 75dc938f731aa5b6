"""Subscriptions as a resource: a session's endpoints and tenant-wide ones, their routes, and fan-out to them."""

from __future__ import annotations

import json

from tests.delivery.conftest import accept, message_event, status_event
from tests.delivery.test_delivery import logs, subscribe
from tests.delivery.test_secret_references import verifies

SESSION_ROUTES = "/api/instance/{}/subscriptions"
TENANT_ROUTES = "/api/subscriptions"


def create(api, key, base, **fields):
    reply = api.call("POST", base, body=fields, api_key=key)
    assert reply.status == 201, reply.raw
    return reply.data


def test_session_subscriptions_are_created_listed_read_replaced_patched_and_deleted(api, tenant, subscriber):
    key = tenant["apiKey"]
    api.create_session(key, sessionId="s1")
    base = SESSION_ROUTES.format("s1")
    made = create(api, key, base, url=subscriber.url, events=["message.*"], description="orders", retry={"attempts": 2})
    assert made["secret"].startswith("whsec_") and made["id"].startswith("sub_")
    assert (made["sessionId"], made["tenantWide"], made["enabled"]) == ("s1", False, True)
    assert made["createdAt"] == made["updatedAt"]

    listed = api.call("GET", base, api_key=key).data
    assert [s["id"] for s in listed] == [made["id"]]
    one = api.call("GET", f"{base}/{made['id']}", api_key=key).data
    assert "secret" not in json.dumps(listed) + json.dumps(one)
    assert (one["description"], one["events"], one["retry"]["attempts"]) == ("orders", ["message.*"], 2)

    replaced = api.call("PUT", f"{base}/{made['id']}", body={"url": subscriber.url}, api_key=key)
    assert replaced.status == 200, replaced.raw
    assert (replaced.data["description"], replaced.data["events"], replaced.data["retry"]["attempts"]) == (
        None,
        [],
        None,
    )  # PUT replaces: what it omits goes back to the default
    patched = api.call("PATCH", f"{base}/{made['id']}", body={"description": "all"}, api_key=key).data
    assert (patched["description"], patched["url"]) == ("all", subscriber.url)  # PATCH merges
    assert patched["createdAt"] == made["createdAt"]

    assert api.call("DELETE", f"{base}/{made['id']}", api_key=key).data == {"id": made["id"], "deleted": True}
    assert api.call("GET", f"{base}/{made['id']}", api_key=key).error_code == "NOT_FOUND"
    assert api.call("GET", base, api_key=key).data == []


def test_bad_bodies_are_refused_with_a_code_and_nothing_is_written(api, tenant, subscriber):
    key = tenant["apiKey"]
    api.create_session(key, sessionId="s1")
    base = SESSION_ROUTES.format("s1")
    for body in (
        {"url": "http://10.0.0.1/hook"},
        {"url": subscriber.url, "events": ["nope.never"]},
        {"url": subscriber.url, "colour": "blue"},
        {"url": subscriber.url, "retry": {"attempts": 11}},
        {"url": subscriber.url, "secret": "short"},
    ):
        reply = api.call("POST", base, body=body, api_key=key)
        assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR"), body
    made = create(api, key, base, url=subscriber.url)
    reply = api.call("PATCH", f"{base}/{made['id']}", body={"url": None}, api_key=key)
    assert (reply.status, reply.error_code) == (400, "VALIDATION_ERROR")
    assert [s["url"] for s in api.call("GET", base, api_key=key).data] == [subscriber.url]


def test_another_tenants_session_answers_as_a_missing_one_and_the_count_is_bounded(api, tenant, subscriber):
    key = tenant["apiKey"]
    other = api.create_tenant("other")["apiKey"]
    api.create_session(key, sessionId="s1")
    theirs = api.call("GET", SESSION_ROUTES.format("s1"), api_key=other)
    missing = api.call("GET", SESSION_ROUTES.format("nobody"), api_key=other)
    assert (theirs.status, theirs.json) == (missing.status, missing.json) == (404, missing.json)
    assert api.call("POST", SESSION_ROUTES.format("s1"), body={"url": subscriber.url}, api_key=other).status == 404
    from hub.delivery.subscription_registry import MAX_SESSION_SUBSCRIPTIONS

    for _ in range(MAX_SESSION_SUBSCRIPTIONS):
        create(api, key, SESSION_ROUTES.format("s1"), url=subscriber.url)
    reply = api.call("POST", SESSION_ROUTES.format("s1"), body={"url": subscriber.url}, api_key=key)
    assert (reply.status, reply.error_code) == (409, "LIMIT_REACHED")


def test_put_instance_replaces_the_default_subscription_and_it_is_a_readable_resource(api, tenant, subscriber):
    key = tenant["apiKey"]
    first = subscribe(api, key, "s1", subscriber.url, retry={"attempts": 1, "delayMs": 2000}, events=["message.*"])
    reply = api.call("PUT", "/api/instance/s1", body={"webhookUrl": subscriber.url}, api_key=key)
    assert reply.status == 200, reply.raw
    default = api.call("GET", SESSION_ROUTES.format("s1") + "/default", api_key=key).data
    assert (default["retry"], default["events"]) == ({"attempts": None, "delayMs": None}, [])
    assert "secret" not in reply.data["webhook"] and first["webhook"]["secret"].startswith("whsec_")


def test_an_event_goes_to_every_enabled_matching_endpoint_each_with_its_own_secret_and_log(
    api, tenant, subscriber, worker
):
    key = tenant["apiKey"]
    default_secret = subscribe(api, key, "s1", subscriber.url)["webhook"]["secret"]
    api.create_session(key, sessionId="s2")
    extra = create(api, key, SESSION_ROUTES.format("s1"), url=subscriber.url + "?extra", events=["session.*"])
    wide = create(api, key, TENANT_ROUTES, url=subscriber.url + "?wide", description="all sessions")
    off = create(api, key, TENANT_ROUTES, url=subscriber.url + "?off", enabled=False)
    assert api.call("GET", TENANT_ROUTES, api_key=key).data[1]["enabled"] is False
    other_tenant = api.create_tenant("other")["apiKey"]
    create(api, other_tenant, TENANT_ROUTES, url=subscriber.url + "?not-yours")

    accept(status_event("s1"))
    accept(message_event("s1", n=1))
    accept(message_event("s2", n=2))
    worker.drain()

    secrets = {"": default_secret, "extra": extra["secret"], "wide": wide["secret"], "off": off["secret"]}
    by_target: dict[str, list[tuple[str, str]]] = {}
    for request in subscriber.received:
        query = request.get("query", "")
        body = json.loads(request["body"])
        by_target.setdefault(query, []).append((body["instanceId"], body["event"]))
        assert verifies(secrets[query], request)
        assert body["schemaVersion"] == "1"
    assert sorted(by_target[""]) == [("s1", "message.received"), ("s1", "session.status")]
    assert by_target["extra"] == [("s1", "session.status")]
    assert sorted(by_target["wide"]) == [
        ("s1", "message.received"),
        ("s1", "session.status"),
        ("s2", "message.received"),
    ]
    assert set(by_target) == {"", "extra", "wide"}  # neither the disabled one nor another tenant's
    entries = logs(api, key)
    assert len(entries) == 6 and {e["status"] for e in entries} == {"success"}
    assert {e["subscriptionId"] for e in entries} == {"default", extra["id"], wide["id"]}


def test_a_deleted_tenant_wide_subscription_sends_nothing_more(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    api.create_session(key, sessionId="s1")
    wide = create(api, key, TENANT_ROUTES, url=subscriber.url)
    accept(message_event("s1", n=1))
    api.streams.pump()
    assert api.call("DELETE", f"{TENANT_ROUTES}/{wide['id']}", api_key=key).status == 200
    worker.drain()
    assert subscriber.received == []
    [entry] = logs(api, key)
    assert entry["status"] == "failed" and "no longer exists" in entry["error"]
