"""Keys, secrets and signatures: generation, hashing and constant-time verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping


def new_api_key() -> str:
    return "wak_" + secrets.token_urlsafe(32)


def new_receiver_handle() -> str:
    """An opaque, globally unique name of a session in its receiver URL."""
    return "rcv_" + secrets.token_hex(16)


def new_inbound_secret(handle: str) -> str:
    """A session's inbound secret; it carries the session's handle, so presented in clear it names its session."""
    return f"whin_{handle}." + secrets.token_urlsafe(32)


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def hash_key(key: str) -> str:
    """Keys are stored only as this hash (they are high-entropy, so a fast hash is enough)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def keys_match(presented: str | None, expected: str) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def hmac_hex(secret: str, body: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(secret.encode("utf-8"), body, algorithm).hexdigest()


def _strip_prefix(value: str, prefix: str) -> str:
    return value[len(prefix) :] if value.lower().startswith(prefix) else value


def gateway_request_is_authentic(
    secret: str, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
) -> bool:
    """True when any one of the gateway credentials (docs/contract.md §4) is present and valid.

    Accepted: `X-Webhook-Signature` (hex HMAC-SHA256), `X-Webhook-Hmac` (hex HMAC-SHA512,
    or the algorithm `X-Webhook-Hmac-Algorithm` names), `X-Hub-Signature-256: sha256=<hex>` (GOWA), `x-hmac-signature` (wuzapi, hex HMAC-SHA256),
    `?token=<secret>`, `X-Api-Key: <secret>`, `apikey: <secret>`. Each comparison is constant-time.
    """
    checks: list[tuple[str | None, str]] = []
    signature = headers.get("x-webhook-signature")
    if signature:
        checks.append((_strip_prefix(signature.strip(), "sha256=").lower(), hmac_hex(secret, body)))
    waha = headers.get("x-webhook-hmac")
    if waha:
        algorithm = (headers.get("x-webhook-hmac-algorithm") or "sha512").lower()
        if algorithm in ("sha256", "sha512"):
            checks.append((waha.strip().lower(), hmac_hex(secret, body, algorithm)))
    for name in ("x-hub-signature-256", "x-hmac-signature"):
        hex_signature = headers.get(name)
        if hex_signature:
            checks.append((_strip_prefix(hex_signature.strip(), "sha256=").lower(), hmac_hex(secret, body)))
    for presented in clear_credentials(headers, query):
        checks.append((presented, secret))
    return any(keys_match(presented, expected) for presented, expected in checks)


CLEAR_CREDENTIAL_HEADERS = ("x-api-key", "apikey")
"""Headers a gateway can send a key in: `X-Api-Key` (wwebjs-api, WAHA custom headers), `apikey` (Evolution API's
custom webhook headers)."""


def clear_credentials(headers: Mapping[str, str], query: Mapping[str, str]) -> list[str]:
    """The credentials the request presents in clear: `?token=`, then the key headers."""
    return [v for v in (query.get("token"), *(headers.get(h) for h in CLEAR_CREDENTIAL_HEADERS)) if v]
