"""Gateway-facing routes: receive one gateway event (any dialect) and the verification echo."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from hub.ingest import access, dialects, receiving
from hub.ingest import limits as ingest_limits
from hub.platform import catalog, security, settings
from hub.platform import http as api
from hub.platform.exceptions import Forbidden, Invalid, RateLimited, Unauthenticated
from hub.platform.observability import logger, metrics
from hub.sessions.models import SessionRecord

app = api.make_resolver(enable_validation=False)


def _decoded(raw: bytes):
    try:
        return dialects.decode_body(raw, api.header(app, "content-type"), settings.load().max_json_depth)
    except ValueError as error:
        raise Invalid(f"Request body could not be decoded: {error}", code="INVALID_JSON") from error


def _query() -> dict[str, str]:
    return app.current_event.query_string_parameters or {}


def _request(raw: bytes) -> access.GatewayRequest:
    return access.GatewayRequest.of(raw, app.current_event.headers, _query())


def _check_suffixes(body, request: access.GatewayRequest, path_suffix: str | None) -> None:
    """An event appended to the URL (path or `?token=`) must be the body's own (Evolution API's webhookByEvents)."""
    expected = dialects.event_url_suffix(body)
    for appended in (path_suffix, request.token_suffix()):
        if appended is not None and appended != expected:
            raise Invalid.field(
                "url",
                f"expected /{expected}" if expected else "no event suffix expected",
                "The event appended to the URL is not the body's event",
            )


def _admitted(record: SessionRecord | None) -> SessionRecord:
    """The authenticated gateway's session, once its event is within the session's ingest limit (else 429).
    No session (unknown, another tenant's, a revoked tenant's) and a credential that does not open it are
    answered alike (docs/gateways.md)."""
    if record is None:
        raise Unauthenticated(access.REFUSED, code="INVALID_SIGNATURE")
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


def _receive_at(handle: str, suffix: str | None):
    """The receiver URL; authenticated before the body is decoded. A last segment that is the body's event on
    the shared route (`/api/whatsapp/webhook/messages-upsert`, Evolution API's webhookByEvents) is not a handle."""
    raw = api.raw_body(app)
    request = _request(raw)
    record = access.by_path(handle, request)
    if record is None and suffix is None:
        try:
            body = _decoded(raw)
        except Invalid:
            body = None  # refused below, as any request that opens no session
        if body is not None and handle == dialects.event_url_suffix(body):
            return _receive_with_session_in_body(raw, body, handle)
    record = _admitted(record)
    body = _decoded(raw)
    _check_suffixes(body, request, suffix)
    return _accept(record, body, raw)


@app.post("/api/whatsapp/webhook/<handle>")
def handle_receive_event(handle: str):
    return _receive_at(handle, None)


@app.post("/api/whatsapp/webhook/<handle>/<event>")
def handle_receive_event_with_event_suffix(handle: str, event: str):
    return _receive_at(handle, event)


def _receive_with_session_in_body(raw: bytes, body, path_suffix: str | None = None):
    session_id = dialects.session_id_from_body(body)
    if not session_id:
        raise Invalid.field(
            "session",
            "no session/instance/deviceHash/sessionId field in the body",
            "Body carries no session id; post to the session's receiver URL (/api/whatsapp/webhook/{handle}) instead",
        )
    request = _request(raw)
    record = _admitted(access.by_body(session_id, request))
    _check_suffixes(body, request, path_suffix)
    return _accept(record, body, raw)


@app.post("/api/whatsapp/webhook")
def handle_receive_event_with_session_in_body():
    raw = api.raw_body(app)
    return _receive_with_session_in_body(raw, _decoded(raw))


@app.get("/api/whatsapp/webhook/<handle>")
def handle_verify_webhook(handle: str):
    query = _query()
    record = access.session_by_handle(handle)
    secrets = (
        (record.inboundSecret, access.previous_secret(record) or access.STAND_IN_SECRET)
        if record is not None
        else (access.STAND_IN_SECRET, access.STAND_IN_SECRET)
    )
    matched = [security.keys_match(query.get("hub.verify_token"), secret) for secret in secrets]
    if not any(matched) or record is None:
        raise Forbidden("Unknown receiver URL, or the verify token does not match")
    return Response(status_code=200, content_type="text/plain", body=query.get("hub.challenge", ""))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return api.resolve(app, event, context)


coldstart.loaded()
