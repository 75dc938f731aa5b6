"""Outbound signatures (SPEC section 5): the hub's hex HMAC and the Standard Webhooks trio."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hub import PRODUCT, VERSION

USER_AGENT = f"{PRODUCT}/{VERSION}"
STANDARD_PREFIX = "whsec_"


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key Standard Webhooks derive from a secret: base64-decoded after `whsec_`."""
    if secret.startswith(STANDARD_PREFIX):
        return base64.b64decode(secret[len(STANDARD_PREFIX):])
    return secret.encode("utf-8")


def headers(body: bytes, secret: str, *, message_id: str, webhook_id: str, event: str, attempt: int, timestamp: int) -> dict[str, str]:
    """Every header of one delivery attempt.

    `X-Webhook-Signature` is keyed with the secret string as configured (UTF-8, prefix
    included, as seed 004's verifier does); `webhook-signature` follows Standard Webhooks.
    """
    signed = f"{message_id}.{timestamp}.".encode("utf-8") + body
    standard = base64.b64encode(hmac.new(standard_webhooks_key(secret), signed, hashlib.sha256).digest()).decode("ascii")
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Signature": hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest(),
        "X-Webhook-Id": webhook_id,
        "X-Webhook-Event": event,
        "X-Webhook-Attempt": str(attempt),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{standard}",
    }
