"""Operator routes: create, list and revoke tenants (X-Admin-Key)."""

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
    return api.ok(tenancy.create(request), status=201)


@app.get("/api/admin/tenants")
def handle_list_tenants():
    return api.ok(tenancy.list_tenants())


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
