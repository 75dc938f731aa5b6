"""Which session a gateway's request reaches, and whether its credential lets it in (docs/gateways.md).

A gateway names its session in one of these ways:
- the receiver handle in the URL (`/api/whatsapp/webhook/{handle}`): opaque and globally unique, returned at
  registration; a session id of a release with global ids is its session's handle (docs/migration.md);
- a hub-generated inbound secret presented in clear (`?token=`, `X-Api-Key`, `apikey`): it carries its session's
  handle (`whin_<handle>.<random>`), so the body-carried session route needs nothing else;
- a gateway credential of the tenant (hub.tenants.gateway_credentials) presented in clear: it names the tenant,
  and the session is the tenant's session of the id in the body (or in the path);
- on the body-carried session route without any of these, the body's session id read as a handle (the URLs and
  gateway settings of a release with global ids).

Per session, the request is authentic with one of the session's credentials (hub.platform.security), or with a
gateway credential of the session's tenant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from hub.platform import clock, security
from hub.sessions import store as session_store
from hub.sessions.models import SessionRecord
from hub.tenants import auth, gateway_credentials

HANDLE_CACHE_MAX = 10_000
"""Handles resolved per instance. A handle never names another session, so a cached answer stays true; the
session read that follows checks the session still carries it."""

_handles: dict[str, session_store.HandleTarget] = {}


def clear_cache() -> None:
    _handles.clear()


class GatewayRequest(BaseModel):
    """What the receiver knows of a gateway's request before it picks the session."""

    model_config = ConfigDict(frozen=True)

    raw: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]

    @classmethod
    def of(cls, raw: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> GatewayRequest:
        return cls(raw=raw, headers=headers, query=query)

    def clear_credentials(self) -> list[str]:
        """The keys presented in clear. Evolution API's `webhookByEvents` appends `/<event>` to the whole URL,
        query string included, so a `?token=<key>` arrives as `<key>/<event>`: the part before the last `/` is
        presented too (hub keys hold no `/`; the receiver checks the cut-off part is the body's event)."""
        presented = security.clear_credentials(self.headers, self.query)
        token = self.query.get("token") or ""
        return [*presented, token.rsplit("/", 1)[0]] if "/" in token else presented

    def token_suffix(self) -> str | None:
        """What follows the last `/` of `?token=`, if anything."""
        token = self.query.get("token") or ""
        return token.rsplit("/", 1)[1] if "/" in token else None

    def credential_tenant(self) -> str | None:
        """The tenant a gateway credential among the clear keys names (one read per key presented)."""
        return gateway_credentials.tenant_of(self.clear_credentials())

    def authenticates(self, record: SessionRecord | None) -> bool:
        """True when the request carries one of the session's own credentials: its inbound secret, or the one
        before the last rotation until its overlap ends. Whatever the session (none, no rotation), the same two
        secrets' checks run (stand-ins where there is none), so timing tells nothing of it."""
        secrets = (
            (record.inboundSecret, previous_secret(record) or STAND_IN_SECRET)
            if record is not None
            else (STAND_IN_SECRET, STAND_IN_SECRET)
        )
        query = {**self.query, "token": self.clear_credentials()[-1]} if self.token_suffix() else None
        matched = False
        for secret in secrets:
            matched |= security.gateway_request_is_authentic(secret, self.raw, self.headers, self.query)
            if query is not None:
                matched |= security.gateway_request_is_authentic(secret, self.raw, self.headers, query)
        return matched and record is not None


def previous_secret(record: SessionRecord) -> str | None:
    """The session's inbound secret before its last rotation, while its overlap lasts."""
    expires = record.previousInboundSecretExpiresAt
    return record.previousInboundSecret if expires is not None and clock.now_epoch() < expires else None


STAND_IN_SECRET = security.new_inbound_secret("rcv_none")
"""What an unknown session's credentials are checked against (never matches: nobody knows it)."""
REFUSED = "Unknown receiver URL or session, or a missing or invalid gateway credential"
"""The one answer to a request that opens no session: none of these is told apart (docs/gateways.md)."""


def _resolve(handle: str) -> session_store.HandleTarget | None:
    if handle in _handles:
        return _handles[handle]
    target = session_store.resolve_handle(handle)
    if target is not None:  # an unknown handle is read again next time (it may be registered meanwhile)
        if len(_handles) >= HANDLE_CACHE_MAX:
            _handles.clear()
        _handles[handle] = target
    return target


def _active(record: SessionRecord | None) -> SessionRecord | None:
    return record if record is not None and auth.tenant_active(record.tenantId) else None


def session_by_handle(handle: str) -> SessionRecord | None:
    """The session the handle names, if its tenant is active; None otherwise (answered alike)."""
    target = _resolve(handle)
    if target is None:
        return None
    record = session_store.get(target.tenantId, target.sessionId)
    return _active(record if record is not None and record.receiverHandle == handle else None)


_NAMED = re.compile(r"^whin_(?P<handle>[A-Za-z0-9][A-Za-z0-9._:@-]{0,127})\.[A-Za-z0-9_-]+$")


def _named_handle(request: GatewayRequest) -> str | None:
    """The handle a hub-generated inbound secret presented in clear names, if any."""
    for presented in request.clear_credentials():
        found = _NAMED.match(presented)
        if found:
            return found.group("handle")
    return None


def by_path(segment: str, request: GatewayRequest) -> SessionRecord | None:
    """The authenticated session the path segment names: a receiver handle, or, with a gateway credential, a
    session id of the credential's tenant. None when there is none, or the request does not authenticate it."""
    record = session_by_handle(segment)
    if request.authenticates(record):
        return record
    tenant_id = request.credential_tenant()
    if tenant_id is None:
        return None
    if record is not None and record.tenantId == tenant_id:
        return record
    return _active(session_store.get(tenant_id, segment))


def by_body(session_id: str, request: GatewayRequest) -> SessionRecord | None:
    """The authenticated session the body names (see the module's docstring for how), or None."""
    named = _named_handle(request)
    if named is not None:
        record = session_by_handle(named)
        if request.authenticates(record if record is not None and record.sessionId == session_id else None):
            return record
    tenant_id = request.credential_tenant()
    if tenant_id is not None:
        return _active(session_store.get(tenant_id, session_id))
    record = session_by_handle(session_id)
    return record if request.authenticates(record) else None
