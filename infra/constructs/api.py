"""The REST API from catalog.ROUTES, and the tenants' usage plans."""

from __future__ import annotations

import json
import re

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from hub.platform import catalog
from infra.constructs.naming import pascal

from ..config import HubConfig
from .functions import HubFunctions

_PATH_PARAM = re.compile(r"{([A-Za-z0-9_]+)\+?}")

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "apiKeyId": "$context.identity.apiKeyId",
    "errorMessage": "$context.error.message",
    "errorType": "$context.error.responseType",
    "xrayTraceId": "$context.xrayTraceId",
}
"""Access log line (JSON). Never the API key itself, only its id."""


GATEWAY_MESSAGE = "$context.error.messageString"
"""API Gateway's own error message as a quoted JSON string. Gateway response templates are not VTL (no
$util.escapeJavaScript): only variable substitution, so a message goes in only through this quoted
variable, never as $context.error.message (or validationErrorString) inside a JSON string, where a quote
or backslash in it would break the body."""

_MESSAGE_SLOT = "\u0000gateway-message\u0000"


def _error_template(code: str, message: str) -> dict[str, str]:
    """The hub's error envelope (docs/contract.md §3) for answers API Gateway gives itself; `message` is a
    literal, or GATEWAY_MESSAGE for the gateway's own message."""
    body = {
        "success": False,
        "error": {"code": code, "message": _MESSAGE_SLOT if message == GATEWAY_MESSAGE else message, "details": []},
        "requestId": "$context.requestId",  # a UUID: safe inside quotes
    }
    return {"application/json": json.dumps(body).replace(json.dumps(_MESSAGE_SLOT), GATEWAY_MESSAGE)}


GATEWAY_RESPONSES: tuple[tuple[apigw.ResponseType, str, str, str], ...] = (
    (apigw.ResponseType.INVALID_API_KEY, "401", "UNAUTHORIZED", "Missing or invalid API key"),
    (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "404", "NOT_FOUND", "No such route"),
    (apigw.ResponseType.THROTTLED, "429", "RATE_LIMITED", "Too many requests"),
    (apigw.ResponseType.QUOTA_EXCEEDED, "429", "RATE_LIMITED", "Monthly request quota exceeded"),
    (apigw.ResponseType.REQUEST_TOO_LARGE, "413", "PAYLOAD_TOO_LARGE", "Request body too large"),
    (apigw.ResponseType.INTEGRATION_TIMEOUT, "504", "GATEWAY_TIMEOUT", "Endpoint request timed out"),
    (apigw.ResponseType.BAD_REQUEST_BODY, "400", "VALIDATION_ERROR", GATEWAY_MESSAGE),
    (apigw.ResponseType.BAD_REQUEST_PARAMETERS, "400", "VALIDATION_ERROR", GATEWAY_MESSAGE),
    (apigw.ResponseType.DEFAULT_4_XX, "", "BAD_REQUEST", GATEWAY_MESSAGE),
    (apigw.ResponseType.DEFAULT_5_XX, "", "INTERNAL", "Internal error"),
)


def path_parameters(path: str) -> list[str]:
    return _PATH_PARAM.findall(path)


class HubApi(Construct):
    def __init__(self, scope: Construct, id: str, *, config: HubConfig, functions: HubFunctions) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)

        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"wa-webhook-hub-{config.stage}",
            description=f"WhatsApp webhook hub ({config.stage})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                logging_level=apigw.MethodLoggingLevel.INFO,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=config.api_throttle_rate_limit,
                throttling_burst_limit=config.api_throttle_burst_limit,
            ),
        )
        api = self.rest_api
        self.stage = api.deployment_stage

        for response_type, status, code, message in GATEWAY_RESPONSES:
            api.add_gateway_response(
                f"Response{response_type.response_type}",
                type=response_type,
                status_code=status or None,
                templates=_error_template(code, message),
                response_headers={"Content-Type": "'application/json'"},
            )

        # Validators: body (+ parameters) where a route takes a body, parameters elsewhere.
        self.body_validator = api.add_request_validator(
            "BodyValidator",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        self.params_validator = api.add_request_validator(
            "ParamsValidator",
            validate_request_body=False,
            validate_request_parameters=True,
        )

        # One proxy integration per function, shared by all of its routes.
        integrations = {
            name: apigw.LambdaIntegration(f.function, proxy=True, allow_test_invoke=False)
            for name, f in functions.by_name.items()
        }
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        for route in catalog.ROUTES:
            resource = api.root.resource_for_path(route.path.strip("/"))
            params = {f"method.request.path.{p}": True for p in path_parameters(route.path)}
            self.methods[(route.method, route.path)] = resource.add_method(
                route.method,
                integrations[route.function],
                api_key_required=route.auth == "tenant",
                authorization_type=apigw.AuthorizationType.NONE,
                request_parameters=params or None,
                request_validator=self.body_validator if route.body else self.params_validator,
                operation_name=_operation_name(route),
            )

        # Usage plans (billing tiers). Created without stages: the admin function needs
        # their ids, and the stage depends on that function through its integrations, so
        # each plan is attached to the stage afterwards (UpdateUsagePlan).
        self.usage_plans: dict[str, apigw.UsagePlan] = {}
        for plan in config.plans:
            usage_plan = apigw.UsagePlan(
                self,
                f"Plan{pascal(plan.name)}",
                name=f"wa-webhook-hub-{config.stage}-{plan.name}",
                description=f"Tenant plan {plan.name!r}",
                throttle=apigw.ThrottleSettings(rate_limit=plan.rate_limit, burst_limit=plan.burst_limit),
                quota=apigw.QuotaSettings(limit=plan.quota_per_month, period=apigw.Period.MONTH),
            )
            self.usage_plans[plan.name] = usage_plan
            self._attach_to_stage(f"Plan{pascal(plan.name)}Stage", usage_plan)

        self.usage_plan_ids_json = stack.to_json_string({name: p.usage_plan_id for name, p in self.usage_plans.items()})

    def _attach_to_stage(self, id: str, plan: apigw.UsagePlan) -> None:
        stack = Stack.of(self)
        api_stage = f"{self.rest_api.rest_api_id}:{self.stage.stage_name}"

        def call(op: str, **extra) -> cr.AwsSdkCall:
            return cr.AwsSdkCall(
                service="APIGateway",
                action="updateUsagePlan",
                parameters={
                    "usagePlanId": plan.usage_plan_id,
                    "patchOperations": [{"op": op, "path": "/apiStages", "value": api_stage}],
                },
                physical_resource_id=cr.PhysicalResourceId.of(f"{plan.usage_plan_id}:{api_stage}"),
                **extra,
            )

        cr.AwsCustomResource(
            self,
            id,
            on_create=call("add"),
            # A changed plan or stage gets a new physical id: CloudFormation then deletes the old association.
            on_update=call("add"),
            on_delete=call("remove", ignore_error_codes_matching="NotFoundException"),
            install_latest_aws_sdk=False,
            timeout=Duration.minutes(2),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["apigateway:PATCH", "apigateway:GET"],
                        resources=[
                            f"arn:{stack.partition}:apigateway:{stack.region}::/usageplans/{plan.usage_plan_id}"
                        ],
                    ),
                ]
            ),
        )

    def grant_manage_api_keys(self, grantee: iam.IGrantable) -> None:
        """Create, enable and delete API keys and put them in (or take them out of) the usage plans."""
        stack = Stack.of(self)
        base = f"arn:{stack.partition}:apigateway:{stack.region}::"
        plan_keys = [f"{base}/usageplans/{p.usage_plan_id}/keys" for p in self.usage_plans.values()]
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["apigateway:POST"],
                resources=[f"{base}/apikeys", *plan_keys],
            )
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["apigateway:DELETE"],
                resources=[f"{base}/apikeys/*", *(f"{k}/*" for k in plan_keys)],
            )
        )
        # UpdateApiKey: a key is created disabled and enabled once its tenant is stored (hub.tenants.registry).
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["apigateway:PATCH"],
                resources=[f"{base}/apikeys/*"],
            )
        )


def _operation_name(route: catalog.Route) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", route.path) if w]
    return route.method.lower() + "".join(w[:1].upper() + w[1:] for w in words)
