"""What every HTTP handler shares: the resolver with the error envelope, responses, body limits."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from hub.platform import bodies, catalog, ddb, errors, exceptions, settings
from hub.platform.observability import logger

JSON = "application/json"


def json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body, default=str, separators=(",", ":")))


def ok(data: Any, status: int = 200, **extra: Any) -> Response:
    return json_response(status, {"success": True, "data": data, **extra})


def success(app: APIGatewayRestResolver, data: Any) -> Response:
    """The route's success answer, with the status its catalog entry declares (catalog.Route.success_status)."""
    route = app.context.get("route")
    return ok(data, status=route.success_status if route is not None else 200)


def _error_response(error: errors.ApiError) -> Response:
    response = json_response(error.status, error.body())
    response.headers.update(error.headers())
    return response


def _validation_response(error: RequestValidationError) -> Response:
    problems = error.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return json_response(400, errors.invalid_json().body())
    return json_response(400, errors.validation_error("Request is invalid", errors.pydantic_details(problems)).body())


def make_resolver(enable_validation: bool = True) -> APIGatewayRestResolver:
    """A REST resolver whose every failure answers in the error envelope (docs/contract.md §3)."""
    app = APIGatewayRestResolver(enable_validation=enable_validation)

    @app.exception_handler(errors.ApiError)
    def _api_error(error: errors.ApiError) -> Response:
        return _error_response(error)

    @app.exception_handler(exceptions.HubError)
    def _domain_error(error: exceptions.HubError) -> Response:
        if isinstance(error, exceptions.Busy):
            logger.warning("AWS is throttling or failing; answering 503", extra={"error": error.message})
        return _error_response(errors.from_exception(error))

    @app.exception_handler(RequestValidationError)
    def _request_validation(error: RequestValidationError) -> Response:
        return _validation_response(error)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media_type(error: RequestUnsupportedContentType) -> Response:
        return json_response(415, errors.unsupported_media_type().body())

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return json_response(404, errors.not_found("Route").body())

    @app.exception_handler(Exception)
    def _internal(error: Exception) -> Response:
        if ddb.is_retryable(error):  # an AWS call no store expected to fail (throttling, outages): as Busy
            logger.warning("AWS is throttling or failing; answering 503", extra={"code": ddb.error_code(error)})
            return json_response(503, errors.unavailable().body())
        logger.exception("unhandled error")
        return json_response(500, errors.ApiError(500, "INTERNAL", "Internal error").body())

    return app


def _body_bytes(event: APIGatewayProxyEvent) -> bytes:
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def raw_body(app: APIGatewayRestResolver) -> bytes:
    """The request body exactly as the client sent it."""
    return _body_bytes(app.current_event)


def _media_type(event: APIGatewayProxyEvent) -> str:
    return (event.headers.get("content-type") or "").split(";", 1)[0].strip().lower()


_ROUTES = {(r.method, r.path): r for r in catalog.ROUTES}


def _authenticate(route: catalog.Route, event: APIGatewayProxyEvent) -> str | None:
    """The route's declared auth (tenant or admin key); returns the caller's tenant id."""
    if route.auth not in ("tenant", "admin"):
        return None
    from hub.tenants import auth

    if route.auth == "admin":
        auth.require_admin(event.headers.get("x-admin-key"))
        return None
    return auth.tenant_id(event.headers.get("x-api-key"))


def _check_json_body(raw: bytes, event: APIGatewayProxyEvent) -> None:
    """Media type, then a bounded parse (depth checked before parsing; lone surrogates refused), so
    the resolver's own parse and validation never meet a body that could raise RecursionError."""
    if _media_type(event) not in ("", JSON):
        raise errors.unsupported_media_type()
    try:
        bodies.loads(raw.decode("utf-8"), settings.load().max_json_depth, "refuse")
    except bodies.BodyError as error:
        if error.kind == "surrogate":
            raise errors.validation_error(
                "Request body holds invalid text", [{"field": "body", "message": str(error)}]
            ) from error
        raise errors.invalid_json(f"Request body is not valid JSON: {error}") from error
    except UnicodeDecodeError as error:
        raise errors.invalid_json("Request body is not UTF-8") from error


def _admit(event: APIGatewayProxyEvent) -> str | None:
    """Authenticates per the route's declared auth, then enforces the body limit and, for JSON
    routes, the media type and a bounded parse; returns the caller's tenant id.

    Gateway routes authenticate in their handler (the signature covers the body), after the size check.
    """
    route = _ROUTES.get((event.http_method, event.resource))
    tenant_id = _authenticate(route, event) if route is not None else None
    limit = settings.load().max_body_bytes
    raw = _body_bytes(event)
    if len(raw) > limit:
        raise errors.payload_too_large(limit)
    if route is not None and route.auth != "gateway" and raw:
        _check_json_body(raw, event)
    return tenant_id


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Admits the request (size, auth per the catalog) before routing and validation, then resolves it."""
    admitted = APIGatewayProxyEvent(event)
    try:
        app.append_context(tenant_id=_admit(admitted), route=_ROUTES.get((admitted.http_method, admitted.resource)))
    except (errors.ApiError, exceptions.HubError) as caught:
        error = errors.from_exception(caught) if isinstance(caught, exceptions.HubError) else caught
        return {
            "statusCode": error.status,
            "headers": {"Content-Type": JSON, **error.headers()},
            "body": json.dumps(error.body()),
        }
    return app.resolve(event, context)


def tenant(app: APIGatewayRestResolver) -> str:
    """The authenticated caller's tenant id (set by resolve)."""
    tenant_id = app.context.get("tenant_id")
    if not tenant_id:
        raise exceptions.Unauthenticated("Missing or invalid API key")
    return tenant_id


def base_url(app: APIGatewayRestResolver) -> str:
    """Where the hub is reached: PUBLIC_BASE_URL, else the request's host (and stage)."""
    configured = settings.load().public_base_url
    if configured:
        return configured
    context = app.current_event.request_context
    stage = f"/{context.stage}" if context.stage and context.stage != "$default" else ""
    return f"https://{context.domain_name or header(app, 'host')}{stage}"


def header(app: APIGatewayRestResolver, name: str) -> str | None:
    """A request header, case-insensitively."""
    return app.current_event.headers.get(name) if app.current_event.headers else None
