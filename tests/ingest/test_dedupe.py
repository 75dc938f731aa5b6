"""Dedupe tells retries from repeats; ids are unique per occurrence; event time cannot be poisoned."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.ingest import dialects, receiving
from hub.ingest import store as event_store
from hub.platform import ddb
from hub.sessions import store as session_store

DISCONNECTED = {"event": "disconnected", "data": {"reason": "LOGOUT"}}
ID_LESS_CONNECTS = {
    "wwebjs-api": {"dataType": "ready", "sessionId": "wa-1"},
    "wwebjs": {"event": "ready", "data": {}},
    "worker": {"event": "connected", "data": {"phoneNumber": "6281234"}},
    "wuzapi": {"type": "Connected", "event": {}, "userID": "1", "instanceName": "wa-1"},
    "baileys-api": {"type": "connection", "body": {"connection": "open"}, "instanceKey": "wa-1"},
}
MESSAGE_ID = "false_5511999990000@c.us_3EB0AAA"


def message(envelope_time: int) -> dict:
    return {
        "event": "message",
        "timestamp": envelope_time,
        "data": {
            "id": {"_serialized": MESSAGE_ID},
            "from": "5511999990000@c.us",
            "to": "5511988887777@c.us",
            "body": "hi",
            "type": "chat",
            "timestamp": 1735732800,
        },
    }


def ack(value: int, envelope_time: int) -> dict:
    return {
        "event": "message_ack",
        "timestamp": envelope_time,
        "data": {"id": {"_serialized": MESSAGE_ID}, "ack": value},
    }


@pytest.fixture
def session(api, tenant):
    return {**api.create_session(tenant["apiKey"], sessionId="wa-1"), "apiKey": tenant["apiKey"]}


def post(api, session, body):
    raw = json.dumps(body).encode()
    signature = hmac.new(session["inboundSecret"].encode(), raw, hashlib.sha256).hexdigest()
    reply = api.call(
        "POST",
        "/api/whatsapp/webhook/" + session["receiverHandle"],
        raw=raw,
        headers={"Content-Type": "application/json", "X-Webhook-Signature": signature},
    )
    assert reply.status == 200, reply.raw
    return reply.data


def status_of(api, session):
    return api.call("GET", f"/api/whatsapp/session/status/{session['sessionId']}", api_key=session["apiKey"]).data


def payloads(session_id: str) -> list[dict]:
    items = ddb.client().scan(
        TableName=ddb.name(event_store.TABLE),
        FilterExpression="sessionId = :s",
        ExpressionAttributeValues=ddb.values(s=session_id),
    )["Items"]
    return [json.loads(event_store.from_item(item).payload) for item in items]


@pytest.mark.parametrize("dialect", sorted(ID_LESS_CONNECTS))
def test_a_real_reconnect_with_an_identical_id_less_body_is_a_new_occurrence(api, session, dialect):
    connect = ID_LESS_CONNECTS[dialect]
    first = post(api, session, connect)
    assert post(api, session, DISCONNECTED)["duplicate"] is False
    assert status_of(api, session)["status"] == "logged_out"
    again = post(api, session, connect)
    assert again["duplicate"] is False and again["eventId"] != first["eventId"]
    assert status_of(api, session)["status"] == "session_connected"
    assert len(payloads("wa-1")) == 3


@pytest.mark.parametrize("dialect", sorted(ID_LESS_CONNECTS))
def test_a_retry_of_an_id_less_body_before_the_session_moves_on_is_a_duplicate(api, session, dialect):
    first = post(api, session, ID_LESS_CONNECTS[dialect])
    post(api, session, message(1735732801))  # a message does not move the session's lifecycle on
    retry = post(api, session, ID_LESS_CONNECTS[dialect])
    assert retry == {**first, "duplicate": True}
    assert len(payloads("wa-1")) == 2


def test_the_same_message_under_a_fresh_envelope_timestamp_is_a_duplicate(api, session):
    first = post(api, session, message(1735732801))
    again = post(api, session, message(1735732999))
    assert again == {**first, "duplicate": True}
    assert [p["data"]["messageId"] for p in payloads("wa-1")] == [MESSAGE_ID]


def test_a_message_id_too_long_for_a_dynamodb_key_is_stored_hashed_and_still_dedupes(api, session):
    """DynamoDB refuses sort keys over 1024 bytes (moto too): a gateway's id is unbounded."""
    body = message(1735732801)
    body["data"]["id"]["_serialized"] = "false_5511999990000@c.us_" + "\u00e9" * 1500
    first = post(api, session, body)
    assert post(api, session, {**body, "timestamp": 1735732999}) == {**first, "duplicate": True}


def test_acks_are_keyed_by_message_id_and_ack_value(api, session):
    delivered, read = post(api, session, ack(2, 1735732801)), post(api, session, ack(3, 1735732802))
    assert delivered["duplicate"] is False and read["duplicate"] is False
    assert post(api, session, ack(3, 1735732900)) == {**read, "duplicate": True}


def test_a_session_id_reused_by_another_tenant_starts_afresh(api, session):
    first = post(api, session, {"event": "ready", "data": {}})
    assert api.call("DELETE", "/api/whatsapp/session/wa-1", api_key=session["apiKey"]).status == 200
    other = api.create_tenant("other")
    reused = {**api.create_session(other["apiKey"], sessionId="wa-1"), "apiKey": other["apiKey"]}
    second = post(api, reused, {"event": "ready", "data": {}})
    assert second["duplicate"] is False and second["eventId"] != first["eventId"]
    assert status_of(api, reused)["status"] == "session_connected"


def test_an_event_recorded_again_after_the_window_gets_new_ids(api, tenant, session):
    record = session_store.get(tenant["tenantId"], "wa-1")
    body = {"event": "message", "data": message(1)["data"]}
    event = dialects.normalize(body, session_id="wa-1")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    first = receiving.receive(record, event, json.dumps(body).encode(), start)
    retry = receiving.receive(record, event, json.dumps(body).encode(), start + timedelta(hours=1))
    later = receiving.receive(record, event, json.dumps(body).encode(), start + timedelta(hours=25))
    assert retry.duplicate and retry.eventId == first.eventId
    assert not later.duplicate and later.eventId != first.eventId
    assert [p["id"] for p in payloads("wa-1")] == [later.eventId]


def test_a_far_future_timestamp_does_not_freeze_the_session(api, session):
    poisoned = post(api, session, {"event": "ready", "timestamp": 99999999999})
    stored = next(p for p in payloads("wa-1") if p["id"] == poisoned["eventId"])
    assert stored["data"]["clockSkew"] is True and stored["data"]["reportedTimestamp"].startswith("5138-")
    assert stored["timestamp"][:4] == str(datetime.now(UTC).year)
    post(
        api,
        session,
        {"event": "disconnected", "data": {"reason": "LOGOUT"}, "timestamp": int(datetime.now().timestamp()) + 2},
    )
    assert status_of(api, session)["status"] == "logged_out"
    post(api, session, {"event": "qr", "data": {"qr": "1@fresh"}, "timestamp": int(datetime.now().timestamp()) + 3})
    assert status_of(api, session)["status"] == "qr_generated"


# --------------------------------------------------------------------------- retries change nothing

ORIGINALS = [
    {"dataType": "ready", "sessionId": "p-1"},
    {"dataType": "disconnected", "sessionId": "p-1", "data": {"reason": "NAVIGATION"}},
    {"event": "qr", "data": {"qr": "1@A"}},
    {"event": "ready", "data": {}},
    {"event": "disconnected", "data": {"reason": "LOGOUT"}},
    {"event": "ready", "data": {}, "timestamp": 1767225610},
    {"event": "presence_update", "data": {"id": "5511999990000@c.us", "state": "composing"}},
    message(1767225600),
    ack(2, 1767225605),
    ack(3, 1767225607),
    {
        "event": "session.status",
        "session": "p-1",
        "payload": {"name": "p-1", "status": "WORKING"},
        "id": "evt_w1",
        "timestamp": 1767225620000,
    },
    {
        "event": "session.status",
        "session": "p-1",
        "payload": {"name": "p-1", "status": "STOPPED"},
        "id": "evt_w2",
        "timestamp": 1767225630000,
    },
]
HAS_ID = [dialects.normalize(b, session_id="p-1").data.get("messageId") is not None or "id" in b for b in ORIGINALS]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def posts_with_retries(draw):
    """Originals (indexes into ORIGINALS, repeats allowed) and the same sequence with retries interleaved:
    a body with a gateway id may be retried any time later; an id-less one only before any other event."""
    originals = draw(st.lists(st.integers(0, len(ORIGINALS) - 1), min_size=1, max_size=8))
    with_retries: list[tuple[int, int, bool]] = []  # (original position, body index, is retry)
    pending: list[tuple[int, int]] = []
    for position, body in enumerate(originals):
        with_retries.append((position, body, False))
        if not HAS_ID[body]:
            with_retries += [(position, body, True)] * draw(st.integers(0, 2))
        elif draw(st.booleans()):
            pending.append((position, body))
        for waiting in list(pending):
            if waiting[0] < position and draw(st.booleans()):
                with_retries.append((*waiting, True))
                pending.remove(waiting)
    with_retries += [(*waiting, True) for waiting in pending]
    return originals, with_retries


def _run(steps) -> tuple[dict, list[dict], dict]:
    """Receives `steps` on a fresh session p-1: the original at position n arrives at T0 + n minutes, a
    retry a few ms after the latest original; returns (state, recorded payloads, eventId per position)."""
    tenant = session_store.SessionRecord(
        sessionId="p-1",
        tenantId="t-1",
        receiverHandle="rcv_p1",
        userId="u",
        createdAt="2026-01-01T00:00:00.000Z",
        updatedAt="2026-01-01T00:00:00.000Z",
        inboundSecret="s",
    )
    table = ddb.name(event_store.TABLE)
    for item in ddb.client().scan(
        TableName=table, FilterExpression="sessionId = :s", ExpressionAttributeValues=ddb.values(s="p-1")
    )["Items"]:
        ddb.client().delete_item(TableName=table, Key={"sessionKey": item["sessionKey"], "eventKey": item["eventKey"]})
    ddb.client().put_item(TableName=ddb.name(session_store.TABLE), Item=session_store.to_item(tenant))
    ids: dict[int, str] = {}
    latest, retries = 0, 0
    for position, body, is_retry in steps:
        retries = retries + 1 if is_retry else 0
        latest = latest if is_retry else position
        now = T0 + timedelta(minutes=latest, milliseconds=retries)
        raw = json.dumps(ORIGINALS[body]).encode()
        receipt = receiving.receive(
            session_store.get("t-1", "p-1"), dialects.normalize(ORIGINALS[body], session_id="p-1"), raw, now
        )
        if is_retry:
            assert receipt.duplicate and receipt.eventId == ids[position]
        else:
            ids[position] = receipt.eventId
    final = session_store.get("t-1", "p-1")
    return final.state.model_dump(), sorted(payloads("p-1"), key=lambda p: p["id"]), ids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=posts_with_retries())
def test_retries_change_neither_state_nor_delivered_events(aws, case):
    originals, with_retries = case
    assert _run(with_retries) == _run([(position, body, False) for position, body in enumerate(originals)])
