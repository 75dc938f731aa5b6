"""API Gateway's WebSocket API for the local hub, with its @connections management API.

- WebSocket endpoint (`websocket_url`): a handshake becomes the `$connect` event and invokes the
  catalog's `$connect` function; a non-2xx answer refuses the handshake with that status, as API
  Gateway does. A closed connection invokes `$disconnect`. The browser only listens: what it sends is
  dropped (the cloud API has no route for it either).
- Management API (`management_endpoint`, plain HTTP): `POST /@connections/{id}` sends the body as one
  text message, `DELETE` closes, `GET` describes; an unknown or closed connection answers 410 with
  `x-amzn-ErrorType: GoneException`, so boto3's `apigatewaymanagementapi` client raises the same
  `GoneException` it raises in the cloud. The push function's code is the same in both places.

Not reproduced: API Gateway's 10-minute idle timeout and 2-hour connection limit.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.sync.server import Server, ServerConnection, serve

from hub.platform import catalog
from local.runtime import Invoking

log = logging.getLogger("local")

STAGE = "local"
_FUNCTIONS = {r.route_key: r.function for r in catalog.SOCKET_ROUTES}


def _connection_id() -> str:
    """An id shaped like API Gateway's (base64 of 10 random bytes)."""
    return base64.b64encode(uuid.uuid4().bytes[:10]).decode()


class LocalSocketApi:
    """`start()` / `stop()`; then `.websocket_url` and `.management_endpoint`."""

    def __init__(self, invoker: Invoking, host: str = "127.0.0.1") -> None:
        self._invoker = invoker
        self._host = host
        self._ids: dict[ServerConnection, str] = {}
        self._open: dict[str, ServerConnection] = {}
        self._lock = threading.Lock()
        self._sockets: Server | None = None
        self._management: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def websocket_url(self) -> str:
        assert self._sockets
        return f"ws://{self._host}:{self._sockets.socket.getsockname()[1]}"

    @property
    def management_endpoint(self) -> str:
        assert self._management
        return f"http://{self._host}:{self._management.server_address[1]}"

    def start(self) -> LocalSocketApi:
        self._sockets = serve(self._serve, self._host, 0, process_request=self._admit, compression=None)
        self._management = _ManagementServer((self._host, 0), self)
        for name, target in (
            ("websocket", self._sockets.serve_forever),
            ("connections", self._management.serve_forever),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        if self._sockets:
            self._sockets.shutdown()
        if self._management:
            self._management.shutdown()
            self._management.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads, self._sockets, self._management = [], None, None

    # --- the WebSocket side ---------------------------------------------------------------

    def _event(self, route_key: str, connection_id: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "requestContext": {
                "routeKey": route_key,
                "eventType": route_key.strip("$").upper(),
                "connectionId": connection_id,
                "stage": STAGE,
                "apiId": "local",
                "domainName": self._host,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
            },
            "isBase64Encoded": False,
            **(extra or {}),
        }

    def _admit(self, connection: ServerConnection, request: Any):
        """The `$connect` route: the function's answer decides whether the handshake goes on."""
        connection_id = _connection_id()
        query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
        event = self._event(
            "$connect",
            connection_id,
            {
                "headers": {k: v for k, v in request.headers.raw_items()},
                "queryStringParameters": query or None,
            },
        )
        try:
            status = int(self._invoker.invoke(_FUNCTIONS["$connect"], event).get("statusCode", 500))
        except Exception:
            log.exception("$connect failed")
            status = 500
        if not 200 <= status < 300:
            return connection.respond(status, "Forbidden\n" if status in (401, 403) else "Refused\n")
        with self._lock:
            self._ids[connection] = connection_id
        return None

    def _serve(self, connection: ServerConnection) -> None:
        with self._lock:
            connection_id = self._ids.pop(connection)
            self._open[connection_id] = connection
        try:
            for _ in connection:  # nothing the browser sends is routed
                pass
        finally:
            with self._lock:
                self._open.pop(connection_id, None)
            try:
                self._invoker.invoke(_FUNCTIONS["$disconnect"], self._event("$disconnect", connection_id))
            except Exception:
                log.exception("$disconnect failed")

    # --- the management API ---------------------------------------------------------------

    def connection(self, connection_id: str) -> ServerConnection | None:
        with self._lock:
            return self._open.get(connection_id)


class _ManagementHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ManagementServer

    def _answer(self, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _target(self) -> ServerConnection | None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._body = body
        parts = urlsplit(self.path).path.split("/")
        if len(parts) != 3 or parts[1] != "@connections":
            self._answer(404, {"message": "Not Found"})
            return None
        connection = self.server.api.connection(unquote(parts[2]))
        if connection is None:
            self._answer(410, {"message": None}, {"x-amzn-ErrorType": "GoneException"})
        return connection

    def do_POST(self) -> None:
        connection = self._target()
        if connection is None:
            return
        try:
            connection.send(self._body.decode("utf-8"))
        except Exception:  # noqa: BLE001 - closed meanwhile, however the socket says it
            self._answer(410, {"message": None}, {"x-amzn-ErrorType": "GoneException"})
            return
        self._answer(200)

    def do_DELETE(self) -> None:
        connection = self._target()
        if connection is not None:
            connection.close()
            self._answer(204)

    def do_GET(self) -> None:
        connection = self._target()
        if connection is not None:
            self._answer(200, {"identity": {"sourceIp": connection.remote_address[0]}})

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class _ManagementServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: LocalSocketApi) -> None:
        self.api = api
        super().__init__(address, _ManagementHandler)
