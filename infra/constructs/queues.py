"""SQS queues (each with its dead-letter queue) from catalog.QUEUES, and the stream functions' failure queues
from catalog.FAILURE_QUEUES."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from hub.platform import catalog


@dataclass(frozen=True)
class HubQueue:
    spec: catalog.Queue
    queue: sqs.Queue
    dlq: sqs.Queue


class HubQueues(Construct):
    def __init__(self, scope: Construct, id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        self.by_id: dict[str, HubQueue] = {}
        self.failures_by_id: dict[str, sqs.Queue] = {
            spec.id: sqs.Queue(
                self,
                spec.id,
                retention_period=Duration.days(spec.retention_days),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                removal_policy=removal_policy,
            )
            for spec in catalog.FAILURE_QUEUES
        }
        for spec in catalog.QUEUES:
            dlq = sqs.Queue(
                self,
                f"{spec.id}Dlq",
                retention_period=Duration.days(spec.dlq_retention_days),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                removal_policy=removal_policy,
            )
            queue = sqs.Queue(
                self,
                spec.id,
                visibility_timeout=Duration.seconds(catalog.visibility_timeout_s(spec)),
                retention_period=Duration.days(spec.retention_days),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
                removal_policy=removal_policy,
            )
            self.by_id[spec.id] = HubQueue(spec=spec, queue=queue, dlq=dlq)
