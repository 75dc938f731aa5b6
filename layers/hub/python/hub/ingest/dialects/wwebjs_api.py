"""wwebjs-api: chrishubert/whatsapp-api (and avoylenko/wwebjs-api) `{"dataType", "data"?, "sessionId"}`.

Same whatsapp-web.js events as the wwebjs dialect (handlers reused), plus `status` = auth_failure.
`data` is absent for `authenticated` / `ready`. No envelope id or timestamp: event time comes from
the message / call / notification when there is one.
"""

from __future__ import annotations

from typing import Any

from . import wwebjs
from ._claims import wwebjs_api as claims  # noqa: F401 - the dialect interface: `claims(body)`
from ._common import Envelope, Handler, Result, check

NAME = "wwebjs-api"
SESSION_FIELD = "sessionId"


class Env(Envelope):
    dataType: str
    data: dict[str, Any] | None = None
    sessionId: str | None = None


EVENTS: dict[str, Handler] = {**wwebjs.EVENTS, "status": wwebjs.auth_failure}


def session_id(body: dict[str, Any]) -> str | None:
    value = body.get("sessionId")
    return value if isinstance(value, str) else None


def parse(body: dict[str, Any]) -> Result:
    env = check(Env, body)
    parsed = wwebjs.dispatch(EVENTS, env.dataType, env.data, body)
    return Result(env.dataType, parsed, occurred_at=parsed.occurred_at)
