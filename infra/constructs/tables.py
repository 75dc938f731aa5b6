"""DynamoDB tables from catalog.TABLES."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from hub import catalog

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _attr(key: catalog.Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_TYPES[key.type])


class HubTables(Construct):
    """One on-demand, PITR-protected, AWS-managed-encrypted table per catalog table."""

    def __init__(self, scope: Construct, id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        self.by_id: dict[str, dynamodb.Table] = {}
        for spec in catalog.TABLES:
            table = dynamodb.Table(
                self,
                spec.id,
                partition_key=_attr(spec.partition_key),
                sort_key=_attr(spec.sort_key) if spec.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True,
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=spec.ttl_attribute,
                stream=dynamodb.StreamViewType[spec.stream] if spec.stream else None,
                removal_policy=removal_policy,
                deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attr(index.partition_key),
                    sort_key=_attr(index.sort_key) if index.sort_key else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            self.by_id[spec.id] = table

    def index_arns(self, table_id: str) -> list[str]:
        """ARNs of the table's declared indexes (no wildcard)."""
        table = self.by_id[table_id]
        return [f"{table.table_arn}/index/{i.name}" for i in catalog.table(table_id).indexes]
