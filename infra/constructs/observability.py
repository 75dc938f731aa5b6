"""Alarms and the hub's CloudWatch dashboard."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from hub.platform import catalog
from infra.constructs.naming import pascal

from ..config import HubConfig
from .api import HubApi
from .functions import HubFunctions, gateway_functions
from .queues import HubQueues
from .sockets import HubSockets

PERIOD = Duration.minutes(5)

# Custom metrics: catalog.Metric (namespace POWERTOOLS_METRICS_NAMESPACE, dimension service).


class HubObservability(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: HubConfig,
        functions: HubFunctions,
        queues: HubQueues,
        api: HubApi,
        sockets: HubSockets | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.config = config
        self.alarms: list[cw.Alarm] = []

        self.topic: sns.ITopic | None = None
        if config.alarm_topic_arn:
            self.topic = sns.Topic.from_topic_arn(self, "AlarmTopic", config.alarm_topic_arn)
        elif config.alarm_email:
            topic = sns.Topic(
                self, "AlarmTopic", display_name=f"wa-webhook-hub {config.stage} alarms", enforce_ssl=True
            )
            topic.add_subscription(subs.EmailSubscription(config.alarm_email))
            self.topic = topic

        # -- queues -----------------------------------------------------------------------
        for queue_id, q in queues.by_id.items():
            self._alarm(
                f"{queue_id}DlqNotEmpty",
                q.dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
                threshold=0,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=f"{queue_id} dead-letter queue has messages: deliveries gave up",
            )
            self._alarm(
                f"{queue_id}OldestMessage",
                q.queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                threshold=config.queue_age_alarm_seconds,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
                description=f"{queue_id} queue is falling behind",
            )

        for spec in catalog.FAILURE_QUEUES:
            self._alarm(
                f"{spec.id}NotEmpty",
                queues.failures_by_id[spec.id].metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=0,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=failure_queue_alarm_description(spec),
            )

        # -- deliveries -------------------------------------------------------------------
        succeeded = self.metric(catalog.Metric.DELIVERY_SUCCEEDED)
        failed = self.metric(catalog.Metric.DELIVERY_FAILED)
        self.failure_rate = cw.MathExpression(
            expression="IF((s + f) > 0, 100 * f / (s + f), 0)",
            using_metrics={"s": succeeded, "f": failed},
            label="Delivery failure rate (%)",
            period=PERIOD,
        )
        self._alarm(
            "DeliveryFailureRate",
            self.failure_rate,
            threshold=config.delivery_failure_rate_percent,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description="Share of failed delivery attempts is high",
        )

        # -- functions ----------------------------------------------------------------------
        for name, f in functions.by_name.items():
            label = pascal(name)
            self._alarm(
                f"{label}Errors",
                f.function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
                comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                description=f"{name} function errors",
            )
            self._alarm(
                f"{label}Throttles",
                f.function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
                comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                description=f"{name} function throttled",
            )
            if f.spec.stream_triggers:
                self._alarm(
                    f"{label}IteratorAge",
                    f.function.metric("IteratorAge", period=PERIOD, statistic="Maximum"),
                    threshold=config.queue_age_alarm_seconds * 1000,
                    comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=3,
                    description=f"{name} is falling behind its table streams",
                )
        for name in sorted(gateway_functions()):
            self._alarm(
                f"{pascal(name)}LatencyP99",
                functions.by_name[name].function.metric_duration(period=PERIOD, statistic="p99"),
                threshold=config.receiver_p99_latency_ms,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                description=f"{name} p99 duration is high: gateways wait on it",
            )

        # -- the connect page's WebSocket API ----------------------------------------------
        if sockets is not None:
            self._alarm(
                "ConnectSocketIntegrationErrors",
                sockets.api.metric(
                    "IntegrationError",
                    dimensions_map={"ApiId": sockets.api.api_id, "Stage": sockets.stage.stage_name},
                    period=PERIOD,
                    statistic="Sum",
                ),
                threshold=config.api_5xx_threshold,
                comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                description="The WebSocket API's $connect/$disconnect functions are failing: connect pages fall back to polling",
            )

        # -- API ---------------------------------------------------------------------------
        self._alarm(
            "Api5xx",
            api.rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
            threshold=config.api_5xx_threshold,
            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            description="API answers 5xx",
        )

        self.dashboard = self._dashboard(functions, queues, api)

    # ----------------------------------------------------------------------------------

    def metric(self, name: str, statistic: str = "Sum") -> cw.Metric:
        return cw.Metric(
            namespace=self.config.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": self.config.service_name},
            statistic=statistic,
            period=PERIOD,
        )

    def _alarm(
        self,
        id: str,
        metric: cw.Metric | cw.MathExpression,
        *,
        threshold: float,
        comparison: cw.ComparisonOperator,
        description: str,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
    ) -> cw.Alarm:
        alarm = metric.create_alarm(
            self,
            id,
            alarm_description=description,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        if self.topic is not None:
            alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm

    def _dashboard(self, functions: HubFunctions, queues: HubQueues, api: HubApi) -> cw.Dashboard:
        stack = Stack.of(self)
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{stack.stack_name}-hub")
        gateway = sorted(gateway_functions())
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Events received",
                left=[self.metric(catalog.Metric.EVENTS_RECEIVED), self.metric(catalog.Metric.DUPLICATE_EVENTS)],
                width=8,
            ),
            cw.GraphWidget(
                title="Deliveries by outcome",
                left=[
                    self.metric(catalog.Metric.DELIVERY_SUCCEEDED),
                    self.metric(catalog.Metric.DELIVERY_FAILED),
                    self.metric(catalog.Metric.DELIVERY_RETRIED),
                    self.metric(catalog.Metric.DELIVERY_UNPARSEABLE),
                ],
                right=[self.failure_rate],
                width=8,
            ),
            cw.GraphWidget(
                title="Retry depth",
                left=[self.metric(catalog.Metric.DELIVERY_RETRIED)],
                right=[
                    q.queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum")
                    for q in queues.by_id.values()
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Dead-letter and failure queue depth",
                left=[
                    q.dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
                    for q in queues.by_id.values()
                ]
                + [
                    q.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum", label=queue_id)
                    for queue_id, q in queues.failures_by_id.items()
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Queue depth",
                left=[
                    q.queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
                    for q in queues.by_id.values()
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Latency (p99)",
                left=[
                    functions.by_name[n].function.metric_duration(period=PERIOD, statistic="p99", label=f"{n} p99")
                    for n in gateway
                ],
                right=[api.rest_api.metric_latency(period=PERIOD, statistic="p99", label="API p99")],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Function errors",
                left=[
                    f.function.metric_errors(period=PERIOD, statistic="Sum", label=n)
                    for n, f in functions.by_name.items()
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Function throttles",
                left=[
                    f.function.metric_throttles(period=PERIOD, statistic="Sum", label=n)
                    for n, f in functions.by_name.items()
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="API responses",
                left=[
                    api.rest_api.metric_count(period=PERIOD, statistic="Sum", label="requests"),
                    api.rest_api.metric_client_error(period=PERIOD, statistic="Sum", label="4xx"),
                    api.rest_api.metric_server_error(period=PERIOD, statistic="Sum", label="5xx"),
                ],
                width=8,
            ),
        )
        return dashboard


def failure_queue_alarm_description(spec: catalog.FailureQueue) -> str:
    """What the alarm of a stream function's failure queue tells the operator: what failed, how to replay."""
    if not spec.replayable:
        return (
            f"{spec.function} gave up on records, listed in {spec.id}: {spec.what_failed}. Fix the cause its "
            f"log names; there is nothing to replay (docs/stream-failures.md)"
        )
    return (
        f"{spec.function} set records aside in {spec.id}: {spec.what_failed}. Fix the cause its log names, "
        f"then replay: aws lambda invoke --function-name <{spec.function} function> "
        f'--payload \'{{"replay": {{"maxMessages": 100}}}}\' --cli-binary-format raw-in-base64-out out.json '
        f"(docs/stream-failures.md)"
    )
