"""Outbound signatures (docs/contract.md §7): the hub's hex HMAC (its own header) and the Standard Webhooks trio
(webhook-id, webhook-timestamp, webhook-signature), whose signatures the `standardwebhooks` library makes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

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


def _standard_webhook(secret: str) -> Webhook:
    """The Standard Webhooks signer of a secret. Its key is the base64 after `whsec_`, decoded here rather than
    by the library, which pads and skips what is not base64: a stored secret that is not base64 fails its
    delivery (binascii.Error) instead of signing with some other key. A secret without the prefix (stored
    before secrets were checked) keys with its UTF-8 bytes, as it always did."""
    if secret.startswith(STANDARD_PREFIX):
        return Webhook(base64.b64decode(secret[len(STANDARD_PREFIX) :]))
    return Webhook(secret.encode("utf-8"))


def standard_signatures(body: bytes, secrets: Sequence[str], *, message_id: str, timestamp: int) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, newest first, space-separated (during a
    secret rotation a receiver holding either secret verifies the delivery), made by `standardwebhooks`."""
    if isinstance(secrets, str) or not secrets:
        raise TypeError("secrets: a non-empty list of secrets, newest first")
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode("utf-8")
    return " ".join(_standard_webhook(secret).sign(message_id, moment, text) for secret in secrets)


def headers(
    body: bytes,
    secrets: Sequence[str],
    *,
    message_id: str,
    webhook_id: str,
    event: str,
    attempt: int,
    timestamp: int,
) -> dict[str, str]:
    """Every header of one delivery attempt, signed with `secrets` (newest first).

    `X-Webhook-Signature` (the hub's own) is the hex HMAC-SHA256 of the body keyed with the newest secret string
    as configured (UTF-8, prefix included, as the gateways' hex-HMAC verifiers do); `webhook-signature` carries
    the Standard Webhooks signature of every secret (`standard_signatures`).
    """
    signatures = standard_signatures(body, secrets, message_id=message_id, timestamp=timestamp)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Signature": hmac.new(secrets[0].encode("utf-8"), body, hashlib.sha256).hexdigest(),
        "X-Webhook-Id": webhook_id,
        "X-Webhook-Event": event,
        "X-Webhook-Attempt": str(attempt),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }
