"""What the local hub's log lines may say: secrets redacted, and each function's lines under its own name."""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Any

_SECRET_QUERY = re.compile(r"([?&][^=&#\s]*(?:token|secret|key|signature)[^=&#\s]*=)[^&#\s]*", re.IGNORECASE)
"""`?token=`, `hub.verify_token=`, `apikey=`…: a gateway's inbound secret or a connect link's token."""
_CONNECT_TOKEN = re.compile(r"(/connect/)(?!static/)[^/?#\s]+")
"""`/connect/<token>`: the connect page's path carries its link token (its assets are under /connect/static/)."""
_SECRET_VALUE = re.compile(r"\b(whin|whsec)_[A-Za-z0-9+/=_-]+")
"""Inbound and subscription secrets wherever they appear."""
REDACTED = "***"


def redact(text: str) -> str:
    """`text` (a request path, a log message) without the secrets it may carry."""
    text = _SECRET_QUERY.sub(rf"\g<1>{REDACTED}", text)
    text = _CONNECT_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    return _SECRET_VALUE.sub(rf"\g<1>_{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """On a handler: every line it writes, whichever library logged it, goes through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


invocation: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("invocation", default=None)
"""The Lambda context keys of the invocation running in this context (set by local.runtime.Invoker)."""


class InvocationKeys(logging.Filter):
    """On the handlers' Powertools logger: stamps each record with the keys of the invocation that logged it.

    Powertools keeps the Lambda context keys (`function_name`…) on the one formatter every handler's
    logger shares; in Lambda each function has its own process, but the local hub runs them all in
    one, so concurrent invocations would otherwise print each other's name. Record attributes win over
    the formatter's keys.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (invocation.get() or {}).items():
            setattr(record, key, value)
        return True


def label_invocations(logger: logging.Logger) -> None:
    """Installs InvocationKeys on `logger` once."""
    if not any(isinstance(f, InvocationKeys) for f in logger.filters):
        logger.addFilter(InvocationKeys())
