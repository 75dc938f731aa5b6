"""Lambda functions from catalog.FUNCTIONS, each with its own role and log group."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from hub.platform import catalog, settings
from infra.constructs.naming import pascal

from ..bundling import dependency_layer_code
from ..config import HubConfig
from .queues import HubQueues
from .tables import HubTables

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = "handler.handler"

ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/tests", "**/test_*.py", "**/.pytest_cache"]

# Explicit DynamoDB data actions (never dynamodb:*), on the table and its declared indexes.
DYNAMODB_READ = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
]
DYNAMODB_WRITE = [
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
]


def gateway_functions() -> frozenset[str]:
    """Functions receiving gateway webhooks (their latency is what gateways wait on)."""
    return frozenset(r.function for r in catalog.ROUTES if r.auth == "gateway")


@dataclass
class HubFunction:
    spec: catalog.Function
    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup


class HubFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: HubConfig,
        tables: HubTables,
        queues: HubQueues,
    ) -> None:
        super().__init__(scope, id)
        self.config = config

        self.dependency_layer = lambda_.LayerVersion(
            self,
            "DependencyLayer",
            description="wa-webhook-hub third-party libraries from requirements.lock (linux arm64, CPython 3.13)",
            code=dependency_layer_code(config.lock_file),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            removal_policy=config.removal_policy,
        )
        self.domain_layer = lambda_.LayerVersion(
            self,
            "DomainLayer",
            description="wa-webhook-hub domain code (hub.*)",
            code=lambda_.Code.from_asset(str(config.layers_root / "hub"), exclude=ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            removal_policy=config.removal_policy,
        )
        # Lambda extracts layers into /opt in this order, a later one overwriting an earlier one's files:
        # third-party libraries first, our domain code last. With @aws-cdk/aws-lambda:recognizeLayerVersion
        # CDK sorts a function's layers by construct path, so the construct ids keep this order too
        # ("DependencyLayer" < "DomainLayer"); tests/infra/test_layers.py asserts the synthesized order.
        self.layers = (self.dependency_layer, self.domain_layer)

        self.by_name: dict[str, HubFunction] = {}
        for spec in catalog.FUNCTIONS:
            self.by_name[spec.name] = self._function(spec, tables, queues)

    # -- one function ------------------------------------------------------------------

    def _function(self, spec: catalog.Function, tables: HubTables, queues: HubQueues) -> HubFunction:
        config = self.config
        scope = Construct(self, pascal(spec.name))
        log_group = logs.LogGroup(
            scope,
            "Logs",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"wa-webhook-hub {spec.name}: least privilege from the catalog",
        )
        # What AWSLambdaBasicExecutionRole would give, limited to this function's log group.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )

        for table_id in spec.tables:
            table = tables.by_id[table_id]
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=DYNAMODB_READ + DYNAMODB_WRITE,
                    resources=[table.table_arn, *tables.index_arns(table_id)],
                )
            )

        for queue_id in spec.queues:
            q = queues.by_id[queue_id]
            q.queue.grant_send_messages(role)
            if spec.sqs_trigger == queue_id:
                # The consumer moves a delivery whose retries are exhausted to the DLQ itself.
                q.dlq.grant_send_messages(role)

        # The declared environment (hub.platform.settings); the secret and the API's ids are added by the stack
        # once they exist (HubStack), from the same declaration.
        resource_values = {
            "table": lambda r: tables.by_id[r.resource_id].table_name,
            "queue": lambda r: queues.by_id[r.resource_id].queue.queue_url,
            "dead_letter_queue": lambda r: queues.by_id[r.resource_id].dlq.queue_url,
            "failure_queue": lambda r: queues.failures_by_id[r.resource_id].queue_url,
        }
        environment = {
            **config.settings,  # POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, ...
            settings.HUB_FUNCTION: spec.name,
            **{r.env_var: resource_values[r.kind](r) for r in settings.resources(spec) if r.kind in resource_values},
        }

        for queue_id in dict.fromkeys(t.failures_to for t in spec.stream_triggers):
            # A stream function sets records aside in its failure queue, and replays them from it (receive, delete).
            queues.failures_by_id[queue_id].grant_send_messages(role)
            queues.failures_by_id[queue_id].grant_consume_messages(role)

        function = lambda_.Function(
            scope,
            "Function",
            description=spec.description[:256],
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(config.functions_root / spec.name), exclude=ASSET_EXCLUDES),
            layers=list(self.layers),
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            reserved_concurrent_executions=spec.reserved_concurrency if config.reserve_concurrency else None,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=_app_log_level(config.log_level),
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            tracing=lambda_.Tracing.ACTIVE,
            environment=environment,
        )

        if spec.sqs_trigger:
            q = queues.by_id[spec.sqs_trigger]
            function.add_event_source(
                sources.SqsEventSource(
                    q.queue,
                    batch_size=spec.batch_size,
                    max_concurrency=spec.max_concurrency,
                    report_batch_item_failures=True,
                )
            )

        for trigger in spec.stream_triggers:
            function.add_event_source(
                sources.DynamoEventSource(
                    tables.by_id[trigger.table],
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=trigger.batch_size,
                    max_batching_window=Duration.seconds(trigger.batching_window_s)
                    if trigger.batching_window_s
                    else None,
                    retry_attempts=trigger.retry_attempts,
                    max_record_age=Duration.seconds(trigger.max_record_age_s),
                    bisect_batch_on_error=trigger.bisect_on_error,
                    report_batch_item_failures=True,
                    on_failure=sources.SqsDlq(queues.failures_by_id[trigger.failures_to]),
                )
            )

        return HubFunction(spec=spec, function=function, role=role, log_group=log_group)


def _app_log_level(level: str) -> lambda_.ApplicationLogLevel:
    level = {"WARNING": "WARN", "CRITICAL": "FATAL"}.get(level, level)
    try:
        return lambda_.ApplicationLogLevel[level]
    except KeyError:
        return lambda_.ApplicationLogLevel.INFO
