"""Outbound signatures (docs/contract.md §7): the hub's hex HMAC and the Standard Webhooks trio."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hub import PRODUCT, VERSION

USER_AGENT = f"{PRODUCT}/{VERSION}"
STANDARD_PREFIX = "whsec_"
SECRET_KEY_BYTES = (24, 64)
"""Length of the key a subscription secret carries: Standard Webhooks secrets are 24 to 64 bytes."""


def check_secret(secret: str) -> str:
    """A subscription secret as the hub accepts it: `whsec_` + standard base64 of a 24 to 64-byte key.

    Anything else is refused (ValueError saying what is expected), so every secret signs, and
    `standardwebhooks.Webhook(secret).verify(...)` checks its deliveries as given.
    """
    low, high = SECRET_KEY_BYTES
    expected = f"the secret must be '{STANDARD_PREFIX}' followed by the base64 of {low} to {high} random bytes"
    if not secret.startswith(STANDARD_PREFIX):
        raise ValueError(f"{expected} (omit it to have one generated)")
    try:
        key = base64.b64decode(secret[len(STANDARD_PREFIX) :], validate=True)
    except ValueError as error:
        raise ValueError(f"{expected}: not valid base64") from error
    if not low <= len(key) <= high:
        raise ValueError(f"{expected}: it decodes to {len(key)} bytes")
    return secret


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key Standard Webhooks derive from a secret: base64-decoded after `whsec_`."""
    if secret.startswith(STANDARD_PREFIX):
        return base64.b64decode(secret[len(STANDARD_PREFIX) :])
    return secret.encode("utf-8")


def headers(
    body: bytes, secrets: list[str], *, message_id: str, webhook_id: str, event: str, attempt: int, timestamp: int
) -> dict[str, str]:
    """Every header of one delivery attempt, signed with `secrets` (newest first; more than one during a rotation).

    `X-Webhook-Signature` is keyed with the newest secret string as configured (UTF-8, prefix
    included, as the gateways' hex-HMAC verifiers do); `webhook-signature` follows Standard Webhooks: one
    `v1,` signature per secret, space-separated, so a subscriber verifies with either secret.
    """
    secret = secrets[0]
    signed = f"{message_id}.{timestamp}.".encode() + body
    standard = " ".join(
        "v1," + base64.b64encode(hmac.new(standard_webhooks_key(key), signed, hashlib.sha256).digest()).decode("ascii")
        for key in secrets
    )
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Signature": hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest(),
        "X-Webhook-Id": webhook_id,
        "X-Webhook-Event": event,
        "X-Webhook-Attempt": str(attempt),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard,
    }
