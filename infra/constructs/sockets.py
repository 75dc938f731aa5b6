"""The connect page's push channel: the WebSocket API from catalog.SOCKET_ROUTES, its stage, the
connect-link signing secret, and what the catalog's functions need of them."""

from __future__ import annotations

import json

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from hub.platform import catalog

from ..config import HubConfig
from .functions import HubFunctions
from .secrets import generated_secret

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "eventType": "$context.eventType",
    "status": "$context.status",
    "connectionId": "$context.connectionId",
    "integrationError": "$context.integrationErrorMessage",
}
"""No query string: the link's token never reaches the access logs."""


class HubSockets(Construct):
    def __init__(self, scope: Construct, id: str, *, config: HubConfig, functions: HubFunctions) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)

        self.link_key = generated_secret(
            self,
            "ConnectLinkKey",
            description=f"wa-webhook-hub {config.stage} connect-link signing key",
            length=64,
            removal_policy=config.removal_policy,
        )

        self.api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            api_name=f"wa-webhook-hub-{config.stage}-connect",
            description=f"WhatsApp webhook hub ({config.stage}): live status for the connect page",
        )
        self.routes: dict[str, apigwv2.WebSocketRoute] = {}
        for route in catalog.SOCKET_ROUTES:
            handler = functions.by_name[route.function].function
            self.routes[route.route_key] = self.api.add_route(
                route.route_key,
                integration=integrations.WebSocketLambdaIntegration(
                    f"{route.function}{route.route_key.strip('$')}", handler
                ),
            )

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=config.stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_throttle_rate_limit, burst_limit=config.api_throttle_burst_limit
            ),
        )
        cfn_stage: apigwv2.CfnStage = self.stage.node.default_child  # type: ignore[assignment]
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn,
            format=json.dumps(ACCESS_LOG_FIELDS),
        )
        cfn_stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            logging_level="INFO",
            data_trace_enabled=False,
            detailed_metrics_enabled=True,
            throttling_rate_limit=config.api_throttle_rate_limit,
            throttling_burst_limit=config.api_throttle_burst_limit,
        )

        # Only POST (send) on this stage's connections: the push function never lists or closes them.
        self.post_to_connections_arn = stack.format_arn(
            service="execute-api",
            resource=self.api.api_id,
            resource_name=f"{config.stage}/POST/@connections/*",
        )
        for spec in catalog.FUNCTIONS:
            f = functions.by_name[spec.name]
            if spec.reads_link_secret:
                f.function.add_environment("CONNECT_LINK_SECRET_ARN", self.link_key.secret_arn)
                f.function.add_environment("CONNECT_WEBSOCKET_URL", self.stage.url)
                self.link_key.grant_read(f.role)
            if spec.manages_connections:
                f.function.add_environment("CONNECTIONS_API_ENDPOINT", self.stage.callback_url)
                f.role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["execute-api:ManageConnections"], resources=[self.post_to_connections_arn]
                    )
                )
