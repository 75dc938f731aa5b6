"""One HTTP attempt to a subscriber: pooled keep-alive connections, bounded time and bounded read.

The URL is vetted and its name resolved once (hub.delivery.urls.destination); the connection goes to a
vetted address itself (a socket connected to that IP, no second lookup), with the name as TLS
SNI, as the name the certificate must match, and as the Host header.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import quote

import certifi
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from hub.delivery import urls
from hub.delivery.models import RESPONSE_EXCERPT_BYTES
from hub.platform import settings

POOL_SIZE = 10
"""Connections kept per destination address (the worker sends at most this many at once)."""
POOLS_KEPT = 64
"""Destinations whose pools are kept between invocations (least recently used dropped first)."""
CA_BUNDLE = certifi.where()
CONNECT_TIMEOUT_MAX_S = 5.0
REQUEST_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
"""Characters left as they are in the request target (the rest is percent-encoded, as `requests` does)."""


class _PinnedConnection(HTTPConnection):
    """Connects to the pool's host, which is always a vetted IP address: never resolves a name."""

    def _new_conn(self) -> socket.socket:
        address = ipaddress.ip_address(self.host.strip("[]"))
        sock = socket.socket(socket.AF_INET6 if address.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if isinstance(self.timeout, (int, float)):
                sock.settimeout(self.timeout)
            sock.connect((str(address), self.port))
        except TimeoutError as error:
            sock.close()
            raise ConnectTimeoutError(self, f"connection to {address} timed out") from error
        except OSError as error:
            sock.close()
            raise NewConnectionError(self, f"failed to connect to {address}: {error}") from error
        return sock


class PinnedHTTPConnection(_PinnedConnection, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnection, HTTPSConnection):
    pass


_pools: OrderedDict[tuple[str, str, int, str], HTTPConnectionPool] = OrderedDict()
_pools_lock = threading.Lock()


def pool(destination: urls.Destination, address: urls.Address) -> HTTPConnectionPool:
    """The keep-alive pool for one vetted address of a destination (TLS checks the destination's name)."""
    key = (destination.scheme, str(address), destination.port, destination.host)
    with _pools_lock:
        found = _pools.get(key)
        if found is not None:
            _pools.move_to_end(key)
            return found
        if destination.scheme == "https":
            found = HTTPSConnectionPool(
                str(address),
                destination.port,
                maxsize=POOL_SIZE,
                retries=False,
                server_hostname=destination.host,
                assert_hostname=destination.host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=CA_BUNDLE,
            )
            found.ConnectionCls = PinnedHTTPSConnection
        else:
            found = HTTPConnectionPool(str(address), destination.port, maxsize=POOL_SIZE, retries=False)
            found.ConnectionCls = PinnedHTTPConnection
        _pools[key] = found
        while len(_pools) > POOLS_KEPT:
            _, dropped = _pools.popitem(last=False)
            dropped.close()
        return found


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str | None
    permanent: bool = False
    """True when retrying cannot help (the URL is refused by policy, or the subscriber answered 410 Gone)."""
    timed_out: bool = False
    """True when the subscriber did not answer (or finish answering) within the timeout."""


class SlowResponse(Exception):
    """The subscriber kept sending past the timeout."""


def _excerpt(response, deadline: float) -> str:
    """At most 1 KB of the body, read before `deadline` (a trickling body cannot hold a worker).

    A body read to its end leaves the connection to the pool; otherwise the connection is closed.
    """
    data = b""
    finished = False
    try:
        while len(data) < RESPONSE_EXCERPT_BYTES:
            chunk = response.read(64)
            if not chunk:
                finished = True
                break
            data += chunk
            if time.monotonic() > deadline:
                raise SlowResponse()
    finally:
        if not finished:
            response.close()
        response.release_conn()
    return data[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


def _send(destination: urls.Destination, body: bytes, headers: dict[str, str], timeout_s: float, deadline: float):
    """The response of the first vetted address that accepts the connection (in resolver order)."""
    request_headers = {**headers, "Host": destination.host_header}
    target = quote(destination.target, safe=REQUEST_TARGET_SAFE)
    for index, address in enumerate(destination.addresses):
        remaining = deadline - time.monotonic()
        try:
            return pool(destination, address).urlopen(
                "POST",
                target,
                body=body,
                headers=request_headers,
                retries=False,
                redirect=False,
                timeout=Timeout(connect=max(0.001, min(remaining, CONNECT_TIMEOUT_MAX_S)), read=timeout_s),
                preload_content=False,
                assert_same_host=False,
            )
        except (NewConnectionError, ConnectTimeoutError):
            if index == len(destination.addresses) - 1 or time.monotonic() >= deadline:
                raise


def post(url: str, body: bytes, headers: dict[str, str], timeout_ms: int | None = None) -> AttemptResult:
    """POSTs once; success is a 2xx within the timeout. Never raises."""
    config = settings.load()
    timeout_s = (timeout_ms or config.timeout_ms) / 1000
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        destination = urls.destination(url, local=config.local)
    except urls.UnsafeUrl as error:
        return AttemptResult(False, None, elapsed(), f"refused: {error}", None, permanent=True)
    try:
        response = _send(destination, body, headers, timeout_s, started + timeout_s)
        excerpt = _excerpt(response, started + timeout_s)
        ok = 200 <= response.status < 300
        gone = response.status == 410
        failure = None if ok else "HTTP 410 Gone: not retried" if gone else f"HTTP {response.status}"
        return AttemptResult(ok, response.status, elapsed(), failure, excerpt, permanent=gone)
    except NewConnectionError as error:  # a subclass of ConnectTimeoutError in urllib3: first
        return AttemptResult(False, None, elapsed(), f"connection error: {str(error)[:200]}", None)
    except (TimeoutError, Urllib3Timeout, SlowResponse):
        return AttemptResult(False, None, elapsed(), f"timeout after {int(timeout_s * 1000)} ms", None, timed_out=True)
    except (HTTPError, OSError) as error:
        return AttemptResult(
            False, None, elapsed(), f"request failed: {type(error).__name__}: {str(error)[:200]}", None
        )
