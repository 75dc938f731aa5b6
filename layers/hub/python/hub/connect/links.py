"""Connect links: short-lived signed tokens naming one session, or one user's sessions, of one tenant.

The token format is itsdangerous's URL-safe signed serializer (HMAC-SHA1 over the payload with a key
derived from the signing key and this module's salt); the payload carries the tenant, what the link
names and its expiry, so a link works only for what it names and only until then. A token never
carries the tenant's API key. Rotation: the signing key is a Secrets Manager secret; tokens signed
with its previous version (label AWSPREVIOUS) still verify until they expire, new ones are signed
with the current version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from hub.connect import secrets_store
from hub.platform import settings
from hub.platform.exceptions import Expired, Unauthenticated, Unavailable

SALT = "wa-hub.connect-link.v1"
SECRET_MAX_AGE_S = 300


@dataclass(frozen=True)
class Link:
    """What a verified token names: exactly one of `session_id` / `user_id`."""

    tenant_id: str
    session_id: str | None
    user_id: str | None
    expires_at: int
    issued_at_ms: int

    @property
    def kind(self) -> str:
        return "session" if self.session_id is not None else "user"


_secret_cache: dict[str, tuple[float, list[str]]] = {}


def _secret_versions(secret_arn: str) -> list[str]:
    """[previous, current] values of the secret (previous only after a rotation), cached SECRET_MAX_AGE_S."""
    cached = _secret_cache.get(secret_arn)
    if cached and time.monotonic() - cached[0] < SECRET_MAX_AGE_S:
        return cached[1]
    versions = secrets_store.versions(secret_arn)
    _secret_cache[secret_arn] = (time.monotonic(), versions)
    return versions


def signing_keys() -> list[str]:
    """Keys, oldest first: the newest signs, any verifies. 503 when none is configured."""
    secret_arn = settings.env("CONNECT_LINK_SECRET_ARN")
    keys = _secret_versions(secret_arn) if secret_arn else [settings.env("CONNECT_LINK_SECRET")]
    keys = [k for k in keys if k]
    if not keys:
        raise Unavailable("Connect links are not configured on this hub")
    return keys


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(signing_keys(), salt=SALT)


def lifetime_s(requested: int | None) -> int:
    """The link's lifetime: the default, or what was asked for, capped by the setting."""
    config = settings.load()
    return config.connect_link_ttl_s if requested is None else min(requested, config.connect_link_max_ttl_s)


def issue(
    tenant_id: str, *, session_id: str | None = None, user_id: str | None = None, ttl_s: int, now: float | None = None
) -> tuple[str, int]:
    """(token, expiresAt epoch seconds) for a link naming one session or one user."""
    if (session_id is None) == (user_id is None):
        raise ValueError("a link names exactly one session or one user")
    moment = now if now is not None else time.time()
    expires_at = int(moment) + ttl_s
    payload: dict[str, Any] = {"t": tenant_id, "e": expires_at, "i": int(moment * 1000)}
    payload["s" if session_id is not None else "u"] = session_id if session_id is not None else user_id
    return _serializer().dumps(payload), expires_at


def link_invalid() -> Unauthenticated:
    return Unauthenticated("This link is not valid: ask for a new one", code="LINK_INVALID")


def link_expired() -> Expired:
    return Expired("This link has expired: ask for a new one", code="LINK_EXPIRED")


def link_revoked() -> Expired:
    return Expired("This link was revoked: ask for a new one", code="LINK_REVOKED")


def verify(token: str | None, now: float | None = None) -> Link:
    """The link a token stands for; LINK_INVALID (forged, malformed) or LINK_EXPIRED otherwise."""
    if not token or len(token) > 2048:
        raise link_invalid()
    try:
        payload = _serializer().loads(token)
    except BadSignature as error:
        raise link_invalid() from error
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("t"), str)
        or not isinstance(payload.get("e"), int)
        or not isinstance(payload.get("i"), int)
    ):
        raise link_invalid()
    session_id, user_id = payload.get("s"), payload.get("u")
    if not ((isinstance(session_id, str) and user_id is None) or (isinstance(user_id, str) and session_id is None)):
        raise link_invalid()
    if payload["e"] <= (now if now is not None else time.time()):
        raise link_expired()
    return Link(payload["t"], session_id, user_id, payload["e"], payload["i"])
