"""Operator routes: create, list and revoke tenants (X-Admin-Key); a tenant's own API keys (X-API-Key)."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from hub.platform import http as api
from hub.platform.exceptions import NotFound
from hub.platform.observability import logger, make_tracer
from hub.tenants import registry as tenancy

tracer = make_tracer()
app = api.make_resolver()


@app.post("/api/admin/tenants")
def handle_create_tenant(request: Annotated[tenancy.CreateTenant, Body()]):
    return api.success(app, tenancy.create(request))


@app.get("/api/admin/tenants")
def handle_list_tenants():
    return api.ok(tenancy.list_tenants())


@app.get("/api/keys")
def handle_list_api_keys():
    return api.ok(tenancy.list_keys(api.tenant(app), api.header(app, "x-api-key") or ""))


@app.post("/api/keys")
def handle_add_api_key():
    return api.success(app, tenancy.add_key(api.tenant(app)))


@app.delete("/api/keys/<keyId>")
def handle_revoke_api_key(keyId: str):
    return api.ok(tenancy.revoke_key(api.tenant(app), keyId))


@app.delete("/api/admin/tenants/<tenantId>")
def handle_revoke_tenant(tenantId: str):
    revoked = tenancy.revoke(tenantId)
    if revoked is None:
        raise NotFound.of("Tenant")
    return api.ok(revoked)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    return api.resolve(app, event, context)


coldstart.loaded()
