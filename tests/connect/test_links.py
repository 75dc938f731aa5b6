"""Connect links through the routes: creating them, the page, the token-scoped status, and every refusal."""

from __future__ import annotations

import json

import pytest
from itsdangerous import URLSafeSerializer

from hub.connect import links

RECEIVER = "/api/whatsapp/webhook/{}"


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _link(api, api_key: str, session_id: str, **body) -> dict:
    reply = api.call("POST", f"/api/whatsapp/session/{session_id}/connect-link", api_key=api_key, body=body or None)
    assert reply.status == 201, reply.raw
    return reply.data


def _status(api, token: str):
    return api.call("GET", "/api/connect/status", headers={"Authorization": f"Bearer {token}"})


def _post_event(api, session: dict, body: dict) -> None:
    import hashlib
    import hmac

    raw = json.dumps(body).encode()
    signature = hmac.new(session["inboundSecret"].encode(), raw, hashlib.sha256).hexdigest()
    reply = api.call(
        "POST",
        RECEIVER.format(session["receiverHandle"]),
        raw=raw,
        headers={"Content-Type": "application/json", "X-Webhook-Signature": signature},
    )
    assert reply.status == 200, reply.raw


def test_a_link_opens_the_page_and_reads_the_session(api, tenant) -> None:
    session = api.create_session(tenant["apiKey"], sessionId="s-1")
    link = _link(api, tenant["apiKey"], "s-1")
    assert link["url"].startswith("http://127.0.0.1:3000/connect/") and tenant["apiKey"] not in link["url"]
    page = api.call("GET", "/connect/" + _token(link["url"]))
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert (page.headers["cache-control"], page.headers["referrer-policy"]) == ("no-store", "no-referrer")
    _post_event(api, session, {"event": "qr", "data": {"qr": "1@QR,for,s-1"}})
    status = _status(api, _token(link["url"]))
    assert status.status == 200 and status.headers["cache-control"] == "no-store"
    [shown] = status.data["sessions"]
    assert (status.data["kind"], shown["sessionId"], shown["status"], shown["qrAttempts"]) == (
        "session",
        "s-1",
        "qr_generated",
        1,
    )
    assert shown["qrImage"].startswith("data:image/png;base64,") and "inboundSecret" not in shown


def test_assets_are_served_and_unknown_ones_are_not(api) -> None:
    for asset, kind in (
        ("connect.js", "text/javascript"),
        ("connect.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ):
        reply = api.call("GET", f"/connect/static/{asset}")
        assert reply.status == 200 and reply.headers["content-type"].startswith(kind)
    assert api.call("GET", "/connect/static/..%2Fhandler.py").status == 404


def test_forged_expired_and_revoked_links_are_refused(api, tenant) -> None:
    api.create_session(tenant["apiKey"], sessionId="s-a")
    api.create_session(tenant["apiKey"], sessionId="s-b")
    good = _token(_link(api, tenant["apiKey"], "s-a")["url"])
    forged = URLSafeSerializer("not-the-hub-key", salt=links.SALT).dumps(
        {"t": tenant["tenantId"], "s": "s-b", "e": 2**40}
    )
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    expired, _ = links.issue(tenant["tenantId"], session_id="s-a", ttl_s=-1)
    for token, status, code in (
        (forged, 401, "LINK_INVALID"),
        (tampered, 401, "LINK_INVALID"),
        ("x", 401, "LINK_INVALID"),
        (expired, 410, "LINK_EXPIRED"),
    ):
        reply = _status(api, token)
        assert (reply.status, reply.error_code) == (status, code)
        page = api.call("GET", "/connect/" + token)
        assert page.status == status and f'data-code="{code}"' in page.raw.decode()
    assert (_status(api, "").status, _status(api, "").error_code) == (401, "LINK_INVALID")
    assert api.call("DELETE", "/api/whatsapp/session/s-a", api_key=tenant["apiKey"]).status == 200
    assert (_status(api, good).status, _status(api, good).error_code) == (410, "LINK_REVOKED")


def test_a_session_link_never_shows_another_session(api, tenant) -> None:
    api.create_session(tenant["apiKey"], sessionId="s-a", userId="u-1")
    api.create_session(tenant["apiKey"], sessionId="s-b", userId="u-1")
    token = _token(_link(api, tenant["apiKey"], "s-a")["url"])
    assert [s["sessionId"] for s in _status(api, token).data["sessions"]] == ["s-a"]
    other = api.create_tenant("other")
    assert api.call("POST", "/api/whatsapp/session/s-a/connect-link", api_key=other["apiKey"]).error_code == "NOT_FOUND"


def test_revoking_a_sessions_links_refuses_them_and_not_later_ones(api, tenant) -> None:
    api.create_session(tenant["apiKey"], sessionId="s-a")
    api.create_session(tenant["apiKey"], sessionId="s-b")
    before = _token(_link(api, tenant["apiKey"], "s-a")["url"])
    other_session = _token(_link(api, tenant["apiKey"], "s-b")["url"])
    reply = api.call("DELETE", "/api/whatsapp/session/s-a/connect-link", api_key=tenant["apiKey"])
    assert reply.status == 200 and reply.data["sessionId"] == "s-a"
    assert (_status(api, before).status, _status(api, before).error_code) == (410, "LINK_REVOKED")
    assert api.call("GET", "/connect/" + before).status == 410
    after = _token(_link(api, tenant["apiKey"], "s-a")["url"])
    assert _status(api, after).status == 200 and _status(api, other_session).status == 200
    other = api.create_tenant("other")
    assert (
        api.call("DELETE", "/api/whatsapp/session/s-a/connect-link", api_key=other["apiKey"]).error_code == "NOT_FOUND"
    )


def test_a_revoked_tenant_revokes_its_links(api, tenant) -> None:
    api.create_session(tenant["apiKey"], sessionId="s-a")
    token = _token(_link(api, tenant["apiKey"], "s-a")["url"])
    assert api.call("DELETE", f"/api/admin/tenants/{tenant['tenantId']}", admin=True).status == 200
    assert _status(api, token).error_code == "LINK_REVOKED"


def test_a_user_link_lists_that_users_sessions_only(api, tenant) -> None:
    for session_id, user in (("s-1", "u-1"), ("s-2", "u-1"), ("s-3", "u-2")):
        api.create_session(tenant["apiKey"], sessionId=session_id, userId=user)
    reply = api.call("POST", "/api/whatsapp/user/u-1/connect-link", api_key=tenant["apiKey"])
    assert reply.status == 201
    status = _status(api, _token(reply.data["url"]))
    assert status.data["kind"] == "user" and sorted(s["sessionId"] for s in status.data["sessions"]) == ["s-1", "s-2"]


def test_link_lifetime_default_and_cap(api, tenant, monkeypatch) -> None:
    import time

    from hub.platform import settings

    api.create_session(tenant["apiKey"], sessionId="s-a")
    now = time.time()
    assert abs(_link(api, tenant["apiKey"], "s-a")["expiresAt"] - (now + 900)) <= 5
    monkeypatch.setenv("CONNECT_LINK_MAX_TTL_S", "3600")
    settings.load.cache_clear()
    assert abs(_link(api, tenant["apiKey"], "s-a", ttlSeconds=86400)["expiresAt"] - (now + 3600)) <= 5
    bad = api.call("POST", "/api/whatsapp/session/s-a/connect-link", api_key=tenant["apiKey"], body={"ttlSeconds": 5})
    assert (bad.status, bad.error_code) == (400, "VALIDATION_ERROR")
    assert api.call("POST", "/api/whatsapp/session/s-a/connect-link").status == 401


def test_no_signing_key_means_no_links(api, tenant, monkeypatch) -> None:
    api.create_session(tenant["apiKey"], sessionId="s-a")
    monkeypatch.setenv("CONNECT_LINK_SECRET", "")
    reply = api.call("POST", "/api/whatsapp/session/s-a/connect-link", api_key=tenant["apiKey"])
    assert (reply.status, reply.error_code) == (503, "UNAVAILABLE")


@pytest.mark.parametrize("stage_labels", [("AWSCURRENT",), ("AWSCURRENT", "AWSPREVIOUS")])
def test_rotation_keeps_links_signed_with_the_previous_key(aws, monkeypatch, stage_labels) -> None:
    import boto3

    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="link-key", SecretString="key-one")["ARN"]
    monkeypatch.setenv("CONNECT_LINK_SECRET_ARN", arn)
    links._secret_cache.clear()
    old, _ = links.issue("t-1", session_id="s-1", ttl_s=60)
    if "AWSPREVIOUS" in stage_labels:
        client.put_secret_value(SecretId=arn, SecretString="key-two")  # moves key-one to AWSPREVIOUS
        links._secret_cache.clear()
        new, _ = links.issue("t-1", session_id="s-1", ttl_s=60)
        assert links.verify(new).session_id == "s-1"
        assert URLSafeSerializer("key-two", salt=links.SALT).loads(new)["s"] == "s-1"
    assert links.verify(old).tenant_id == "t-1"
