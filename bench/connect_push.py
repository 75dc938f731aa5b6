"""connect_push: what the connect page's push channel costs and how fast it is.

Latency (the local hub, as `make local` runs it): a WebSocket client holds a session's connect link; the
gateway posts a status event over HTTP; the figure is the time from just before the post to the pushed
message in the client (receiver → Sessions stream poller → push function → management API stand-in →
WebSocket). SAMPLES events, alternating QR code / connected, each a visible change. Target ≤ 1 s (p95).

Cost (in process, moto, botocore hooks as in aws_requests): the push function's own AWS requests for one
status event, with nobody watching the session and with one watcher; and what one browser's `$connect`
and `$disconnect` cost. Lambda's stream poller's GetRecords are not counted (free, made by Lambda).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import Counter
from typing import Any

from bench import harness as h

NAME = "connect_push"
SAMPLES = 20
TARGET_P95_MS = 1000.0


def _event_body(n: int) -> dict[str, Any]:
    return {"event": "qr", "data": {"qr": f"2@bench-qr-{n}"}} if n % 2 == 0 else {"event": "ready", "data": {}}


def _expected_status(n: int) -> str:
    return "qr_generated" if n % 2 == 0 else "session_connected"


def measure_latency() -> dict[str, Any]:
    import requests
    from websockets.sync.client import connect

    from local.hub import LocalHub

    samples: list[float] = []
    with h.quiet(), LocalHub(port=0) as hub:
        assert hub.sockets
        headers = {"X-API-Key": hub.dev_api_key}
        session = requests.post(
            f"{hub.base_url}/api/whatsapp/session",
            headers=headers,
            timeout=10,
            json={"sessionId": "bench-push", "userId": "bench"},
        ).json()["data"]
        link = requests.post(
            f"{hub.base_url}/api/whatsapp/session/bench-push/connect-link", headers=headers, timeout=10
        ).json()["data"]["url"]
        with connect(f"{hub.sockets.websocket_url}?token={link.rsplit('/', 1)[1]}", open_timeout=10) as socket:
            time.sleep(1.0)  # let the session's creation be pushed and drained first
            while True:
                try:
                    socket.recv(timeout=0.2)
                except TimeoutError:
                    break
            for n in range(SAMPLES):
                body = json.dumps({**_event_body(n), "timestamp": 1767225600000 + n * 1000}).encode()
                started = time.perf_counter()
                reply = requests.post(
                    f"{hub.base_url}{h.receive_target(session['receiverHandle'])}",
                    data=body,
                    timeout=10,
                    headers=h.signed_headers(session["inboundSecret"], body),
                )
                assert reply.status_code == 200, reply.text
                while json.loads(socket.recv(timeout=10))["session"]["status"] != _expected_status(n):
                    pass
                samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    return {
        "samples": len(samples),
        "median_ms": h.rounded(statistics.median(ordered), 1),
        "p95_ms": h.rounded(ordered[max(0, round(0.95 * len(ordered)) - 1)], 1),
        "max_ms": h.rounded(ordered[-1], 1),
    }


def _summary(calls: list[h.Call], events: int) -> dict[str, Any]:
    counted = Counter(c.name for c in calls)
    return {
        "requests": h.rounded(sum(counted.values()) / events),
        "by_request": {k: h.rounded(v / events) for k, v in sorted(counted.items())},
        "read_units": h.rounded(sum(c.read_units for c in calls) / events),
        "write_units": h.rounded(sum(c.write_units for c in calls) / events),
    }


def measure_cost() -> dict[str, Any]:
    from websockets.sync.client import connect

    from hub.connect import push_store
    from local.sockets import LocalSocketApi

    os.environ.setdefault("CONNECT_LINK_SECRET", "bench-connect-link-signing-key-0123456789")
    with h.embedded_aws():
        api = h.Api()
        tenant = api.create_tenant()
        session = api.create_session(tenant["apiKey"], "bench-cost")
        pump = h.StreamPump(api, "push")
        sockets = LocalSocketApi(api.invoker).start()
        os.environ["CONNECTIONS_API_ENDPOINT"] = sockets.management_endpoint
        push_store.client.cache_clear()
        meter = h.Meter(sizing=True).attach()
        try:

            def push_calls(first: int) -> list[h.Call]:
                calls: list[h.Call] = []
                for n in range(first, first + SAMPLES):
                    body = json.dumps({**_event_body(n), "timestamp": 1767225600000 + n * 1000}).encode()
                    pump.drain()
                    function, event = api.event(
                        "POST",
                        h.receive_target(session["receiverHandle"]),
                        h.signed_headers(session["inboundSecret"], body),
                        body,
                    )
                    api.invoke(function, event)
                    meter.reset()
                    with h.quiet():
                        pump.drain()
                    calls += meter.snapshot()
                return calls

            unwatched = push_calls(0)
            link = api.call("POST", "/api/whatsapp/session/bench-cost/connect-link", api_key=tenant["apiKey"]).json[
                "data"
            ]
            meter.reset()
            socket = connect(f"{sockets.websocket_url}?token={link['url'].rsplit('/', 1)[1]}", open_timeout=10)
            connect_calls = meter.snapshot()
            watched = push_calls(SAMPLES)
            meter.reset()
            socket.close()
            deadline = time.monotonic() + 5
            while not any(c.operation == "BatchWriteItem" for c in meter.snapshot()) and time.monotonic() < deadline:
                time.sleep(0.05)
            disconnect_calls = meter.snapshot()
        finally:
            meter.detach()
            sockets.stop()
            os.environ.pop("CONNECTIONS_API_ENDPOINT", None)
            push_store.client.cache_clear()
    return {
        "per_status_event_no_watcher": _summary(unwatched, SAMPLES),
        "per_status_event_one_watcher": _summary(watched, SAMPLES),
        "per_connect": _summary(connect_calls, 1),
        "per_disconnect": _summary(disconnect_calls, 1),
    }


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(
        f"connect_push (push latency over {SAMPLES} status events, local hub; push function's AWS requests per event)"
    )
    latency = measure_latency()
    cost = measure_cost()
    ok = latency["p95_ms"] <= TARGET_P95_MS
    h.show_target(
        "push latency p95 (gateway post → WebSocket message)", latency["p95_ms"], f"<= {TARGET_P95_MS:g}", ok, "ms"
    )
    h.show("push latency median", latency["median_ms"], "ms")
    for label, numbers in cost.items():
        print(
            f"    {label:<30} requests {numbers['requests']:>5g}  RCU {numbers['read_units']:>5g}  "
            f"WCU {numbers['write_units']:>5g}  ({', '.join(f'{k} x{v:g}' for k, v in numbers['by_request'].items())})"
        )
    return {"connect_push": {"latency": latency, **cost}}, [
        {"name": "connect_push.latency_p95_ms", "value": latency["p95_ms"], "limit": TARGET_P95_MS, "pass": ok}
    ]
