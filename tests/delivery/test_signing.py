"""hub.delivery.signing: the Standard Webhooks signatures come from the `standardwebhooks` library, one per
secret during a rotation (newest first), beside the hub's own hex HMAC of the newest secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hub.delivery import signing

NEWEST = "whsec_" + base64.b64encode(b"n" * 32).decode()
PREVIOUS = "whsec_" + base64.b64encode(b"p" * 24).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = json.dumps({"id": "evt_1", "event": "message.received", "data": {"body": "olá"}}, ensure_ascii=False).encode()


def signed(secrets: list[str], timestamp: int | None = None) -> dict[str, str]:
    return signing.headers(
        BODY,
        secrets,
        message_id="evt_1",
        webhook_id="wh_1",
        event="message.received",
        attempt=1,
        timestamp=int(time.time()) if timestamp is None else timestamp,
    )


def test_one_secret_gives_one_signature_the_library_verifies():
    headers = signed([NEWEST])
    assert headers["webhook-signature"].count("v1,") == 1
    assert Webhook(NEWEST).verify(BODY, headers) == json.loads(BODY)


@pytest.mark.parametrize("secret", [NEWEST, PREVIOUS])
def test_during_a_rotation_either_secret_verifies(secret):
    headers = signed([NEWEST, PREVIOUS])
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert (
        headers["webhook-signature"].split(" ")[0]
        == signed([NEWEST], int(headers["webhook-timestamp"]))["webhook-signature"]
    )
    Webhook(secret).verify(BODY, headers)


def test_a_secret_not_signing_is_refused():
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(BODY, signed([NEWEST, PREVIOUS]))


def test_the_hex_hmac_is_the_newest_secrets():
    headers = signed([NEWEST, PREVIOUS])
    expected = hmac.new(NEWEST.encode(), BODY, hashlib.sha256).hexdigest()
    assert headers["X-Webhook-Signature"] == expected


def test_the_signature_is_the_standard_one_over_id_timestamp_and_body():
    """Standard Webhooks: base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the base64-decoded secret."""
    headers = signed([NEWEST], timestamp=1_700_000_000)
    key = base64.b64decode(NEWEST.removeprefix("whsec_"))
    digest = hmac.new(key, b"evt_1.1700000000." + BODY, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_a_secret_stored_without_the_prefix_still_keys_with_its_bytes():
    headers = signed(["legacy-secret-without-prefix"], timestamp=1_700_000_000)
    digest = hmac.new(b"legacy-secret-without-prefix", b"evt_1.1700000000." + BODY, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


@pytest.mark.parametrize("secrets", [NEWEST, []])
def test_secrets_are_a_non_empty_list(secrets):
    with pytest.raises(TypeError):
        signed(secrets)
