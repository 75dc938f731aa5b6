"""Gateway-facing routes: receive one gateway event (any dialect) and the verification echo."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from hub.ingest import access, dialects, receiving
from hub.ingest import limits as ingest_limits
from hub.platform import catalog, errors, security, settings
from hub.platform import http as api
from hub.platform.observability import logger, metrics
from hub.sessions.store import SessionRecord

app = api.make_resolver(enable_validation=False)


def _decoded(raw: bytes):
    try:
        return dialects.decode_body(raw, api.header(app, "content-type"), settings.load().max_json_depth)
    except ValueError as error:
        raise errors.invalid_json(f"Request body could not be decoded: {error}") from error


def _query() -> dict[str, str]:
    return app.current_event.query_string_parameters or {}


def _admitted(record: SessionRecord | None, raw: bytes) -> SessionRecord:
    """The authenticated gateway's session, once its event is within the session's ingest limit (else 429)."""
    if record is None:
        raise errors.not_found("Session")
    if not access.authentic(record, raw, app.current_event.headers, _query()):
        raise errors.invalid_signature()
    try:
        ingest_limits.admit(record.tenantId, record.sessionId)
    except errors.ApiError:
        metrics.add_metric(name=catalog.Metric.EVENTS_RATE_LIMITED, unit=MetricUnit.Count, value=1)
        logger.warning("event refused: session over its ingest limit", extra={"sessionId": record.sessionId})
        raise
    return record


def _normalized(body, session_id: str):
    try:
        return dialects.normalize(body, session_id=session_id)
    except dialects.NoDialectMatched as error:
        raise errors.validation_error(
            f"Body matches no gateway dialect; expected {error.expected}", error.details
        ) from error


def _accept(record: SessionRecord, body, raw: bytes):
    event = _normalized(body, record.sessionId)
    receipt = receiving.receive(record, event, raw, datetime.now(UTC))
    metric = catalog.Metric.DUPLICATE_EVENTS if receipt.duplicate else catalog.Metric.EVENTS_RECEIVED
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info("event received", extra={"sessionId": record.sessionId, **receipt.model_dump()})
    return api.ok(receipt.model_dump())


@app.post("/api/whatsapp/webhook/<handle>")
def handle_receive_event(handle: str):
    raw = api.raw_body(app)
    record = _admitted(access.session_by_handle(handle), raw)
    return _accept(record, _decoded(raw), raw)


@app.post("/api/whatsapp/webhook")
def handle_receive_event_with_session_in_body():
    raw = api.raw_body(app)
    body = _decoded(raw)
    session_id = dialects.session_id_from_body(body)
    if not session_id:
        raise errors.validation_error(
            "Body carries no session id; post to the session's receiver URL (/api/whatsapp/webhook/{handle}) instead",
            [{"field": "session", "message": "no session/instance/deviceHash/sessionId field in the body"}],
        )
    named = access.named_handle(app.current_event.headers, _query())
    record = access.session_by_handle(named or session_id)
    if record is not None and record.sessionId != session_id:
        record = None  # the credential's session is not the one the body names
    record = _admitted(record, raw)
    return _accept(record, body, raw)


@app.get("/api/whatsapp/webhook/<handle>")
def handle_verify_webhook(handle: str):
    query = _query()
    record = access.session_by_handle(handle)
    if record is None:
        raise errors.not_found("Session")
    if not security.keys_match(query.get("hub.verify_token"), record.inboundSecret):
        raise errors.forbidden("Verify token does not match")
    return Response(status_code=200, content_type="text/plain", body=query.get("hub.challenge", ""))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return api.resolve(app, event, context)


coldstart.loaded()
