"""cdk-nag (AwsSolutions) findings the hub accepts, each on the narrowest construct, with its reason.

Everything else AwsSolutions checks is fixed in the constructs (access logs, request
validators, stage logging, PITR, TLS-only queues, least-privilege roles...). Run
`python app.py`: an unacknowledged finding fails the synth (validation-report.json).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, CfnElement, CfnResource, Stack, Validations
from aws_cdk import custom_resources as cr
from constructs import IConstruct

from hub.platform import catalog

if TYPE_CHECKING:
    from .stack import WebhookHubStack

PACK = "AwsSolutions"

METHOD_AUTH_REASONS = {
    "tenant": "Tenant routes require an API Gateway API key (usage plan: throttle, quota) and the "
    "Lambda verifies the key's hash per tenant; tenants are API clients, not Cognito users",
    "admin": "Operator routes are authorized by the Lambda against the X-Admin-Key held in Secrets Manager",
    "gateway": "WhatsApp gateways cannot sign with SigV4 or hold Cognito tokens: the Lambda verifies the "
    "per-session HMAC signature / inbound secret in constant time",
    "public": "Public routes with no data and no side effects: the liveness probe (GET /api/health) and the "
    "connect page's static script, style and icon",
    "link": "Connect-page routes a tenant's end user opens from a link: the Lambda verifies the link's signed, "
    "expiring token (itsdangerous, key in Secrets Manager) and shows only what it names",
}


def finding(rule: str, detail: str | None = None) -> str:
    """cdk-nag 3 rule id as Validations expects it: `AwsSolutions::AwsSolutions-IAM5[Resource::...]`."""
    return f"{PACK}::{PACK}-{rule}" + (f"[{detail}]" if detail else "")


def _acknowledge(scope: IConstruct, rule_id: str, reason: str) -> tuple[str, str, str]:
    if not reason.strip():
        raise ValueError(f"acknowledgment {rule_id} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
    return (scope.node.path, rule_id, reason)


def _logical_id(resource: IConstruct) -> str:
    cfn = resource if isinstance(resource, CfnResource) else resource.node.default_child
    if not isinstance(cfn, CfnElement):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource of its own")
    return Stack.of(resource).get_logical_id(cfn)


def acknowledge_findings(stack: WebhookHubStack) -> list[tuple[str, str, str]]:
    """Acknowledges the accepted findings; returns them as (construct path, rule id, reason)."""
    made: list[tuple[str, str, str]] = []

    def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
        made.append(_acknowledge(scope, rule_id, reason))

    partition_region = "arn:<AWS::Partition>:apigateway:<AWS::Region>::"

    # --- Lambda functions --------------------------------------------------------------
    for f in stack.functions.by_name.values():
        acknowledge(
            f.role,
            finding("IAM5", "Resource::*"),
            "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions"
            + (
                "; so does dynamodb:ListStreams, which CDK grants stream readers and reads no data"
                if f.spec.stream_triggers
                else ""
            ),
        )
        acknowledge(
            f.function,
            finding("L1"),
            "python3.13 on purpose: the dependency layer's cp313 wheels (infra/lock.py PYTHON_VERSION) "
            "target it; the runtime and the lock's target move together",
        )

    # --- API key management (functions with manages_api_keys) --------------------------
    for spec in catalog.FUNCTIONS:
        if not spec.manages_api_keys:
            continue
        role = stack.functions.by_name[spec.name].role
        acknowledge(
            role,
            finding("IAM5", f"Resource::{partition_region}/apikeys/*"),
            "DeleteApiKey and UpdateApiKey (enable) on keys created at runtime (ids unknown at deploy); "
            "DELETE and PATCH only, POST only on the collection",
        )
        for plan in stack.api.usage_plans.values():
            acknowledge(
                role,
                finding("IAM5", f"Resource::{partition_region}/usageplans/<{_logical_id(plan)}>/keys/*"),
                "DeleteUsagePlanKey for tenant keys added at runtime, limited to this stack's usage plan",
            )

    # --- the stream functions' failure queues ----------------------------------------
    for failures in stack.queues.failures_by_id.values():
        acknowledge(
            failures,
            finding("SQS3"),
            "A stream function's failure queue is itself the last stop (the stream event source's "
            "on-failure destination and where the function sets records aside): an operator replays "
            "from it (docs/stream-failures.md); a dead-letter queue behind it would hide messages a "
            "replay left there",
        )

    # --- API Gateway ------------------------------------------------------------------
    for route in catalog.ROUTES:
        method = stack.api.methods[(route.method, route.path)]
        reason = METHOD_AUTH_REASONS[route.auth]
        acknowledge(method, finding("APIG4"), reason)
        acknowledge(method, finding("COG4"), reason)
    acknowledge(
        stack.api.stage,
        finding("APIG3"),
        "WAF is optional for this API (per-key usage plans, stage throttling and signed gateway "
        "requests); attach a web ACL per deployment when required",
    )
    cloudwatch_role = stack.api.rest_api.node.try_find_child("CloudWatchRole")
    if cloudwatch_role is not None:
        acknowledge(
            cloudwatch_role,
            finding(
                "IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ),
            "Account-level role API Gateway uses for execution logs; AWS's managed policy is the documented one",
        )

    # --- the custom resource that attaches usage plans to the stage -------------------
    # (SingletonFunction's construct id: "AWS" + the provider's UUID without dashes)
    provider_id = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
    provider = stack.node.try_find_child(provider_id)
    if provider is not None:
        acknowledge(
            provider,
            finding("IAM4", "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
            "CDK's AwsCustomResource provider (attaches usage plans to the stage at deploy time) uses the "
            "basic execution role for its own logs",
        )

    # --- secrets ------------------------------------------------------------------------
    acknowledge(
        stack.admin_key,
        finding("SMG4"),
        "A random operator key with no upstream system to sync: the operator rotates it with "
        "put-secret-value; a rotation Lambda would add nothing",
    )
    # --- the connect page's WebSocket API ------------------------------------------------
    sockets = stack.sockets
    socket_reasons = {
        "$connect": "Browsers cannot send headers on a WebSocket handshake: the $connect function verifies the "
        "connect link's signed, expiring token (query string) and refuses the handshake otherwise",
        "$disconnect": "Invoked by API Gateway itself when a connection closes; carries only the connection id",
    }
    for socket_route in catalog.SOCKET_ROUTES:
        acknowledge(sockets.routes[socket_route.route_key], finding("APIG4"), socket_reasons[socket_route.route_key])
    for spec in catalog.FUNCTIONS:
        if spec.manages_connections:
            acknowledge(
                stack.functions.by_name[spec.name].role,
                finding(
                    "IAM5",
                    f"Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                    f"<{_logical_id(sockets.api)}>/{stack.config.stage}/POST/@connections/*",
                ),
                "Connection ids exist only at runtime: POST (send) on this API's stage's @connections only",
            )
    acknowledge(
        sockets.link_key,
        finding("SMG4"),
        "Rotated by the operator with put-secret-value: links signed with the AWSPREVIOUS version keep "
        "verifying until they expire (24 h at most), so no rotation Lambda is needed",
    )
    return made
