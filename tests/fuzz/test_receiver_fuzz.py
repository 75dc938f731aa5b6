"""Fuzzing the receiver through API Gateway events: any JSON, any bytes, mutated real bodies.

Every request is correctly signed, so the fuzzer reaches decoding, dialect detection,
normalization and state: the answer must be a 2xx or a 4xx, never a 5xx or an exception,
and a 4xx records nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLES = [json.loads(p.read_text()) for p in sorted(FIXTURES.rglob("*.json"))]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
replacement_values = (
    st.none() | st.integers() | st.text(max_size=10) | st.lists(st.integers(), max_size=2) | st.booleans()
)


@st.composite
def mutated_samples(draw):
    """A real gateway body with a few top-level or nested fields removed or replaced."""
    body = json.loads(json.dumps(draw(st.sampled_from(SAMPLES))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        target = body
        if isinstance(target, dict) and target and draw(st.booleans()):
            nested = [k for k, v in target.items() if isinstance(v, dict) and v]
            if nested:
                target = target[draw(st.sampled_from(sorted(nested)))]
        if not isinstance(target, dict) or not target:
            break
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(replacement_values)
    return body


pytestmark = pytest.mark.skipif(not SAMPLES, reason="no fixtures")
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def session(api, tenant):
    return api.create_session(tenant["apiKey"], sessionId="fuzz-1")


def recorded_events() -> int:
    from hub.ingest import store as event_store
    from hub.platform import ddb

    return ddb.client().scan(
        TableName=ddb.name(event_store.TABLE),
        FilterExpression="sessionId = :s",
        ExpressionAttributeValues=ddb.values(s="fuzz-1"),
        Select="COUNT",
    )["Count"]


def post(api, session, raw: bytes, content_type: str = "application/json"):
    """Posts a signed body; a rejected one must have recorded no event."""
    signature = hmac.new(session["inboundSecret"].encode(), raw, hashlib.sha256).hexdigest()
    before = recorded_events()
    reply = api.call(
        "POST",
        "/api/whatsapp/webhook/" + session["receiverHandle"],
        raw=raw,
        headers={"Content-Type": content_type, "X-Webhook-Signature": signature},
    )
    if reply.status >= 400:
        assert recorded_events() == before, reply.raw
    return reply


def assert_client_or_success(reply):
    assert 200 <= reply.status < 500, reply.raw
    body = reply.json
    assert body["success"] is (reply.status < 300)
    if reply.status >= 400:
        assert body["error"]["code"] in {"VALIDATION_ERROR", "INVALID_JSON", "PAYLOAD_TOO_LARGE"}


@FUZZ
@given(body=json_values)
def test_any_json_gets_2xx_or_4xx(api, session, body):
    assert_client_or_success(post(api, session, json.dumps(body).encode()))


@FUZZ
@given(body=mutated_samples())
def test_mutated_gateway_bodies_get_2xx_or_4xx(api, session, body):
    assert_client_or_success(post(api, session, json.dumps(body).encode()))


@FUZZ
@given(
    raw=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]),
)
def test_any_bytes_get_2xx_or_4xx(api, session, raw, content_type):
    assert_client_or_success(post(api, session, raw, content_type))


@FUZZ
@given(body=st.one_of(json_values, mutated_samples()))
def test_body_session_route_never_fails(api, session, body):
    raw = json.dumps(body).encode()
    reply = api.call(
        "POST",
        "/api/whatsapp/webhook?token=" + session["inboundSecret"],
        raw=raw,
        headers={"Content-Type": "application/json"},
    )
    assert reply.status < 500, reply.raw


# --------------------------------------------------------------------------- hostile input classes

HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(
        [
            "\ud83d",
            "\ude00",
            "\udc00",
            "\ufffe",
            "\uffff",
            "\ufdd0",
            "\U0010ffff",
            "\U0001fffe",
            "\x00",
            "a",
            "\U0001f600",
        ]
    ),
    min_size=1,
    max_size=8,
)
SVG_QR = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4="
QR_SAMPLES = [s for s in SAMPLES if "qr" in json.dumps(s).lower()] + [
    {"event": "qr", "data": {"qr": "1@A"}},
    {"event": "qr_ready", "data": {"qrCode": "1@A", "attempts": 1}},
    {"dataType": "qr", "data": {"qr": "1@A"}, "sessionId": "fuzz-1"},
]
hostile_values = st.one_of(
    HOSTILE_TEXT,
    st.integers(2_000, 6_000).map(lambda n: "2@" + "x" * n),  # around and over a QR code's capacity
    st.sampled_from(
        [
            SVG_QR,
            "data:image/svg+xml;utf8,<svg onload='alert(1)'/>",
            "data:image/png;base64,PHN2Zz4=",
            "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
            "data:image/jpeg;base64,/9j/4AAQ",
        ]
    ),
)


def _string_paths(value, path=()):
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_paths(item, (*path, index))


@st.composite
def hostile_bodies(draw) -> bytes:
    """A real body (QR ones favoured) with one text leaf replaced by a hostile value, or a deeply nested body."""
    if draw(st.integers(0, 4)) == 0:
        depth = draw(st.integers(30, 20_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        wrapper = draw(st.sampled_from([(b'{"event":"message","data":', b"}"), (b"", b"")]))
        return wrapper[0] + opener * depth + b"1" + closer * depth + wrapper[1]
    body = json.loads(json.dumps(draw(st.sampled_from(QR_SAMPLES if draw(st.booleans()) else SAMPLES))))
    paths = sorted(_string_paths(body), key=repr)
    if paths:
        *parents, last = draw(st.sampled_from(paths))
        target = body
        for part in parents:
            target = target[part]
        target[last] = draw(hostile_values)
    if draw(st.booleans()):
        return json.dumps(body).encode()  # lone surrogates as \\uXXXX escapes
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")  # raw (invalid UTF-8 for surrogates)


@FUZZ
@given(raw=hostile_bodies())
def test_hostile_bodies_get_2xx_or_4xx_and_a_4xx_records_nothing(api, session, raw):
    assert_client_or_success(post(api, session, raw))


@FUZZ
@given(raw=hostile_bodies())
def test_hostile_bodies_on_the_body_session_route_never_fail(api, session, raw):
    reply = api.call(
        "POST",
        "/api/whatsapp/webhook?token=" + session["inboundSecret"],
        raw=raw,
        headers={"Content-Type": "application/json"},
    )
    assert reply.status < 500, reply.raw
