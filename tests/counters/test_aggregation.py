"""Counters from table changes (hub.counters.aggregation): deltas follow the images, whatever the write history."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.counters import aggregation as aggregating
from hub.counters import store as counters
from hub.platform import catalog

STATUS_BUCKETS = [
    ("session_connected", "connected"),
    ("qr_generated", "needsQR"),
    ("initializing", "loading"),
    ("error", "error"),
    ("session_not_connected", "disconnected"),
]


def session(session_id: str, user: str, pair: tuple[str, str]) -> dict:
    return {"sessionId": session_id, "tenantId": "t1", "userId": user, "status": pair[0], "bucket": pair[1]}


def summary(deltas: aggregating.Deltas, sk: str = "summary") -> Counter:
    return deltas.get((counters.tenant_pk("t1"), sk), Counter())


def test_a_session_counts_where_it_is_and_moves_with_its_status():
    created = aggregating.total([(catalog.SESSIONS.id, None, session("s1", "u1", STATUS_BUCKETS[2]))])
    assert summary(created) == {"sb#initializing#loading": 1}
    assert summary(created, "summary#user#u1") == {"sb#initializing#loading": 1}
    moved = aggregating.total(
        [(catalog.SESSIONS.id, session("s1", "u1", STATUS_BUCKETS[2]), session("s1", "u1", STATUS_BUCKETS[0]))]
    )
    assert summary(moved) == {"sb#initializing#loading": -1, "sb#session_connected#connected": 1}
    removed = aggregating.total([(catalog.SESSIONS.id, session("s1", "u1", STATUS_BUCKETS[0]), None)])
    assert summary(removed) == {"sb#session_connected#connected": -1}


def test_a_write_that_changes_nothing_counts_nothing():
    same = session("s1", "u1", STATUS_BUCKETS[0])
    assert aggregating.total([(catalog.SESSIONS.id, same, dict(same))]) == {}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["u1", "u2"]), st.integers(-1, 4)), min_size=1, max_size=40)
)
def test_summed_deltas_of_any_history_equal_a_recount_of_the_final_sessions(steps):
    """Each step is (session number, owner, new pair index or -1 for a delete), applied in order."""
    sessions: dict[str, dict] = {}
    changes = []
    for number, user, pair in steps:
        session_id = f"s{number}"
        old = sessions.get(session_id)
        new = None if pair < 0 else session(session_id, old["userId"] if old else user, STATUS_BUCKETS[pair])
        if new is None:
            sessions.pop(session_id, None)
        else:
            sessions[session_id] = new
        if old or new:
            changes.append((catalog.SESSIONS.id, old, new))
    deltas = aggregating.total(changes)
    expected = Counter(counters.pair(s["status"], s["bucket"]) for s in sessions.values())
    assert +summary(deltas) == +expected
    for user in ("u1", "u2"):
        owned = Counter(counters.pair(s["status"], s["bucket"]) for s in sessions.values() if s["userId"] == user)
        assert +summary(deltas, f"summary#user#{user}") == +owned


def event(received_at: str) -> dict:
    return {"sessionId": "s1", "eventKey": "k", "tenantId": "t1", "receivedAt": received_at}


def test_each_recorded_event_is_one_received_event_of_its_day():
    usage = (counters.tenant_pk("t1"), "usage#2026-01-02")
    assert aggregating.total([(catalog.EVENTS.id, None, event("2026-01-02T10:00:00.000Z"))]) == {
        usage: {"eventsReceived": 1}
    }
    again_after_expiry = (catalog.EVENTS.id, event("2026-01-01T10:00:00.000Z"), event("2026-01-02T10:00:00.000Z"))
    assert aggregating.total([again_after_expiry]) == {usage: {"eventsReceived": 1}}
    expired = (catalog.EVENTS.id, event("2026-01-02T10:00:00.000Z"), None)
    rewritten = (catalog.EVENTS.id, event("2026-01-02T10:00:00.000Z"), event("2026-01-02T10:00:00.000Z"))
    assert aggregating.total([expired, rewritten]) == {}


def delivery(status: str, attempts: int, day: str = "2026-01-02") -> dict:
    return {
        "webhookId": "wh",
        "tenantId": "t1",
        "instanceId": "s1",
        "event": "session.status",
        "status": status,
        "attempts": attempts,
        "updatedAt": f"{day}T10:00:00.000Z",
    }


def stats(day: str, instance: str = "s1") -> tuple[str, str]:
    pk = counters.tenant_pk("t1") if instance == "*" else "stats#t1#s1"  # an instance's stats: a partition apiece
    return pk, f"stats#{instance}#{day}"


def test_attempts_and_outcomes_count_once_and_a_manual_retry_takes_the_outcome_back():
    changes = [
        (catalog.DELIVERIES.id, None, delivery("retrying", 1)),
        (catalog.DELIVERIES.id, delivery("retrying", 1), delivery("failed", 2)),
    ]
    deltas = aggregating.total(changes)
    assert deltas[(counters.tenant_pk("t1"), "usage#2026-01-02")] == {"deliveriesAttempted": 2}
    outcome = {"total": 1, "failed": 1, "ev#session.status": 1}
    assert deltas[stats("2026-01-02")] == outcome and deltas[stats("2026-01-02", "*")] == outcome
    retried = [
        (catalog.DELIVERIES.id, delivery("failed", 2), delivery("pending", 2, "2026-01-03")),
        (catalog.DELIVERIES.id, delivery("pending", 2, "2026-01-03"), delivery("success", 3, "2026-01-03")),
    ]
    deltas = aggregating.total(retried)
    assert deltas[stats("2026-01-02")] == {"total": -1, "failed": -1, "ev#session.status": -1}
    assert deltas[stats("2026-01-03")] == {"total": 1, "success": 1, "ev#session.status": 1}
    assert deltas[(counters.tenant_pk("t1"), "usage#2026-01-03")] == {
        "deliveriesAttempted": 1,
        "deliveriesSucceeded": 1,
    }


def test_a_removed_log_keeps_its_stats():
    assert aggregating.total([(catalog.DELIVERIES.id, delivery("success", 1), None)]) == {}
