"""Push over the local WebSocket API: the same $connect/$disconnect and push functions as in the cloud,
with the local stand-in of the @connections management API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from local.hub import LocalHub


@pytest.fixture(scope="module")
def hub():
    with LocalHub(port=0) as running:
        yield running


def create_session(hub: LocalHub, session_id: str, user_id: str = "u-1") -> dict:
    reply = requests.post(
        f"{hub.base_url}/api/whatsapp/session",
        headers={"X-API-Key": hub.dev_api_key},
        timeout=10,
        json={"sessionId": session_id, "userId": user_id},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["data"]


def create_link(hub: LocalHub, session_id: str) -> str:
    """The url of a new connect link for the session."""
    reply = requests.post(
        f"{hub.base_url}/api/whatsapp/session/{session_id}/connect-link",
        headers={"X-API-Key": hub.dev_api_key},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["data"]["url"]


def _token(hub: LocalHub, session_id: str) -> str:
    return create_link(hub, session_id).rsplit("/", 1)[1]


def post_event(hub: LocalHub, session: dict, body: dict) -> None:
    raw = json.dumps(body).encode()
    signature = hmac.new(session["inboundSecret"].encode(), raw, hashlib.sha256).hexdigest()
    reply = requests.post(
        f"{hub.base_url}/api/whatsapp/webhook/{session['receiverHandle']}",
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", "X-Webhook-Signature": signature},
    )
    assert reply.status_code == 200, reply.text


def _socket(hub: LocalHub, token: str):
    assert hub.sockets
    return connect(f"{hub.sockets.websocket_url}?token={token}", open_timeout=10)


def receive_status(socket, status: str, timeout_s: float = 5) -> dict:
    """The first pushed message showing `status` (the session's creation may still be on its way first)."""
    deadline = time.monotonic() + timeout_s
    while True:
        message = json.loads(socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        assert message["type"] == "session.status"
        if message["session"]["status"] == status:
            return message["session"]


def _watchers(session_id: str) -> list:
    """The watchers of the dev tenant's session (the only tenant of these hubs)."""
    from hub.connect import store as connections
    from hub.platform import ddb

    keys = {
        item["sessionKey"]["S"]
        for item in ddb.client().scan(TableName=ddb.name(connections.TABLE))["Items"]
        if item["sessionKey"]["S"].endswith("#" + session_id)
    }
    return [w for key in keys for w in connections.watching(key)]


def test_status_changes_are_pushed_to_the_sessions_watchers(hub: LocalHub) -> None:
    session = create_session(hub, "push-1")
    create_session(hub, "push-2")
    with _socket(hub, _token(hub, "push-1")) as watcher, _socket(hub, _token(hub, "push-2")) as other:
        assert [w.connection_id for w in _watchers("push-1")] and len(_watchers("push-2")) == 1
        post_event(hub, session, {"event": "qr", "data": {"qr": "1@pushed,qr"}})
        shown = receive_status(watcher, "qr_generated")
        assert shown["sessionId"] == "push-1" and shown["qrImage"].startswith("data:image/png;base64,")
        post_event(hub, session, {"event": "ready", "data": {}})
        assert receive_status(watcher, "session_connected")["isConnected"] is True
        while True:  # push-2 did not change after its creation: its watcher hears nothing about push-1
            try:
                heard = json.loads(other.recv(timeout=1))
            except TimeoutError:
                break
            assert (heard["session"]["sessionId"], heard["session"]["status"]) == ("push-2", "initializing")
    deadline = time.monotonic() + 5
    while _watchers("push-1") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _watchers("push-1"), "$disconnect forgets the connection"


@pytest.mark.parametrize("token", ["forged.token", ""])
def test_a_bad_token_is_refused_at_the_handshake(hub: LocalHub, token: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        _socket(hub, token)
    assert refused.value.response.status_code == 401


def test_a_gone_connection_is_forgotten(hub: LocalHub) -> None:
    from hub.connect import store as connections

    session = create_session(hub, "push-gone")
    connections.add(
        "gone-connection=", [f"{hub.dev_tenant_id}#push-gone"], int(time.time()) + 600, "session", now=time.time() - 60
    )
    connections.add("just-connecting=", [f"{hub.dev_tenant_id}#push-gone"], int(time.time()) + 600, "session")
    post_event(hub, session, {"event": "qr", "data": {"qr": "1@gone"}})
    deadline = time.monotonic() + 5
    while len(_watchers("push-gone")) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [w.connection_id for w in _watchers("push-gone")] == ["just-connecting="]


def test_revoking_a_sessions_links_tells_and_drops_only_their_pages(hub: LocalHub) -> None:
    create_session(hub, "push-revoke", user_id="u-revoke")
    old_token = _token(hub, "push-revoke")
    user = (
        requests.post(
            f"{hub.base_url}/api/whatsapp/user/u-revoke/connect-link",
            headers={"X-API-Key": hub.dev_api_key},
            timeout=10,
        )
        .json()["data"]["url"]
        .rsplit("/", 1)[1]
    )
    with _socket(hub, old_token) as revoked, _socket(hub, user) as user_watcher:
        time.sleep(0.05)  # the revocation must come after these connections
        reply = requests.delete(
            f"{hub.base_url}/api/whatsapp/session/push-revoke/connect-link",
            headers={"X-API-Key": hub.dev_api_key},
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        while (message := json.loads(revoked.recv(timeout=5)))["type"] != "link.revoked":
            pass
        assert message["sessionId"] == "push-revoke"
        new_token = _token(hub, "push-revoke")
        with _socket(hub, new_token):
            deadline = time.monotonic() + 5
            while len(_watchers("push-revoke")) != 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(_watchers("push-revoke")) == 2, "the user link's and the new link's connections stay"
        try:
            while True:
                assert json.loads(user_watcher.recv(timeout=1))["type"] != "link.revoked"
        except TimeoutError:
            pass
    with pytest.raises(InvalidStatus) as refused:
        _socket(hub, old_token)
    assert refused.value.response.status_code == 410


def test_no_stream_has_more_readers_than_dynamodb_advises() -> None:
    from hub.platform import catalog

    readers: dict[str, int] = {}
    for function in catalog.FUNCTIONS:
        for trigger in function.stream_triggers:
            readers[trigger.table] = readers.get(trigger.table, 0) + 1
    assert readers[catalog.SESSIONS.id] == catalog.MAX_STREAM_READERS  # the aggregator and push
    assert max(readers.values()) <= catalog.MAX_STREAM_READERS


def test_a_message_over_api_gateways_payload_quota_is_refused() -> None:
    from hub.connect import pushing

    assert (
        len(pushing.encode({"type": "session.status", "session": {"qrImage": "x" * 1000}})) < pushing.MAX_MESSAGE_BYTES
    )
    with pytest.raises(ValueError, match="over API Gateway"):
        pushing.encode({"type": "session.status", "session": {"qrImage": "x" * pushing.MAX_MESSAGE_BYTES}})


def test_changes_no_watcher_sees_are_not_pushed() -> None:
    from hub.connect import watching
    from hub.sessions.models import SessionRecord

    before = SessionRecord(
        sessionId="s", tenantId="t", receiverHandle="rcv_s", userId="u", createdAt="a", updatedAt="a", inboundSecret="x"
    )
    touched = before.model_copy(update={"updatedAt": "b", "version": 1})
    assert watching.change_message(before, touched) is None
    moved = before.model_copy(update={"state": before.state.model_copy(update={"phone_number": "6281234"})})
    assert watching.change_message(before, moved)["type"] == "session.status"
    assert watching.change_message(before, None) == {"type": "session.deleted", "sessionId": "s"}
