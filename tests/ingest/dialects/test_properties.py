"""Property tests: whatever JSON arrives, normalize() returns an event or raises NoDialectMatched, nothing else."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.ingest.dialects import DIALECTS, NoDialectMatched, decode_body, normalize, session_id_from_body
from hub.ingest.models import NormalizedEvent

from .helpers import fixture_files, load

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ENVELOPE_KEYS = [
    "event",
    "data",
    "timestamp",
    "session",
    "payload",
    "engine",
    "me",
    "id",
    "instance",
    "date_time",
    "dataType",
    "sessionId",
    "type",
    "body",
    "instanceKey",
    "device",
    "device_id",
    "session_id",
    "jsonData",
    "instanceId",
    "userID",
    "instanceName",
    "qrCodeBase64",
    "state",
    "deviceHash",
    "numberHash",
    "status",
    "message",
    "key",
    "messages",
    "update",
    "ack",
    "qr",
    "reason",
    "percent",
    "statuses",
    "reaction",
    "ids",
    "receipt_type",
    "Info",
    "MessageIDs",
    "connection",
    "code",
    "devices",
    "error",
    "fromMe",
    "remoteJid",
]
EVENT_NAMES = sorted({name for d in DIALECTS for name in getattr(d, "EVENTS", {})} | {"connected", "container_event"})

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(EVENT_NAMES)
    | st.sampled_from([1735732800, 1735732800789, "2025-01-01T12:00:00Z"])
)
keys = st.sampled_from(ENVELOPE_KEYS) | st.text(max_size=8)

json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=25,
)
"""Any JSON value, biased towards the keys and event names the dialects look at."""


def _outcome(body: Any, session_id: str | None) -> NormalizedEvent | None:
    before = copy.deepcopy(body)
    try:
        result = normalize(body, session_id=session_id)
    except NoDialectMatched as exc:
        assert isinstance(exc.expected, str) and exc.expected
        assert all(set(d) == {"field", "message"} for d in exc.details)
        result = None
    assert body == before, "normalize must not mutate its input"
    if result is not None:
        assert isinstance(result, NormalizedEvent)
        json.dumps(result.model_dump(mode="json"))  # outbound data must be JSON
        assert result.session_id
        assert (result.lifecycle is not None) == result.type.startswith("session.")
        if result.type == "gateway.unknown":
            assert result.data == {"body": before}
    session = session_id_from_body(body)
    assert session is None or (isinstance(session, str) and session)
    return result


@SETTINGS
@given(body=json_values, session_id=st.none() | st.just("path-session"))
def test_any_json_gives_an_event_or_no_dialect_matched(body: Any, session_id: str | None) -> None:
    _outcome(body, session_id)


FIXTURE_BODIES = [load(rel) for rel in fixture_files()]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> Any:
    body = copy.deepcopy(draw(st.sampled_from(FIXTURE_BODIES)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p in _paths(body) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = body
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["delete", "replace", "retype"]))
        last = path[-1]
        if action == "delete":
            del parent[last]
        elif action == "replace":
            parent[last] = draw(json_values)
        else:  # same value, other JSON type
            old = parent[last]
            parent[last] = draw(st.sampled_from([str(old), [old], {"v": old}, None, 0, True, -1.5, ""]))
    return body


@SETTINGS
@given(body=mutated_fixtures(), session_id=st.none() | st.just("path-session"))
def test_mutated_fixtures_give_an_event_or_no_dialect_matched(body: Any, session_id: str | None) -> None:
    _outcome(body, session_id)


def _names(dialect_name: str) -> list[str]:
    return sorted(next(d for d in DIALECTS if dialect_name == d.NAME).EVENTS)


inner = st.dictionaries(keys, json_values, max_size=8)
TEMPLATES = [
    ("wwebjs", lambda n, d: {"event": n, "data": d}),
    ("worker", lambda n, d: {"event": n, "data": d}),
    ("worker", lambda n, d: {"event": n, "data": [d]}),
    ("gateway", lambda n, d: {"event": n, "instanceId": "i", "data": d}),
    ("device", lambda n, d: {"device": {"deviceHash": "h"}, "event": {**d, "type": n}}),
    ("waha", lambda n, d: {"event": n, "session": "s", "payload": d}),
    ("evolution", lambda n, d: {"event": n, "instance": "i", "data": d}),
    ("wwebjs-api", lambda n, d: {"dataType": n, "sessionId": "s", "data": d}),
    ("gowa", lambda n, d: {"event": n, "device_id": "d", "payload": d}),
    ("wuzapi", lambda n, d: {**d, "type": n, "instanceName": "w"}),
    ("wuzapi", lambda n, d: {"jsonData": {**d, "type": n}, "userID": "u"}),
    ("baileys-api", lambda n, d: {"type": n, "body": d, "instanceKey": "k"}),
]


@st.composite
def shaped_bodies(draw: st.DrawFn) -> Any:
    """A dialect's envelope with one of its own event names around random inner data."""
    dialect, build = draw(st.sampled_from(TEMPLATES))
    return build(draw(st.sampled_from(_names(dialect))), draw(inner))


@SETTINGS
@given(body=shaped_bodies(), session_id=st.none() | st.just("path-session"))
def test_dialect_shaped_bodies_give_an_event_or_no_dialect_matched(body: Any, session_id: str | None) -> None:
    _outcome(body, session_id)


content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data",
    ]
)


@SETTINGS
@given(
    data=st.binary(max_size=300) | st.builds(lambda b: b"jsonData=" + b, st.binary(max_size=100)),
    content_type=content_types,
)
def test_decode_body_returns_or_raises_value_error(data: bytes, content_type: str | None) -> None:
    with contextlib.suppress(ValueError):
        decode_body(data, content_type)


@SETTINGS
@given(body=json_values)
def test_decode_body_round_trips_json(body: Any) -> None:
    assert decode_body(json.dumps(body).encode(), "application/json") == body
