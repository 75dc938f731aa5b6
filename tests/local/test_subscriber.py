"""local.subscriber verifies what the hub signs and refuses what it did not."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
import requests

from hub.delivery import signing
from local import subscriber

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    server = subscriber.serve(SECRET, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def post(server: ThreadingHTTPServer, body: bytes, headers: dict[str, str]) -> int:
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    return requests.post(url, data=body, headers=headers, timeout=10).status_code


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    return signing.headers(
        body,
        [secret],
        message_id="evt_1",
        webhook_id="wh_1",
        event="message.received",
        attempt=1,
        timestamp=int(time.time()) if timestamp is None else timestamp,
    )


BODY = json.dumps({"id": "evt_1", "event": "message.received", "data": {"body": "hi"}}).encode()


def test_a_delivery_signed_by_the_hub_is_verified_and_printed(server, capsys) -> None:
    assert post(server, BODY, signed(BODY)) == 204
    assert capsys.readouterr().out.startswith("message.received verified: {")


@pytest.mark.parametrize("tamper", ["body", "secret", "hex", "stale"])
def test_a_delivery_the_hub_did_not_sign_is_refused(server, capsys, tamper) -> None:
    other = "whsec_" + base64.b64encode(bytes(32)).decode()
    headers = signed(
        BODY, other if tamper == "secret" else SECRET, int(time.time()) - 3600 if tamper == "stale" else None
    )
    body = BODY.replace(b"hi", b"ho") if tamper == "body" else BODY
    if tamper == "hex":  # the Standard Webhooks signature holds, the hex HMAC does not
        headers["X-Webhook-Signature"] = signed(BODY, other)["X-Webhook-Signature"]
    assert post(server, body, headers) == 401
    out = capsys.readouterr().out
    assert "REFUSED" in out and ("X-Webhook-Signature" in out) == (tamper == "hex")


def test_the_command_line(tmp_path) -> None:
    import subprocess
    import sys

    from tests.local.test_walkthrough import ROOT, free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.subscriber", "--secret", SECRET, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert (
            process.stdout
            and process.stdout.readline().strip() == f"subscriber listening on http://127.0.0.1:{port}/hook"
        )
        assert (
            requests.post(f"http://127.0.0.1:{port}/hook", data=BODY, headers=signed(BODY), timeout=10).status_code
            == 204
        )
        assert process.stdout.readline().startswith("message.received verified: ")
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
