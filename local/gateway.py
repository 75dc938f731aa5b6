"""API Gateway (REST API, Lambda proxy integration) in front of the catalog's handlers.

An HTTP request becomes the v1 proxy event Lambda receives from API Gateway, the route's
handler is called with it, and its result becomes the HTTP response. No business logic
lives here. Where API Gateway answers by itself, this module does too:

- unknown path: 404, known path with another method: 405 (with `Allow`), both in the hub's
  error envelope (`NOT_FOUND`, `METHOD_NOT_ALLOWED`). The most specific resource wins, as in
  API Gateway: `/api/whatsapp/session/list-realtime` is its own resource, so `DELETE` on it is a
  405, not a delete of a session called "list-realtime".
- `auth == "tenant"` routes: no API-key check here. In the cloud, API Gateway's "API key
  required" rejects a request without a valid key with 403 `{"message": "Forbidden"}` before
  the handler runs; locally there are no API Gateway keys, so every request reaches the
  handler, which answers 401 `UNAUTHORIZED` for a missing or wrong key. One behaviour to test
  locally, the handler's; clients should treat both 401 and 403 as "bad key".
- the limits API Gateway and Lambda enforce, answered as the stack's gateway responses shape them
  (`GATEWAY_ANSWERS`: the hub's error envelope with `details` and `requestId`):
  - a request body over API Gateway's 10 MB (catalog.API_MAX_REQUEST_BYTES): 413 `PAYLOAD_TOO_LARGE`;
  - a proxy event over Lambda's 6 MB synchronous payload (catalog.LAMBDA_SYNC_PAYLOAD_BYTES), e.g. a body
    between about 4.5 and 10 MB (binary bodies travel base64-encoded): 413 `PAYLOAD_TOO_LARGE` (Lambda refuses
    the invoke with RequestEntityTooLargeException; the cloud's status is reported as 413 by users, not
    verified against AWS documentation);
  - a handler running past API Gateway's 29 s integration timeout (catalog.API_INTEGRATION_TIMEOUT_S): 504
    `GATEWAY_TIMEOUT` "Endpoint request timed out" while the function runs on, as in the cloud;
  - a handler that raises, returns something that is not a proxy response, or returns more than 6 MB: 502
    `INTERNAL`, traceback on stderr.

Event details: `path` is the raw (percent-encoded) path, path and query parameters are
decoded; single-value `headers` / `queryStringParameters` hold the last value, as in API
Gateway; `body` is None when empty; a body that is not UTF-8 is passed base64-encoded with
`isBase64Encoded: true` (the cloud API is expected to declare binary media types for that).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from hub.platform import catalog
from local import logs, openapi
from local.runtime import ACCOUNT_ID, Invoker

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("local")

STAGE = "local"
_PARAM = re.compile(r"^\{(\w+)\}$")


# --- routing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One path template with the routes (methods) declared on it."""

    template: str
    segments: tuple[str, ...]
    routes: dict[str, catalog.Route]

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for segment, part in zip(self.segments, parts, strict=True):
            name = _PARAM.match(segment)
            if name:
                if not part:
                    return None
                params[name.group(1)] = unquote(part)
            elif segment != part:
                return None
        return params


@dataclass(frozen=True)
class RouteMatch:
    route: catalog.Route
    path_parameters: dict[str, str]


class NoRoute(Exception):
    def __init__(self, status: int, code: str, message: str, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.allowed = status, code, message, allowed


def _split(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def compile_routes(routes: Iterable[catalog.Route] = catalog.ROUTES) -> tuple[Resource, ...]:
    """Resources, most specific first (a literal segment beats a parameter at the same place)."""
    by_template: dict[str, dict[str, catalog.Route]] = {}
    for route in routes:
        by_template.setdefault(route.path, {})[route.method.upper()] = route
    resources = [Resource(t, tuple(_split(t)), methods) for t, methods in by_template.items()]
    return tuple(sorted(resources, key=lambda r: tuple(bool(_PARAM.match(s)) for s in r.segments)))


def match_route(resources: tuple[Resource, ...], method: str, path: str) -> RouteMatch:
    """The route for `method path`; raises NoRoute (404 or 405) otherwise."""
    parts = _split(path)
    for resource in resources:
        params = resource.match(parts)
        if params is None:
            continue
        route = resource.routes.get(method.upper())
        if route is None:
            allowed = tuple(sorted(resource.routes))
            raise NoRoute(
                405,
                "METHOD_NOT_ALLOWED",
                f"{method} is not allowed on {resource.template}; use {', '.join(allowed)}",
                allowed,
            )
        return RouteMatch(route, params)
    raise NoRoute(404, "NOT_FOUND", f"No route for {method} {path}")


# --- events --------------------------------------------------------------------------------


def _single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return (single or None, multi or None)


def encode_body(body: bytes) -> tuple[str | None, bool]:
    """(body, isBase64Encoded) as API Gateway passes them."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def build_event(
    match: RouteMatch,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
    *,
    request_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event for one request; `target` is the request line's path?query."""
    now = time.time() if now is None else now
    request_id = request_id or str(uuid.uuid4())
    url = urlsplit(target)
    header_pairs = list(headers)
    header_map, multi_headers = _single_and_multi(header_pairs)
    query, multi_query = _single_and_multi(parse_qsl(url.query, keep_blank_values=True))
    text, is_base64 = encode_body(body)
    lower = {k.lower(): v for k, v in (header_map or {}).items()}
    route = match.route
    return {
        "resource": route.path,
        "path": url.path,
        "httpMethod": method.upper(),
        "headers": header_map,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "resourceId": route.path,
            "resourcePath": route.path,
            "httpMethod": method.upper(),
            "path": url.path,
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "domainName": lower.get("host", ""),
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": lower.get("user-agent"),
                "apiKey": lower.get("x-api-key") if route.auth == "tenant" else None,
                "apiKeyId": None,
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


# --- responses -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json"), *headers], json.dumps(payload).encode())


def error_envelope(status: int, code: str, message: str, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    return json_response(status, {"success": False, "error": {"code": code, "message": message}}, headers)


GATEWAY_ANSWERS: dict[str, tuple[int, str, str]] = {
    "REQUEST_TOO_LARGE": (413, "PAYLOAD_TOO_LARGE", "Request body too large"),
    "INTEGRATION_TIMEOUT": (504, "GATEWAY_TIMEOUT", "Endpoint request timed out"),
    "DEFAULT_5XX": (502, "INTERNAL", "Internal error"),
}
"""Answers API Gateway gives by itself, by gateway response type: (status, code, message) as the stack's gateway
responses (infra/constructs/api.py) shape them; DEFAULT_5XX keeps the status of the failure, 502 here."""


def gateway_answer(response_type: str, request_id: str | None = None) -> HttpResponse:
    """An answer API Gateway gives by itself, in the hub's error envelope."""
    status, code, message = GATEWAY_ANSWERS[response_type]
    body = {
        "success": False,
        "error": {"code": code, "message": message, "details": []},
        "requestId": request_id or str(uuid.uuid4()),
    }
    return json_response(status, body)


_NOT_FORWARDED = {"content-length", "transfer-encoding", "connection"}


def to_http_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes from a proxy result; ValueError when it is malformed."""
    if not isinstance(result, dict) or "statusCode" not in result:
        raise ValueError(f"Malformed Lambda proxy response: {type(result).__name__} without statusCode")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError(f"Malformed Lambda proxy response: body is {type(body).__name__}, not str")
    data = base64.b64decode(body or "") if result.get("isBase64Encoded") else (body or "").encode()
    # API Gateway merges both maps; for a name in both, multiValueHeaders wins.
    multi = {k: [str(v) for v in vs] for k, vs in (result.get("multiValueHeaders") or {}).items()}
    multi_names = {k.lower() for k in multi}
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items() if k.lower() not in multi_names]
    headers += [(k, v) for k, vs in multi.items() for v in vs]
    headers = [(k, v) for k, v in headers if k.lower() not in _NOT_FORWARDED]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(int(result["statusCode"]), headers, data)


# --- the gateway and its HTTP server -------------------------------------------------------


class Gateway:
    """Routes a request to its function through the invoker; never raises."""

    def __init__(
        self,
        invoker: Invoker,
        routes: Iterable[catalog.Route] = catalog.ROUTES,
        integration_timeout_s: float = catalog.API_INTEGRATION_TIMEOUT_S,
    ) -> None:
        self._resources = compile_routes(routes)
        self._invoker = invoker
        self._integration_timeout_s = integration_timeout_s
        self._openapi: dict[str, Any] | None = None

    def _openapi_document(self) -> dict[str, Any]:
        """The OpenAPI document of the handlers (docs/openapi.json is the same, kept in git)."""
        if self._openapi is None:
            self._openapi = openapi.build()
        return self._openapi

    def handle(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        path = urlsplit(target).path
        if method.upper() == "GET" and path == openapi.SERVED_AT:
            return json_response(200, self._openapi_document())
        try:
            match = match_route(self._resources, method, path)
        except NoRoute as e:
            allow = [("Allow", ", ".join(e.allowed))] if e.allowed else []
            return error_envelope(e.status, e.code, e.message, allow)
        request_id = str(uuid.uuid4())
        if len(body) > catalog.API_MAX_REQUEST_BYTES:
            return gateway_answer("REQUEST_TOO_LARGE", request_id)
        event = build_event(match, method, target, headers, body, source_ip, request_id=request_id)
        if payload_bytes(event) > catalog.LAMBDA_SYNC_PAYLOAD_BYTES:
            return gateway_answer("REQUEST_TOO_LARGE", request_id)
        try:
            result = self._invoke(match.route.function, event)
            if payload_bytes(result) > catalog.LAMBDA_SYNC_PAYLOAD_BYTES:
                raise ValueError(f"Response payload over Lambda's {catalog.LAMBDA_SYNC_PAYLOAD_BYTES} bytes")
            return to_http_response(result)
        except IntegrationTimeout:
            log.warning(
                "%s %s: function %s did not answer within %s s; answering 504 (it keeps running)",
                method,
                logs.redact(path),
                match.route.function,
                self._integration_timeout_s,
            )
            return gateway_answer("INTEGRATION_TIMEOUT", request_id)
        except Exception:
            log.exception("%s %s: function %s failed", method, logs.redact(path), match.route.function)
            return gateway_answer("DEFAULT_5XX", request_id)

    def _invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        """The function's result, or its exception; IntegrationTimeout when it outlasts the integration timeout."""
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = self._invoker.invoke(function_name, event)
            except Exception as error:  # noqa: BLE001 - handed to the request's thread
                outcome["error"] = error

        worker = threading.Thread(target=run, name=f"invoke-{function_name}", daemon=True)
        worker.start()
        worker.join(self._integration_timeout_s)
        if worker.is_alive():
            raise IntegrationTimeout()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]


class IntegrationTimeout(Exception):
    """The function did not answer within API Gateway's integration timeout."""


def payload_bytes(payload: Any) -> int:
    """Size of an invocation's request or response as Lambda counts it: its JSON serialization."""
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging through the hub's logger and passing the request's headers on as
    the client sent them (names as spelled, a repeated header as its values), as API Gateway does."""

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        environ[_SENT_HEADERS] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Each request is logged once, by the gateway's application (redacted)."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


_SENT_HEADERS = "local.sent_headers"


class _GatewayRequest(Request):
    max_content_length = catalog.API_MAX_REQUEST_BYTES
    """Reading a longer body (announced or chunked) raises RequestEntityTooLarge."""


def wsgi_application(gateway: Gateway) -> WSGIApplication:
    """The gateway as a WSGI application: werkzeug reads the request (chunked bodies included) and writes the
    response; every method (TRACE included) goes to the gateway, which answers 405 for undeclared ones."""

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        request = _GatewayRequest(environ)
        target = environ.get("RAW_URI") or request.full_path
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:  # left unread: werkzeug drains it and closes the connection
            response = gateway_answer("REQUEST_TOO_LARGE")
        else:
            response = gateway.handle(
                request.method, target, environ[_SENT_HEADERS], body, request.remote_addr or "127.0.0.1"
            )
        log.info(
            "%s %s %d %.1f ms",
            request.method,
            logs.redact(target),
            response.status,
            (time.monotonic() - started) * 1000,
        )
        answer = Response(response.body, status=response.status)
        answer.headers.clear()
        for name, value in response.headers:
            answer.headers.add(name, value)
        return answer(environ, start_response)

    return application


class GatewayServer(ThreadedWSGIServer):
    """The gateway served over HTTP by werkzeug (a thread per request; every connection closes after its
    response)."""

    def __init__(self, host: str, port: int, gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(host, port, wsgi_application(gateway), handler=_RequestHandler)
        self._server_version = "wa-hub-local"
