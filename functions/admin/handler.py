"""Operator routes: create, list and revoke tenants (X-Admin-Key)."""

from __future__ import annotations

from hub import coldstart  # first: the handler loads with the garbage collector off (hub.coldstart)

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from hub import api, errors, tenancy
from hub.observability import logger, make_tracer

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
    if not tenancy.revoke(tenantId):
        raise errors.not_found("Tenant")
    return api.ok({"tenantId": tenantId, "revoked": True})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    return api.resolve(app, event, context)


coldstart.loaded()
