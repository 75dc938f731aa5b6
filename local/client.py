"""An in-process client of the local gateway: what the tests and the benchmarks call the hub with."""

from __future__ import annotations

import json
from typing import Any

from local.gateway import Gateway, HttpResponse
from local.runtime import Invoker


class InProcessClient:
    """Sends requests as API Gateway proxy events to the real handlers, without HTTP."""

    def __init__(self, admin_key: str, invoker: Invoker | None = None) -> None:
        self.invoker = invoker or Invoker()
        self.gateway = Gateway(self.invoker)
        self._admin_key = admin_key

    def request(
        self,
        method: str,
        target: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
        admin: bool = False,
    ) -> HttpResponse:
        """`body` is sent as JSON, `raw` as is; `api_key`/`admin` add the tenant or operator key header."""
        sent = dict(headers or {})
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        if body is not None and raw is None:
            sent.setdefault("Content-Type", "application/json")
        if api_key:
            sent["X-API-Key"] = api_key
        if admin:
            sent["X-Admin-Key"] = self._admin_key
        return self.gateway.handle(method, target, list(sent.items()), payload)
