"""LocalHub end to end: over HTTP, with throwaway handlers, then with the real ones."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from hub.platform import catalog
from local.hub import LocalHub

ROOT = Path(__file__).resolve().parents[2]


class FakeFunctions:
    """Throwaway handlers standing in for functions/: they record what they get."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict]] = {}
        self.env: dict[str, str] = {}

    def resolve(self, name: str) -> Callable[[dict, Any], Any]:
        return getattr(self, name)

    def _record(self, name: str, event: dict) -> None:
        self.events.setdefault(name, []).append(event)

    def admin(self, event: dict, context: Any) -> dict:
        self._record("admin", event)
        self.env = dict(os.environ)
        if event["headers"].get("X-Admin-Key") != os.environ["ADMIN_API_KEY"]:
            return {"statusCode": 401, "body": "{}"}
        key = json.loads(event["body"]).get("apiKey") if os.environ["HUB_LOCAL"] == "true" else None
        return {
            "statusCode": 201,
            "body": json.dumps({"success": True, "data": {"tenantId": "ten_1", "apiKey": key or "k"}}),
        }

    def sessions(self, event: dict, context: Any) -> dict:
        self._record("sessions", event)
        if event["resource"] == "/api/health":
            return {"statusCode": 200, "body": json.dumps({"success": True, "data": {"status": "ok"}})}
        if event["path"].endswith("/crash"):
            raise RuntimeError("handler bug")
        if not event["headers"].get("X-API-Key"):
            return {
                "statusCode": 401,
                "body": json.dumps({"success": False, "error": {"code": "UNAUTHORIZED", "message": "no key"}}),
            }
        return {
            "statusCode": 200,
            "multiValueHeaders": {"X-Seen": ["1", "2"]},
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }

    def receiver(self, event: dict, context: Any) -> dict:
        self._record("receiver", event)
        return {"statusCode": 200, "body": json.dumps({"success": True, "data": {"b64": event["isBase64Encoded"]}})}

    def webhooks(self, event: dict, context: Any) -> dict:
        return {"statusCode": 200, "body": "{}"}

    def delivery_worker(self, event: dict, context: Any) -> dict:
        self._record("delivery_worker", event)
        return {"batchItemFailures": []}


@pytest.fixture
def fake_hub() -> Iterator[tuple[LocalHub, FakeFunctions]]:
    functions = FakeFunctions()
    before = dict(os.environ)
    hub = LocalHub(port=0, resolver=functions.resolve, dev_api_key="dev_key_0123456789abcdef").start()
    try:
        yield hub, functions
    finally:
        hub.stop()
    assert dict(os.environ) == before


def test_hub_with_throwaway_handlers(fake_hub: tuple[LocalHub, FakeFunctions]) -> None:
    hub, functions = fake_hub
    assert (hub.dev_tenant_id, hub.dev_api_key) == ("ten_1", "dev_key_0123456789abcdef")
    env = functions.env
    assert env["HUB_LOCAL"] == "true" and env["PUBLIC_BASE_URL"] == hub.base_url
    assert env["AWS_ENDPOINT_URL"] == hub.aws_endpoint and env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert all(env[t.env_var] for t in catalog.TABLES) and all(env[q.env_var] for q in catalog.QUEUES)

    assert requests.get(f"{hub.base_url}/api/health", timeout=5).json() == {"success": True, "data": {"status": "ok"}}
    assert requests.get(f"{hub.base_url}/api/nope", timeout=5).json()["error"]["code"] == "NOT_FOUND"
    response = requests.put(f"{hub.base_url}/api/health", timeout=5)
    assert (response.status_code, response.json()["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")

    # Tenant routes reach the handler with or without a key: it answers 401 itself.
    response = requests.get(f"{hub.base_url}/api/whatsapp/session/status/s1", timeout=5)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    response = requests.get(f"{hub.base_url}/api/whatsapp/session/status/s1?x=1", headers={"X-API-Key": "k"}, timeout=5)
    assert response.status_code == 200 and response.content == b"\x89PNG"
    assert response.headers["X-Seen"] == "1, 2"
    event = functions.events["sessions"][-1]
    assert event["pathParameters"] == {"sessionId": "s1"} and event["queryStringParameters"] == {"x": "1"}

    response = requests.post(f"{hub.base_url}/api/whatsapp/webhook/s1", data=b"\xff\xfe", timeout=5)
    assert response.json()["data"] == {"b64": True}
    crashed = requests.delete(f"{hub.base_url}/api/whatsapp/session/crash", timeout=5)
    assert crashed.status_code == 502 and crashed.json()["error"]["code"] == "INTERNAL"

    boto3.client("sqs").send_message(QueueUrl=os.environ["DELIVERY_QUEUE_URL"], MessageBody='{"n": 1}')
    deadline = time.monotonic() + 10
    while not functions.events.get("delivery_worker") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert functions.events["delivery_worker"][0]["Records"][0]["body"] == '{"n": 1}'


@pytest.mark.skipif(
    not (ROOT / "functions" / "sessions" / "handler.py").exists(),
    reason="functions/sessions/handler.py (GET /api/health) is not written yet",
)
def test_hub_with_real_handlers() -> None:
    with LocalHub(port=0) as hub:
        response = requests.get(f"{hub.base_url}/api/health", timeout=10)
        assert response.status_code == 200
        payload = response.json()
        assert payload["success"] is True and payload["data"]["status"] == "ok"
        response = requests.get(f"{hub.base_url}/api/whatsapp/session/list-realtime", timeout=10)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "UNAUTHORIZED")
        if (ROOT / "functions" / "admin" / "handler.py").exists():
            assert hub.dev_api_key and hub.dev_tenant_id
            response = requests.get(
                f"{hub.base_url}/api/whatsapp/session/list-realtime", headers={"X-API-Key": hub.dev_api_key}, timeout=10
            )
            assert response.status_code == 200 and response.json()["success"] is True


def wait_for(check: Callable[[], Any], timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_hub_delivers_and_counts_through_its_streams(httpserver) -> None:
    import hashlib
    import hmac

    received: list[bytes] = []
    httpserver.expect_request("/hook", method="POST").respond_with_handler(
        lambda request: received.append(request.get_data()) or "ok"
    )
    with LocalHub(port=0) as hub:
        headers = {"X-API-Key": hub.dev_api_key}
        created = requests.post(
            f"{hub.base_url}/api/whatsapp/session",
            headers=headers,
            timeout=10,
            json={"sessionId": "local-1", "userId": "u1", "webhookUrl": httpserver.url_for("/hook")},
        ).json()
        body = json.dumps({"event": "ready", "data": {}}).encode()
        signature = hmac.new(created["data"]["inboundSecret"].encode(), body, hashlib.sha256).hexdigest()
        reply = requests.post(
            created["data"]["receiverUrl"],
            data=body,
            timeout=10,
            headers={"Content-Type": "application/json", "X-Webhook-Signature": signature},
        )
        assert reply.status_code == 200
        wait_for(lambda: received)
        assert json.loads(received[0])["data"]["status"] == "session_connected"

        def listing() -> dict:
            return requests.get(
                f"{hub.base_url}/api/whatsapp/session/list-realtime", headers=headers, timeout=10
            ).json()

        assert wait_for(lambda: listing()["summary"]["connected"] == 1)
        logs = wait_for(
            lambda: requests.get(f"{hub.base_url}/api/webhook/logs", headers=headers, timeout=10).json()["data"]
        )
        assert (logs[0]["status"], logs[0]["attempts"]) == ("success", 1)

        def usage() -> dict:
            return requests.get(f"{hub.base_url}/api/usage?days=1", headers=headers, timeout=10).json()["data"][
                "totals"
            ]

        assert wait_for(lambda: usage() == {"eventsReceived": 1, "deliveriesAttempted": 1, "deliveriesSucceeded": 1})
