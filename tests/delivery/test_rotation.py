"""Subscription secret rotation with an overlap: both signatures during it (verified with the standardwebhooks
library, as a subscriber does), the new one only after."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import pytest
from standardwebhooks import webhooks

from tests.delivery.conftest import accept, message_event
from tests.delivery.test_delivery import subscribe
from tests.delivery.test_secret_references import verifies
from tests.delivery.test_subscriptions import SESSION_ROUTES, TENANT_ROUTES, create


def live_with_the_hub(clock, monkeypatch) -> None:
    """The subscriber's clock moves with the hub's (the library refuses timestamps 5 minutes off its own)."""

    class Shifted(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(seconds=clock.offset_s)

    monkeypatch.setattr(webhooks, "datetime", Shifted)


def hex_signed_with(secret: str, request: dict) -> bool:
    expected = hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["X-Webhook-Signature"], expected)


@pytest.mark.parametrize("tenant_wide", [False, True], ids=["session", "tenant-wide"])
def test_during_the_overlap_either_secret_verifies_and_after_it_only_the_new_one(
    api, tenant, subscriber, worker, clock, tenant_wide, monkeypatch
):
    key = tenant["apiKey"]
    if tenant_wide:
        api.create_session(key, sessionId="s1")
        made = create(api, key, TENANT_ROUTES, url=subscriber.url)
        base, old = f"{TENANT_ROUTES}/{made['id']}", made["secret"]
    else:
        old = subscribe(api, key, "s1", subscriber.url)["webhook"]["secret"]
        base = SESSION_ROUTES.format("s1") + "/default"

    rotated = api.call("POST", f"{base}/rotate-secret", body={"overlapSeconds": 3600}, api_key=key)
    assert rotated.status == 200, rotated.raw
    new = rotated.data["secret"]
    assert new != old and rotated.data["previousSecretExpiresAt"]
    assert "secret" not in api.call("GET", base, api_key=key).data  # shown once

    accept(message_event("s1", n=1))
    worker.drain()
    [during] = subscriber.received
    assert len(during["headers"]["Webhook-Signature"].split(" ")) == 2
    assert verifies(old, during) and verifies(new, during)
    assert hex_signed_with(new, during) and not hex_signed_with(old, during)

    clock.advance(3601)
    live_with_the_hub(clock, monkeypatch)
    accept(message_event("s1", n=2))
    worker.drain()
    after = subscriber.received[1]
    assert verifies(new, after) and not verifies(old, after)
    assert len(after["headers"]["Webhook-Signature"].split(" ")) == 1


def test_a_rotation_without_overlap_or_with_a_given_secret_and_bad_rotations(api, tenant, subscriber, worker):
    key = tenant["apiKey"]
    old = subscribe(api, key, "s1", subscriber.url)["webhook"]["secret"]
    base = SESSION_ROUTES.format("s1") + "/default"
    given = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    for body, code in (
        ({"overlapSeconds": 7 * 24 * 3600 + 1}, "VALIDATION_ERROR"),
        ({"overlapSeconds": -1}, "VALIDATION_ERROR"),
        ({"secret": "whsec_tooshort"}, "VALIDATION_ERROR"),
        ({"secret": old}, "VALIDATION_ERROR"),
    ):
        reply = api.call("POST", f"{base}/rotate-secret", body=body, api_key=key)
        assert (reply.status, reply.error_code) == (400, code), body
    reply = api.call("POST", f"{base}/rotate-secret", body={"secret": given, "overlapSeconds": 0}, api_key=key)
    assert reply.status == 200 and reply.data["secret"] == given and reply.data["previousSecretExpiresAt"] is None
    accept(message_event("s1", n=1))
    worker.drain()
    [request] = subscriber.received
    assert verifies(given, request) and not verifies(old, request)
    other = api.create_tenant("other")["apiKey"]
    assert api.call("POST", f"{base}/rotate-secret", body={}, api_key=other).status == 404
