"""A threaded HTTP(S) subscriber on 127.0.0.1 for delivery tests that need concurrent requests or TLS
(pytest-httpserver answers one request at a time)."""

from __future__ import annotations

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ThreadedSubscriber:
    """Answers every POST with 200 after `delay_s`, each request on its own thread; records the Host
    header of each request and the TLS server name (SNI) of each handshake."""

    def __init__(self, context: ssl.SSLContext | None = None, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.hosts: list[str] = []
        self.server_names: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.hosts.append(self.headers["Host"])
                time.sleep(owner.delay_s)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"ok")
                except OSError:  # the hub stopped waiting (timeout)
                    return

            def log_message(self, *args) -> None:
                return

        if context is not None:
            context.sni_callback = lambda sock, name, ctx: owner.server_names.append(name)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if context else 'http'}://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def received(self) -> int:
        return len(self.hosts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
