"""Route matching, proxy events and proxy responses of the local API Gateway."""

from __future__ import annotations

import base64
import json
import re

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from hub.platform import catalog
from local.gateway import Gateway, NoRoute, build_event, compile_routes, match_route, to_http_response
from local.runtime import FakeLambdaContext, Invoker

RESOURCES = compile_routes()


def _concrete(template: str) -> tuple[str, dict[str, str]]:
    params = {name: f"{name}-1" for name in re.findall(r"\{(\w+)\}", template)}
    path = template
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path, params


@pytest.mark.parametrize("route", catalog.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_catalog_route_resolves(route: catalog.Route) -> None:
    path, params = _concrete(route.path)
    match = match_route(RESOURCES, route.method, path)
    assert match.route == route
    assert match.path_parameters == params


def test_literal_segment_beats_parameter() -> None:
    assert (
        match_route(RESOURCES, "GET", "/api/whatsapp/session/list-realtime").route.summary
        == "List sessions with summary"
    )
    with pytest.raises(NoRoute) as e:
        match_route(RESOURCES, "DELETE", "/api/whatsapp/session/list-realtime")
    assert (e.value.status, e.value.allowed) == (405, ("GET",))
    assert match_route(RESOURCES, "DELETE", "/api/whatsapp/session/abc").path_parameters == {"sessionId": "abc"}


def test_path_parameters_are_decoded_and_trailing_slash_ignored() -> None:
    match = match_route(RESOURCES, "GET", "/api/whatsapp/session/status/a%20b%2Bc/")
    assert match.path_parameters == {"sessionId": "a b+c"}


@pytest.mark.parametrize(
    "method,path,status,code",
    [
        ("GET", "/api/nope", 404, "NOT_FOUND"),
        ("GET", "/", 404, "NOT_FOUND"),
        ("POST", "/api/webhook/retry", 404, "NOT_FOUND"),
        ("GET", "/api/whatsapp/session/status/a/b", 404, "NOT_FOUND"),
        ("PATCH", "/api/health", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/api/whatsapp/session", 405, "METHOD_NOT_ALLOWED"),
    ],
)
def test_unrouted_requests(method: str, path: str, status: int, code: str) -> None:
    response = Gateway(Invoker(lambda name: pytest.fail("no handler may run"))).handle(method, path, [])
    assert response.status == status
    payload = json.loads(response.body)
    assert payload["success"] is False and payload["error"]["code"] == code and payload["error"]["message"]
    if status == 405:
        assert ("Allow", "GET" if path == "/api/health" else "POST") in response.headers


def _event(method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> dict:
    match = match_route(RESOURCES, method, target.split("?")[0])
    return build_event(
        match,
        method,
        target,
        headers or [("Host", "127.0.0.1:3000")],
        body,
        "10.0.0.7",
        request_id="req-1",
        now=1_700_000_000.5,
    )


def test_event_fields() -> None:
    event = _event(
        "GET",
        "/api/webhook/logs?status=failed&limit=5&status=success",
        [("Host", "h"), ("X-API-Key", "k1"), ("Accept", "a"), ("Accept", "b")],
    )
    assert event["resource"] == "/api/webhook/logs" and event["path"] == "/api/webhook/logs"
    assert event["httpMethod"] == "GET" and event["pathParameters"] is None and event["body"] is None
    assert event["queryStringParameters"] == {"status": "success", "limit": "5"}
    assert event["multiValueQueryStringParameters"] == {"status": ["failed", "success"], "limit": ["5"]}
    assert event["headers"]["Accept"] == "b" and event["multiValueHeaders"]["Accept"] == ["a", "b"]
    context = event["requestContext"]
    assert context["requestId"] == "req-1" and context["stage"] == "local"
    assert context["requestTimeEpoch"] == 1_700_000_000_500
    assert context["resourcePath"] == "/api/webhook/logs" and context["httpMethod"] == "GET"
    assert context["identity"]["sourceIp"] == "10.0.0.7" and context["identity"]["apiKey"] == "k1"
    assert _event("GET", "/api/health")["queryStringParameters"] is None
    assert _event("GET", "/api/health")["multiValueQueryStringParameters"] is None


def test_bodies_utf8_and_base64() -> None:
    text = _event("POST", "/api/whatsapp/session", body='{"userId": "zé"}'.encode())
    assert text["body"] == '{"userId": "zé"}' and text["isBase64Encoded"] is False
    binary = _event("POST", "/api/whatsapp/webhook/s1", body=b"\xff\x00png")
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\xff\x00png"


def test_powertools_rest_resolver_routes_the_event() -> None:
    app = APIGatewayRestResolver()

    @app.get("/api/whatsapp/session/status/<sessionId>")
    def status(sessionId: str) -> dict:
        e = app.current_event
        return {
            "sessionId": sessionId,
            "q": e.get_query_string_value("x"),
            "key": e.headers.get("x-api-key"),
            "stage": e.request_context.stage,
            "ip": e.request_context.identity.source_ip,
            "resource": e.resource,
        }

    @app.post("/api/whatsapp/session")
    def register() -> tuple[dict, int]:
        return {"got": app.current_event.json_body}, 201

    @app.post("/api/whatsapp/webhook/<sessionId>")
    def receive(sessionId: str) -> dict:
        return {"b64": app.current_event.is_base64_encoded, "raw": app.current_event.body}

    context = FakeLambdaContext("sessions", 256, 10)
    result = app.resolve(_event("GET", "/api/whatsapp/session/status/s1?x=1", [("X-Api-Key", "k")]), context)
    response = to_http_response(result)
    assert response.status == 200 and ("Content-Type", "application/json") in response.headers
    assert json.loads(response.body) == {
        "sessionId": "s1",
        "q": "1",
        "key": "k",
        "stage": "local",
        "ip": "10.0.0.7",
        "resource": "/api/whatsapp/session/status/{sessionId}",
    }

    response = to_http_response(app.resolve(_event("POST", "/api/whatsapp/session", body=b'{"userId": "u"}'), context))
    assert response.status == 201 and json.loads(response.body) == {"got": {"userId": "u"}}

    response = to_http_response(app.resolve(_event("POST", "/api/whatsapp/webhook/s1", body=b"\xfe"), context))
    assert json.loads(response.body) == {"b64": True, "raw": base64.b64encode(b"\xfe").decode()}


def test_proxy_responses() -> None:
    response = to_http_response(
        {
            "statusCode": 201,
            "headers": {"X-One": "1", "X-Both": "single", "Content-Length": "999"},
            "multiValueHeaders": {"x-both": ["m1", "m2"], "Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status == 201 and response.body == b"\x89PNG"
    assert sorted(response.headers) == sorted(
        [
            ("X-One", "1"),
            ("x-both", "m1"),
            ("x-both", "m2"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Content-Type", "application/json"),
        ]
    )
    assert to_http_response({"statusCode": 204}).body == b""
    for malformed in (None, "ok", {"body": "x"}, {"statusCode": 200, "body": {"a": 1}}):
        with pytest.raises(ValueError):
            to_http_response(malformed)


def test_handler_failures_become_502(caplog: pytest.LogCaptureFixture) -> None:
    def crash(event: dict, context: object) -> dict:
        raise RuntimeError("boom")

    for handler in (crash, lambda event, context: {"no": "statusCode"}):
        response = Gateway(Invoker(lambda name, handler=handler: handler)).handle("GET", "/api/health", [])
        assert response.status == 502 and json.loads(response.body)["error"]["code"] == "INTERNAL"
    assert "boom" in caplog.text


def test_context() -> None:
    context = FakeLambdaContext("receiver", 512, 10)
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:wa-hub-receiver"
    assert 9_000 < context.get_remaining_time_in_millis() <= 10_000
    assert context.aws_request_id != FakeLambdaContext("receiver", 512, 10).aws_request_id
