"""The session state machine: docs/contract.md §5 rules and order independence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.ingest import state
from hub.ingest.models import Lifecycle, NormalizedEvent, SessionStatus

S = SessionStatus
T0 = datetime(2026, 1, 1, tzinfo=UTC)
MAX_QR = 3


def lifecycle_event(status: SessionStatus, **facts) -> NormalizedEvent:
    kind = "session.qr" if status is S.QR_GENERATED else "session.status"
    return NormalizedEvent(
        type=kind,
        session_id="s",
        dialect="test",
        source_event=status.value,
        lifecycle=Lifecycle(status=status, **facts),
    )


def run(events: list[tuple], initial: state.SessionState | None = None) -> state.SessionState:
    """Applies (seconds, event) or (seconds, event id, event) tuples in the order given."""
    current = initial or state.SessionState()
    for seconds, *rest in events:
        event_id, event = rest if len(rest) == 2 else (f"evt_{seconds:06d}", rest[0])
        current = state.apply(current, event, state.order_key(T0 + timedelta(seconds=seconds), event_id), MAX_QR)
    return current


def shown(current: state.SessionState) -> state.SessionView:
    return state.view(current, MAX_QR)


def test_new_session_is_initializing_and_loading():
    view = shown(state.SessionState())
    assert (view.status, view.is_loading, view.bucket) == (S.INITIALIZING, True, "loading")


def test_qr_event_stores_qr_counts_attempts_and_needs_qr():
    view = shown(run([(1, lifecycle_event(S.QR_GENERATED, qr="1@A")), (2, lifecycle_event(S.QR_GENERATED, qr="1@B"))]))
    assert view.status is S.QR_GENERATED
    assert (view.qr, view.qr_attempts, view.needs_qr, view.bucket) == ("1@B", 2, True, "needsQR")
    assert view.message == "QR code generated, scan to connect"


def test_leaving_qr_generated_clears_the_qr_and_connected_stores_phone():
    current = run(
        [
            (1, lifecycle_event(S.QR_GENERATED, qr="1@A")),
            (2, lifecycle_event(S.SESSION_CONNECTED, phone_number="628123", display_name="Shop")),
        ]
    )
    view = shown(current)
    assert (view.status, view.qr, view.qr_image, view.is_connected) == (S.SESSION_CONNECTED, None, None, True)
    assert (current.phone_number, current.display_name) == ("628123", "Shop")
    assert view.message == "WhatsApp session connected successfully"
    later = shown(run([(3, lifecycle_event(S.SESSION_NOT_CONNECTED, reason="network"))], current))
    assert later.status is S.SESSION_NOT_CONNECTED and later.bucket == "disconnected"


def test_qr_status_without_a_qr_value_does_not_need_qr():
    view = shown(run([(1, lifecycle_event(S.QR_GENERATED))]))
    assert (view.status, view.needs_qr, view.bucket) == (S.QR_GENERATED, False, "disconnected")


def test_more_qr_codes_than_allowed_auto_disconnect_the_session():
    current = run([(i, lifecycle_event(S.QR_GENERATED, qr=f"1@{i}")) for i in range(1, MAX_QR + 2)])
    view = shown(current)
    assert view.status is S.SESSION_NOT_CONNECTED
    assert (view.reason, view.qr, view.needs_qr) == ("max_qr_attempts_reached", None, False)


def test_a_new_cycle_resets_the_qr_count():
    events = [(i, lifecycle_event(S.QR_GENERATED, qr=f"1@{i}")) for i in range(1, 4)]
    events += [
        (10, lifecycle_event(S.SESSION_CONNECTED)),
        (11, lifecycle_event(S.LOGGED_OUT)),
        (12, lifecycle_event(S.QR_GENERATED, qr="1@new")),
    ]
    view = shown(run(events))
    assert (view.status, view.qr_attempts, view.qr) == (S.QR_GENERATED, 1, "1@new")


def test_late_event_never_rolls_state_back():
    current = run([(10, lifecycle_event(S.SESSION_CONNECTED)), (5, lifecycle_event(S.QR_GENERATED, qr="1@old"))])
    assert shown(current).status is S.SESSION_CONNECTED
    assert current.qr is None


def test_flags_and_buckets_for_every_status():
    for status in S:
        view = shown(run([(1, lifecycle_event(status, qr="1@x" if status is S.QR_GENERATED else None))]))
        assert view.is_connected == (status is S.SESSION_CONNECTED)
        assert view.is_loading == (status in {S.LOADING, S.CONNECTING, S.INITIALIZING, S.RECONNECTING, S.AUTHENTICATED})
        assert view.has_error == (status in {S.AUTH_FAILURE, S.ERROR})
        assert view.bucket in state.BUCKETS


def test_loading_percent_shown_only_while_loading():
    assert shown(run([(1, lifecycle_event(S.LOADING, loading_percent=75))])).loading_percent == 75
    assert (
        shown(
            run([(1, lifecycle_event(S.LOADING, loading_percent=75)), (2, lifecycle_event(S.SESSION_CONNECTED))])
        ).loading_percent
        is None
    )


def test_non_lifecycle_events_leave_state_alone():
    message = NormalizedEvent(type="message.received", session_id="s", dialect="test", source_event="message")
    connected = run([(1, lifecycle_event(S.SESSION_CONNECTED))])
    assert run([(2, message)], connected) == connected
    assert connected.last_event == "session.status"


lifecycle_events = st.builds(
    lambda status, qr, phone: lifecycle_event(
        status,
        qr=qr if status is S.QR_GENERATED else None,
        phone_number=phone,
    ),
    st.sampled_from(list(S)),
    st.one_of(st.none(), st.text(alphabet="ABC123@,", min_size=1, max_size=6)),
    st.one_of(st.none(), st.sampled_from(["628111", "628222"])),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    timed=st.lists(st.tuples(st.integers(min_value=0, max_value=40), lifecycle_events), min_size=1, max_size=12),
    data=st.data(),
)
def test_any_arrival_order_gives_the_time_order_state(timed, data):
    events = [(seconds, f"evt_{index:04d}", event) for index, (seconds, event) in enumerate(timed)]
    in_time_order = sorted(events, key=lambda e: (e[0], e[1]))
    arrival = data.draw(st.permutations(events))
    assert run(list(arrival)) == run(in_time_order)
    assert shown(run(list(arrival))) == shown(run(in_time_order))
