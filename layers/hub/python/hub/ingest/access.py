"""Which session a gateway's request reaches, and whether its credential lets it in.

A gateway names its session in one of these ways:
- the receiver handle in the URL (`/api/whatsapp/webhook/{handle}`): opaque and globally unique, returned at
  registration; a session id of a release with global ids is its session's handle (docs/migration.md);
- a hub-generated inbound secret presented in clear (`?token=`, `X-Api-Key`): it carries its session's handle
  (`whin_<handle>.<random>`), so the body-carried session route needs nothing else;
- on the body-carried session route without it, the body's session id read as a handle (the URLs and gateway
  settings of a release with global ids).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hub.platform import security
from hub.sessions import store as session_store
from hub.sessions.store import SessionRecord
from hub.tenants import auth

HANDLE_CACHE_MAX = 10_000
"""Handles resolved per instance. A handle never names another session, so a cached answer stays true; the
session read that follows checks the session still carries it."""

_handles: dict[str, session_store.HandleTarget] = {}


def clear_cache() -> None:
    _handles.clear()


def _resolve(handle: str) -> session_store.HandleTarget | None:
    if handle in _handles:
        return _handles[handle]
    target = session_store.resolve_handle(handle)
    if target is not None:  # an unknown handle is read again next time (it may be registered meanwhile)
        if len(_handles) >= HANDLE_CACHE_MAX:
            _handles.clear()
        _handles[handle] = target
    return target


def session_by_handle(handle: str) -> SessionRecord | None:
    """The session the handle names, if its tenant is active; None otherwise (answered alike)."""
    target = _resolve(handle)
    if target is None:
        return None
    record = session_store.get(target.tenantId, target.sessionId)
    if record is None or record.receiverHandle != handle or not auth.tenant_active(record.tenantId):
        return None
    return record


_NAMED = re.compile(r"^whin_(?P<handle>[A-Za-z0-9][A-Za-z0-9._:@-]{0,127})\.[A-Za-z0-9_-]+$")


def named_handle(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The handle a hub-generated inbound secret presented in clear names, if any."""
    for presented in security.clear_credentials(headers, query):
        found = _NAMED.match(presented)
        if found:
            return found.group("handle")
    return None


def authentic(record: SessionRecord, raw: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """True when the request carries one of the session's credentials."""
    return security.gateway_request_is_authentic(record.inboundSecret, raw, headers, query)
