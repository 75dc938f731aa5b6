"""Ingest fairness: one session's gateway cannot flood the receiver (hub.ingest.limits)."""

from __future__ import annotations

import pytest

from hub.ingest import limits as ingest_limits
from hub.platform import catalog, ddb
from tests.ingest.test_receiver import post_event

WINDOW_START = 1_800_000_000  # a multiple of every window used here


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, at the start of a window; tests move `clock.now`."""

    class Clock:
        now = float(WINDOW_START)

    monkeypatch.setattr(ingest_limits, "clock", lambda: Clock.now)
    return Clock


def limit(monkeypatch, per_second: int, window_s: int = 10) -> None:
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_PER_SECOND", str(per_second))
    monkeypatch.setenv("GATEWAY_RATE_WINDOW_SECONDS", str(window_s))


def gateway(api, tenant_key, session_id):
    return {**api.create_session(tenant_key, sessionId=session_id), "apiKey": tenant_key}


def message(n: int, session_id: str) -> dict:
    return {
        "event": "message",
        "session": session_id,
        "data": {
            "id": {"_serialized": f"m-{session_id}-{n}"},
            "from": "628100@c.us",
            "body": f"hello {n}",
            "timestamp": 1,
        },
    }


def recorded(session_id: str) -> list[dict]:
    items = ddb.client().scan(
        TableName=ddb.name(catalog.EVENTS),
        FilterExpression="sessionId = :s",
        ExpressionAttributeValues=ddb.values(s=session_id),
    )["Items"]
    return [ddb.from_item(item) for item in items]


def test_a_flooding_session_gets_429s_while_another_tenants_session_is_served(api, tenant, clock, monkeypatch):
    limit(monkeypatch, per_second=2)  # 20 events per 10 s window
    noisy = gateway(api, tenant["apiKey"], "noisy")
    quiet = gateway(api, api.create_tenant("other")["apiKey"], "quiet")
    clock.now = WINDOW_START + 3
    answers = [post_event(api, noisy, message(n, "noisy")).status for n in range(25)]
    assert answers == [200] * 20 + [429] * 5
    refused = post_event(api, noisy, message(99, "noisy"))
    assert (refused.status, refused.error_code) == (429, "RATE_LIMITED")
    assert refused.json["success"] is False and "20 events per 10 s" in refused.json["error"]["message"]
    assert refused.headers["retry-after"] == "7"  # the rest of the window
    assert [post_event(api, quiet, message(n, "quiet")).status for n in range(5)] == [200] * 5
    assert len(recorded("noisy")) == 20 and len(recorded("quiet")) == 5
    assert not [e for e in recorded("noisy") if "m-noisy-99" in e["payload"]]  # the refused event left nothing


def test_the_limit_resets_and_the_gateways_retry_is_accepted(api, tenant, clock, monkeypatch):
    limit(monkeypatch, per_second=1)
    session = gateway(api, tenant["apiKey"], "s1")
    assert [post_event(api, session, message(n, "s1")).status for n in range(10)] == [200] * 10
    refused = post_event(api, session, message(10, "s1"))
    assert refused.status == 429 and refused.headers["retry-after"] == "10"
    clock.now += int(refused.headers["retry-after"])
    retried = post_event(api, session, message(10, "s1"))
    assert retried.status == 200 and retried.data["duplicate"] is False
    assert len(recorded("s1")) == 11


def test_a_refused_event_is_not_delivered(api, tenant, clock, monkeypatch, httpserver):
    limit(monkeypatch, per_second=1, window_s=2)
    session = gateway(api, tenant["apiKey"], "s1")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    api.call("PUT", "/api/instance/s1", body={"webhookUrl": httpserver.url_for("/hook")}, api_key=tenant["apiKey"])
    assert [post_event(api, session, message(n, "s1")).status for n in range(3)] == [200, 200, 429]
    from hub.delivery import queue

    bodies = [
        m["Body"]
        for m in queue.client().receive_message(QueueUrl=queue.queue_url(), MaxNumberOfMessages=10)["Messages"]
    ]
    assert len(bodies) == 2 and all("m-s1-2" not in body for body in bodies)


def test_receiver_instances_share_the_allowance_and_a_quiet_session_writes_nothing(api, tenant, clock, monkeypatch):
    limit(monkeypatch, per_second=10)  # 100 per window, counted in batches of 5
    session = gateway(api, tenant["apiKey"], "s1")
    writes = []
    real = ddb.client()

    class Counting:
        def __getattr__(self, name):
            if name == "update_item":

                def counted(**request):
                    if request["TableName"] == ddb.name(catalog.COUNTERS):
                        writes.append(request)
                    return real.update_item(**request)

                return counted
            return getattr(real, name)

    monkeypatch.setattr(ddb, "client", lambda: Counting())
    assert [post_event(api, session, message(n, "s1")).status for n in range(4)] == [200] * 4
    assert writes == []  # under one batch: nothing written
    answers = [post_event(api, session, message(n, "s1")).status for n in range(4, 60)]
    ingest_limits.clear_cache()  # another receiver instance
    answers += [post_event(api, session, message(n, "s1")).status for n in range(60, 110)]
    assert answers == [200] * 96 + [429] * 10
    assert len(writes) < 40  # batches of 5, then one write per event for the last ones
