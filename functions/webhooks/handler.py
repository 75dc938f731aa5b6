"""Webhook management routes: subscriptions (docs/subscriptions.md), test, logs, one log, retry, stats, clear
(docs/contract.md §2)."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from hub.delivery import logs as webhook_logs
from hub.delivery import recovery
from hub.delivery import subscription_registry as subscriptions
from hub.delivery.subscription_registry import Scope
from hub.platform import http as api
from hub.platform.observability import logger, make_tracer

tracer = make_tracer()
app = api.make_resolver()

LogStatus = Literal["pending", "retrying", "success", "failed"]


def _scope(session_id: str | None = None) -> Scope:
    return Scope(api.tenant(app), session_id)


@app.get("/api/instance/<instanceId>/subscriptions")
def handle_list_session_subscriptions(instanceId: str):
    return api.ok(subscriptions.list_subscriptions(_scope(instanceId)))


@app.post("/api/instance/<instanceId>/subscriptions")
def handle_create_session_subscription(instanceId: str, request: Annotated[subscriptions.CreateSubscription, Body()]):
    return api.success(app, subscriptions.create(_scope(instanceId), request))


@app.get("/api/instance/<instanceId>/subscriptions/<subscriptionId>")
def handle_get_session_subscription(instanceId: str, subscriptionId: str):
    return api.ok(subscriptions.get(_scope(instanceId), subscriptionId))


@app.put("/api/instance/<instanceId>/subscriptions/<subscriptionId>")
def handle_replace_session_subscription(
    instanceId: str, subscriptionId: str, request: Annotated[subscriptions.SubscriptionFields, Body()]
):
    return api.ok(subscriptions.replace(_scope(instanceId), subscriptionId, request))


@app.patch("/api/instance/<instanceId>/subscriptions/<subscriptionId>")
def handle_patch_session_subscription(
    instanceId: str, subscriptionId: str, request: Annotated[subscriptions.PatchSubscription, Body()]
):
    return api.ok(subscriptions.patch(_scope(instanceId), subscriptionId, request))


@app.delete("/api/instance/<instanceId>/subscriptions/<subscriptionId>")
def handle_delete_session_subscription(instanceId: str, subscriptionId: str):
    return api.ok(subscriptions.delete(_scope(instanceId), subscriptionId))


@app.post("/api/instance/<instanceId>/subscriptions/<subscriptionId>/rotate-secret")
def handle_rotate_session_subscription_secret(
    instanceId: str, subscriptionId: str, request: Annotated[subscriptions.RotateSecret | None, Body()] = None
):
    return api.ok(
        subscriptions.rotate_secret(_scope(instanceId), subscriptionId, request or subscriptions.RotateSecret())
    )


@app.post("/api/instance/<instanceId>/subscriptions/<subscriptionId>/recoveries")
def handle_recover_session_subscription(
    instanceId: str, subscriptionId: str, request: Annotated[recovery.StartRecovery, Body()]
):
    return api.success(app, recovery.start(_scope(instanceId), subscriptionId, request))


@app.get("/api/subscriptions")
def handle_list_tenant_subscriptions():
    return api.ok(subscriptions.list_subscriptions(_scope()))


@app.post("/api/subscriptions")
def handle_create_tenant_subscription(request: Annotated[subscriptions.CreateSubscription, Body()]):
    return api.success(app, subscriptions.create(_scope(), request))


@app.get("/api/subscriptions/<subscriptionId>")
def handle_get_tenant_subscription(subscriptionId: str):
    return api.ok(subscriptions.get(_scope(), subscriptionId))


@app.put("/api/subscriptions/<subscriptionId>")
def handle_replace_tenant_subscription(
    subscriptionId: str, request: Annotated[subscriptions.SubscriptionFields, Body()]
):
    return api.ok(subscriptions.replace(_scope(), subscriptionId, request))


@app.patch("/api/subscriptions/<subscriptionId>")
def handle_patch_tenant_subscription(subscriptionId: str, request: Annotated[subscriptions.PatchSubscription, Body()]):
    return api.ok(subscriptions.patch(_scope(), subscriptionId, request))


@app.delete("/api/subscriptions/<subscriptionId>")
def handle_delete_tenant_subscription(subscriptionId: str):
    return api.ok(subscriptions.delete(_scope(), subscriptionId))


@app.post("/api/subscriptions/<subscriptionId>/rotate-secret")
def handle_rotate_tenant_subscription_secret(
    subscriptionId: str, request: Annotated[subscriptions.RotateSecret | None, Body()] = None
):
    return api.ok(subscriptions.rotate_secret(_scope(), subscriptionId, request or subscriptions.RotateSecret()))


@app.post("/api/subscriptions/<subscriptionId>/recoveries")
def handle_recover_tenant_subscription(subscriptionId: str, request: Annotated[recovery.StartRecovery, Body()]):
    return api.success(app, recovery.start(_scope(), subscriptionId, request))


@app.get("/api/recoveries/<recoveryId>")
def handle_get_recovery(recoveryId: str):
    return api.ok(recovery.get(api.tenant(app), recoveryId))


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
