"""The hub's stack: everything generated from hub.platform.catalog and hub.platform.settings."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from hub.platform import catalog, settings

from .config import HubConfig
from .constructs.api import HubApi
from .constructs.functions import HubFunctions
from .constructs.observability import HubObservability
from .constructs.queues import HubQueues
from .constructs.secrets import generated_secret
from .constructs.sockets import HubSockets
from .constructs.tables import HubTables
from .nag import acknowledge_findings


class WebhookHubStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: HubConfig, **kwargs) -> None:
        super().__init__(scope, id, description=f"WhatsApp webhook hub ({config.stage})", **kwargs)
        self.config = config
        Tags.of(self).add("project", "wa-webhook-hub")
        Tags.of(self).add("stage", config.stage)

        self.tables = HubTables(
            self,
            "Tables",
            removal_policy=config.removal_policy,
            keep_replaced_indexes=config.keep_replaced_indexes,
            defer_indexes=config.defer_indexes,
        )
        self.queues = HubQueues(self, "Queues", removal_policy=config.removal_policy)

        self.admin_key = generated_secret(
            self,
            "AdminKey",
            description=f"wa-webhook-hub {config.stage} operator key (X-Admin-Key)",
            length=48,
            removal_policy=config.removal_policy,
        )

        self.functions = HubFunctions(self, "Functions", config=config, tables=self.tables, queues=self.queues)
        self.api = HubApi(self, "Api", config=config, functions=self.functions)

        # The rest of each function's declared environment (hub.platform.settings.resources), with its grants.
        late_values = {
            "secret": self.admin_key.secret_arn,
            "rest_api": self.api.rest_api.rest_api_id,
            "usage_plans": self.api.usage_plan_ids_json,
        }
        for spec in catalog.FUNCTIONS:
            f = self.functions.by_name[spec.name]
            kinds = set()
            for resource in settings.resources(spec):
                if resource.kind in late_values:
                    f.function.add_environment(resource.env_var, late_values[resource.kind])
                    kinds.add(resource.kind)
            if "secret" in kinds:
                self.admin_key.grant_read(f.role)
            if "rest_api" in kinds:
                self.api.grant_manage_api_keys(f.role)

        self.sockets = HubSockets(self, "Sockets", config=config, functions=self.functions)

        self.observability = HubObservability(
            self,
            "Observability",
            config=config,
            functions=self.functions,
            queues=self.queues,
            api=self.api,
            sockets=self.sockets,
        )

        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url, description="Base URL of the hub's API")
        CfnOutput(
            self,
            "AdminKeySecretArn",
            value=self.admin_key.secret_arn,
            description="Secrets Manager secret holding the operator key (X-Admin-Key)",
        )
        CfnOutput(
            self,
            "ConnectLinkKeySecretArn",
            value=self.sockets.link_key.secret_arn,
            description="Secrets Manager secret signing the connect links (rotate it to revoke links)",
        )
        CfnOutput(
            self,
            "ConnectWebSocketUrl",
            value=self.sockets.stage.url,
            description="WebSocket API the connect page listens on",
        )
        CfnOutput(self, "DashboardName", value=self.observability.dashboard.dashboard_name)

        self.nag_acknowledgments = acknowledge_findings(self)
