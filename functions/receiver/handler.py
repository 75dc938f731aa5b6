"""Gateway-facing routes: receive one gateway event (any dialect) and the verification echo."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from hub.ingest import dialects, receiving
from hub.ingest import limits as ingest_limits
from hub.platform import catalog, security, settings
from hub.platform import http as api
from hub.platform.exceptions import Forbidden, Invalid, NotFound, RateLimited, Unauthenticated
from hub.platform.observability import logger, metrics
from hub.sessions.models import SessionRecord
from hub.tenants import auth

app = api.make_resolver(enable_validation=False)


def _decoded(raw: bytes):
    try:
        return dialects.decode_body(raw, api.header(app, "content-type"), settings.load().max_json_depth)
    except ValueError as error:
        raise Invalid(f"Request body could not be decoded: {error}", code="INVALID_JSON") from error


def _admitted_session(session_id: str, raw: bytes) -> SessionRecord:
    """The authenticated gateway's session, once its event is within the session's ingest limit (else 429)."""
    record = auth.gateway_session(session_id)
    if record is None:
        raise NotFound.of("Session")
    query = app.current_event.query_string_parameters or {}
    if not security.gateway_request_is_authentic(record.inboundSecret, raw, app.current_event.headers, query):
        raise Unauthenticated("Missing or invalid webhook signature", code="INVALID_SIGNATURE")
    try:
        ingest_limits.admit(record.tenantId, record.sessionId)
    except RateLimited:
        metrics.add_metric(name=catalog.Metric.EVENTS_RATE_LIMITED, unit=MetricUnit.Count, value=1)
        logger.warning("event refused: session over its ingest limit", extra={"sessionId": record.sessionId})
        raise
    return record


def _normalized(body, session_id: str):
    try:
        return dialects.normalize(body, session_id=session_id)
    except dialects.NoDialectMatched as error:
        raise Invalid(f"Body matches no gateway dialect; expected {error.expected}", details=error.details) from error


def _accept(record: SessionRecord, body, raw: bytes):
    event = _normalized(body, record.sessionId)
    receipt = receiving.receive(record, event, raw, datetime.now(UTC))
    metric = catalog.Metric.DUPLICATE_EVENTS if receipt.duplicate else catalog.Metric.EVENTS_RECEIVED
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info("event received", extra={"sessionId": record.sessionId, **receipt.model_dump()})
    return api.ok(receipt.model_dump())


@app.post("/api/whatsapp/webhook/<sessionId>")
def handle_receive_event(sessionId: str):
    raw = api.raw_body(app)
    record = _admitted_session(sessionId, raw)
    return _accept(record, _decoded(raw), raw)


@app.post("/api/whatsapp/webhook")
def handle_receive_event_with_session_in_body():
    raw = api.raw_body(app)
    body = _decoded(raw)
    session_id = dialects.session_id_from_body(body)
    if not session_id:
        raise Invalid.field(
            "session",
            "no session/instance/deviceHash/sessionId field in the body",
            "Body carries no session id; post to /api/whatsapp/webhook/{sessionId} instead",
        )
    record = _admitted_session(session_id, raw)
    return _accept(record, body, raw)


@app.get("/api/whatsapp/webhook/<sessionId>")
def handle_verify_webhook(sessionId: str):
    query = app.current_event.query_string_parameters or {}
    record = auth.gateway_session(sessionId)
    if record is None:
        raise NotFound.of("Session")
    if not security.keys_match(query.get("hub.verify_token"), record.inboundSecret):
        raise Forbidden("Verify token does not match")
    return Response(status_code=200, content_type="text/plain", body=query.get("hub.challenge", ""))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return api.resolve(app, event, context)


coldstart.loaded()
