"""Tenant session routes: register, delete, status, list-realtime, default webhook, usage; health."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from hub import PRODUCT, VERSION
from hub.platform import clock
from hub.platform import http as api
from hub.platform.observability import logger, make_tracer
from hub.sessions import registry, views
from hub.tenants import gateway_credentials

tracer = make_tracer()
app = api.make_resolver()


def _tenant() -> str:
    return api.tenant(app)


@app.get("/api/health")
def handle_get_health():
    return api.ok({"status": "ok", "service": PRODUCT, "version": VERSION})


@app.post("/api/whatsapp/session")
def handle_create_session(request: Annotated[registry.RegisterSession, Body()]):
    tenant_id = _tenant()
    return api.success(app, registry.register(tenant_id, request, api.base_url(app)))


@app.delete("/api/whatsapp/session/<sessionId>")
def handle_delete_session(sessionId: str):
    return api.ok(registry.delete(_tenant(), sessionId))


@app.get("/api/whatsapp/session/status/<sessionId>")
def handle_get_session_status(sessionId: str):
    return api.ok(views.session_status(registry.owned_session(_tenant(), sessionId)))


@app.get("/api/whatsapp/session/list-realtime")
def handle_list_sessions(
    userId: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    status: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
):
    sessions, summary, next_cursor = registry.list_sessions(
        _tenant(), user_id=userId, status=status, limit=limit, cursor=cursor
    )
    extra: dict[str, Any] = {"summary": summary, "timestamp": clock.now_iso()}
    if next_cursor:
        extra["nextCursor"] = next_cursor
    return api.ok(sessions, **extra)


@app.put("/api/instance/<instanceId>")
def handle_put_instance_webhook(instanceId: str, request: Annotated[registry.SubscriptionInput, Body()]):
    return api.ok(registry.set_default_subscription(_tenant(), instanceId, request))


@app.get("/api/usage")
def handle_get_usage(days: Annotated[int, Query(ge=1, le=90)] = 30):
    return api.ok(registry.usage(_tenant(), days))


@app.post("/api/gateway-credentials")
def handle_create_gateway_credential(request: Annotated[gateway_credentials.CreateCredential, Body()]):
    return api.ok(gateway_credentials.create(_tenant(), request), status=201)


@app.get("/api/gateway-credentials")
def handle_list_gateway_credentials():
    return api.ok(gateway_credentials.list_for(_tenant()))


@app.delete("/api/gateway-credentials/<credentialId>")
def handle_revoke_gateway_credential(credentialId: str):
    return api.ok(gateway_credentials.revoke(_tenant(), credentialId))


@app.post("/api/gateway-credentials/<credentialId>/rotate-secret")
def handle_rotate_gateway_credential(
    credentialId: str, request: Annotated[gateway_credentials.RotateSecret | None, Body()] = None
):
    return api.ok(gateway_credentials.rotate(_tenant(), credentialId, request or gateway_credentials.RotateSecret()))


@app.post("/api/whatsapp/session/<sessionId>/rotate-inbound-secret")
def handle_rotate_inbound_secret(
    sessionId: str, request: Annotated[gateway_credentials.RotateSecret | None, Body()] = None
):
    return api.ok(registry.rotate_inbound_secret(_tenant(), sessionId, request or gateway_credentials.RotateSecret()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    return api.resolve(app, event, context)


coldstart.loaded()
