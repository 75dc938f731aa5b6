"""The local hub's logs: no secret in clear, and each function's lines under its own name."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest
import requests

from hub.platform import observability
from local.hub import LocalHub
from local.logs import RedactSecrets, redact
from local.runtime import Invoker


@pytest.mark.parametrize(
    "text, shown",
    [
        ("POST /api/whatsapp/webhook/s1?token=whin_Abc-123_x", "POST /api/whatsapp/webhook/s1?token=***"),
        (
            "GET /api/whatsapp/webhook/s1?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=42",
            "GET /api/whatsapp/webhook/s1?hub.mode=subscribe&hub.verify_token=***&hub.challenge=42",
        ),
        ("GET /?token=eyJ0IjoiYSJ9.sig HTTP/1.1", "GET /?token=*** HTTP/1.1"),  # the connect page's WebSocket
        ("GET /connect/eyJ0IjoiYSJ9.sig?x=1", "GET /connect/***?x=1"),
        ("GET /connect/static/connect.js", "GET /connect/static/connect.js"),
        ("POST /x?apikey=k1&userId=u1", "POST /x?apikey=***&userId=u1"),
        ("secret whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz= refused", "secret whsec_*** refused"),
        ("GET /api/webhook/logs?instanceId=demo&status=failed", "GET /api/webhook/logs?instanceId=demo&status=failed"),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_the_filter_redacts_what_any_library_logs() -> None:
    record = logging.LogRecord(
        "websockets.server", logging.INFO, __file__, 1, "rejected %s", ("GET /?token=abc",), None
    )
    assert RedactSecrets().filter(record) and record.getMessage() == "rejected GET /?token=***"


def test_access_lines_carry_no_secret(caplog) -> None:
    def handler(event: dict, context: Any) -> dict:
        return {"statusCode": 200, "body": "{}"}

    with (
        LocalHub(port=0, resolver=lambda name: handler, create_dev_tenant=False) as hub,
        caplog.at_level(logging.INFO, "local"),
    ):
        requests.post(f"{hub.base_url}/api/whatsapp/webhook/s1?token=whin_inbound_secret", data="{}", timeout=10)
        requests.get(
            f"{hub.base_url}/api/whatsapp/webhook/s1?hub.verify_token=whin_inbound_secret&hub.challenge=7", timeout=10
        )
        requests.get(f"{hub.base_url}/connect/link.token.value", timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "local"]
    assert any("/api/whatsapp/webhook/s1?token=*** 200" in line for line in lines), lines
    assert any("hub.verify_token=***&hub.challenge=7" in line for line in lines), lines
    assert any("/connect/*** " in line for line in lines), lines
    assert not any("whin_inbound_secret" in line or "link.token.value" in line for line in lines)


def test_each_function_logs_under_its_own_name() -> None:
    """Powertools keeps the context keys on one shared formatter: a push invoked while the receiver runs
    would otherwise label the receiver's next line `push`."""
    invoker: Invoker

    @observability.logger.inject_lambda_context
    def receiver(event: dict, context: Any) -> None:
        pushing = threading.Thread(target=invoker.invoke, args=("push", {}))
        pushing.start()
        pushing.join()
        observability.logger.warning("from the receiver")

    @observability.logger.inject_lambda_context
    def push(event: dict, context: Any) -> None:
        observability.logger.warning("from push")

    invoker = Invoker({"receiver": receiver, "push": push}.__getitem__)
    lines: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(observability.logger.registered_formatter.format(record)))

    capture = Capture()
    std_logger = logging.getLogger(observability.SERVICE)
    std_logger.addHandler(capture)
    try:
        invoker.invoke("receiver", {})
    finally:
        std_logger.removeHandler(capture)
    assert [(line["message"], line["function_name"], line["cold_start"]) for line in lines] == [
        ("from push", "push", True),
        ("from the receiver", "receiver", True),
    ]
    assert lines[1]["function_arn"].endswith(":function:wa-hub-receiver")
