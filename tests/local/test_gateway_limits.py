"""The local gateway enforces the limits API Gateway and Lambda enforce in the cloud, answering as the stack's
gateway responses shape them: 10 MB request bodies, Lambda's 6 MB payloads, the 29 s integration timeout."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from hub.platform import catalog
from local.client import InProcessClient
from local.gateway import GATEWAY_ANSWERS, Gateway, payload_bytes
from local.runtime import Invoker

MB = 1024 * 1024


class Recorder:
    """A stand-in for every function: records what reaches it, answers `body`."""

    def __init__(self, body: str = "{}", sleep_s: float = 0.0) -> None:
        self.events: list[dict] = []
        self.body, self.sleep_s = body, sleep_s
        self.finished = threading.Event()

    def __call__(self, event: dict, context: object) -> dict:
        self.events.append(event)
        time.sleep(self.sleep_s)
        self.finished.set()
        return {"statusCode": 200, "body": self.body}


def gateway(recorder: Recorder, **options) -> Gateway:
    return Gateway(Invoker(lambda name: recorder), **options)


def envelope(response) -> tuple[int, str, str]:
    body = json.loads(response.body)
    assert body["success"] is False and body["error"]["details"] == [] and body["requestId"]
    return response.status, body["error"]["code"], body["error"]["message"]


def post(gw: Gateway, body: bytes):
    return gw.handle("POST", "/api/whatsapp/webhook/s1", [("Content-Type", "application/json")], body)


def test_a_body_over_api_gateways_10_mb_is_413_and_never_reaches_the_function() -> None:
    recorder = Recorder()
    response = post(gateway(recorder), b"x" * (catalog.API_MAX_REQUEST_BYTES + 1))
    assert envelope(response) == (413, "PAYLOAD_TOO_LARGE", "Request body too large")
    assert recorder.events == []


@pytest.mark.parametrize("body", [b"x" * (6 * MB), b"\xff" * (5 * MB)], ids=["text-6MB", "binary-5MB-as-base64"])
def test_a_proxy_event_over_lambdas_6_mb_is_413_though_the_body_is_under_10_mb(body: bytes) -> None:
    recorder = Recorder()
    assert len(body) < catalog.API_MAX_REQUEST_BYTES
    response = post(gateway(recorder), body)
    assert envelope(response) == (413, "PAYLOAD_TOO_LARGE", "Request body too large")
    assert recorder.events == []


def test_a_body_whose_event_fits_in_6_mb_reaches_the_function() -> None:
    recorder = Recorder()
    assert post(gateway(recorder), b"x" * (5 * MB)).status == 200
    assert len(recorder.events) == 1 and payload_bytes(recorder.events[0]) <= catalog.LAMBDA_SYNC_PAYLOAD_BYTES


def test_a_response_over_6_mb_is_502() -> None:
    response = post(gateway(Recorder(body="x" * (6 * MB))), b"{}")
    assert envelope(response) == (502, "INTERNAL", "Internal error")


def test_a_function_past_the_integration_timeout_is_504_and_keeps_running() -> None:
    recorder = Recorder(sleep_s=0.5)
    started = time.monotonic()
    response = post(gateway(recorder, integration_timeout_s=0.1), b"{}")
    assert time.monotonic() - started < 0.4
    assert envelope(response) == (504, "GATEWAY_TIMEOUT", "Endpoint request timed out")
    assert recorder.finished.wait(2)


def test_the_gateway_waits_29_s_by_default() -> None:
    assert Gateway(Invoker(lambda name: Recorder()))._integration_timeout_s == catalog.API_INTEGRATION_TIMEOUT_S == 29


def test_the_in_process_client_applies_the_same_limits() -> None:
    recorder = Recorder()
    client = InProcessClient("admin", Invoker(lambda name: recorder))
    response = client.request("POST", "/api/whatsapp/webhook/s1", raw=b"x" * (6 * MB))
    assert envelope(response)[:2] == (413, "PAYLOAD_TOO_LARGE") and recorder.events == []


def test_local_answers_are_the_stacks_gateway_responses() -> None:
    from infra.constructs.api import GATEWAY_RESPONSES

    stack = {kind.response_type: (status, code, message) for kind, status, code, message in GATEWAY_RESPONSES}
    for response_type, (status, code, message) in GATEWAY_ANSWERS.items():
        stack_status, stack_code, stack_message = stack[response_type]
        assert (stack_code, stack_message) == (code, message), response_type
        assert stack_status in ("", str(status)), response_type


# ---- over HTTP: werkzeug reads the request (announced or chunked bodies) and the limits hold on the wire


@pytest.fixture
def served():
    from local.gateway import GatewayServer

    recorder = Recorder()
    server = GatewayServer("127.0.0.1", 0, gateway(recorder))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/whatsapp/webhook/s1", recorder
    server.shutdown()
    server.server_close()


def chunks(total: int, size: int = MB):
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


def test_a_chunked_body_reaches_the_function_whole(served) -> None:
    url, recorder = served
    reply = requests.post(url, data=chunks(3 * 1000, size=1000), timeout=30)
    assert reply.status_code == 200 and recorder.events[0]["body"] == "x" * 3000


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_over_10_mb_on_the_wire_is_413_and_never_reaches_the_function(served, chunked) -> None:
    url, recorder = served
    size = catalog.API_MAX_REQUEST_BYTES + 1
    reply = requests.post(url, data=chunks(size) if chunked else b"x" * size, timeout=60)
    body = reply.json()
    assert (reply.status_code, body["error"]["code"], body["error"]["message"]) == (
        413,
        "PAYLOAD_TOO_LARGE",
        "Request body too large",
    )
    assert recorder.events == []


def test_headers_reach_the_function_as_sent(served) -> None:
    url, recorder = served
    requests.post(url, data=b"{}", headers={"x-Mixed-Case": "v"}, timeout=30)
    assert recorder.events[0]["headers"]["x-Mixed-Case"] == "v"
