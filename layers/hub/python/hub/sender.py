"""One HTTP attempt to a subscriber: pooled keep-alive session, bounded time and bounded read."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from hub import settings, urls
from hub.deliveries import RESPONSE_EXCERPT_BYTES

POOL_SIZE = 10

_session = requests.Session()
_session.mount("https://", HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE, max_retries=0))
_session.mount("http://", HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE, max_retries=0))


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str | None
    permanent: bool = False
    """True when retrying cannot help (the URL is refused by policy, or the subscriber answered 410 Gone)."""


class SlowResponse(Exception):
    """The subscriber kept sending past the timeout."""


def _excerpt(response: requests.Response, deadline: float) -> str:
    """At most 1 KB of the body, read before `deadline` (a trickling body cannot hold a worker)."""
    data = b""
    for chunk in response.iter_content(chunk_size=64):
        data += chunk
        if len(data) >= RESPONSE_EXCERPT_BYTES:
            break
        if time.monotonic() > deadline:
            raise SlowResponse()
    return data[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


def post(url: str, body: bytes, headers: dict[str, str], timeout_ms: int | None = None) -> AttemptResult:
    """POSTs once; success is a 2xx within the timeout. Never raises."""
    config = settings.load()
    timeout_s = (timeout_ms or config.timeout_ms) / 1000
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        urls.check_subscriber_url(url, local=config.local)
    except urls.UnsafeUrl as error:
        return AttemptResult(False, None, elapsed(), f"refused: {error}", None, permanent=True)
    try:
        with _session.post(url, data=body, headers=headers, timeout=(min(timeout_s, 5.0), timeout_s),
                           allow_redirects=False, stream=True) as response:
            excerpt = _excerpt(response, started + timeout_s)
            ok = 200 <= response.status_code < 300
            gone = response.status_code == 410
            error = None if ok else "HTTP 410 Gone: not retried" if gone else f"HTTP {response.status_code}"
            return AttemptResult(ok, response.status_code, elapsed(), error, excerpt, permanent=gone)
    except (requests.Timeout, SlowResponse):
        return AttemptResult(False, None, elapsed(), f"timeout after {int(timeout_s * 1000)} ms", None)
    except requests.ConnectionError as error:
        return AttemptResult(False, None, elapsed(), f"connection error: {type(error).__name__}: {str(error)[:200]}", None)
    except requests.RequestException as error:
        return AttemptResult(False, None, elapsed(), f"request failed: {type(error).__name__}: {str(error)[:200]}", None)
