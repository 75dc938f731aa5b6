"""Webhook management routes: test, logs, one log, retry, stats, clear (docs/contract.md §2)."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from hub.delivery import logs as webhook_logs
from hub.platform import http as api
from hub.platform.observability import logger, make_tracer

tracer = make_tracer()
app = api.make_resolver()

LogStatus = Literal["pending", "retrying", "success", "failed"]


@app.post("/api/webhook/test")
def handle_test_webhook(request: Annotated[webhook_logs.TestRequest, Body()]):
    return api.ok(webhook_logs.send_test(api.tenant(app), request))


@app.get("/api/webhook/logs")
def handle_list_logs(
    instanceId: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[LogStatus | None, Query()] = None,
    event: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
):
    logs, next_cursor = webhook_logs.list_logs(
        api.tenant(app),
        instance_id=instanceId,
        status=status,
        event=event,
        limit=limit,
        cursor=cursor,
    )
    extra: dict[str, Any] = {"nextCursor": next_cursor} if next_cursor else {}
    return api.ok(logs, **extra)


@app.get("/api/webhook/logs/<webhookId>")
def handle_get_log(webhookId: str):
    return api.ok(webhook_logs.detail(api.tenant(app), webhookId))


@app.post("/api/webhook/retry/<webhookId>")
def handle_retry_delivery(webhookId: str):
    return api.ok(webhook_logs.retry(api.tenant(app), webhookId))


@app.get("/api/webhook/stats")
def handle_get_stats(
    instanceId: Annotated[str | None, Query(max_length=128)] = None,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
):
    return api.ok(webhook_logs.stats(api.tenant(app), instanceId, days))


@app.delete("/api/webhook/logs")
def handle_clear_logs(request: Annotated[webhook_logs.ClearRequest | None, Body()] = None):
    return api.ok(webhook_logs.clear(api.tenant(app), request or webhook_logs.ClearRequest()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    return api.resolve(app, event, context)


coldstart.loaded()
