"""DynamoDB tables from catalog.TABLES."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from hub.platform import catalog

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _attr(key: catalog.Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_TYPES[key.type])


def indexes(spec: catalog.Table, keep_replaced: frozenset[str], defer: frozenset[str]) -> list[catalog.Index]:
    """The indexes the table has in this deploy: the declared ones but those deferred, then the replaced and
    retired ones still kept (with their ALL projection), in a migration's steps (docs/migration.md)."""
    declared = [i for i in spec.indexes if f"{spec.id}.{i.name}" not in defer]
    kept = [
        catalog.Index(i.replaces, i.partition_key, i.sort_key, projection="ALL")
        for i in spec.indexes
        if i.replaces and f"{spec.id}.{i.replaces}" in keep_replaced
    ]
    retired = [r for r in spec.retired if f"{spec.id}.{r.name}" in keep_replaced]
    return declared + kept + retired


class HubTables(Construct):
    """One on-demand, PITR-protected, AWS-managed-encrypted table per catalog table."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        removal_policy: RemovalPolicy,
        keep_replaced_indexes: frozenset[str] = frozenset(),
        defer_indexes: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(scope, id)
        self.by_id: dict[str, dynamodb.Table] = {}
        self.indexes_by_id: dict[str, list[catalog.Index]] = {}
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
            self.indexes_by_id[spec.id] = indexes(spec, keep_replaced_indexes, defer_indexes)
            for index in self.indexes_by_id[spec.id]:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attr(index.partition_key),
                    sort_key=_attr(index.sort_key) if index.sort_key else None,
                    projection_type=dynamodb.ProjectionType[index.projection],
                    non_key_attributes=list(index.non_key_attributes) or None,
                )
            self.by_id[spec.id] = table

    def index_arns(self, table_id: str) -> list[str]:
        """ARNs of the indexes the table has in this deploy (no wildcard)."""
        table = self.by_id[table_id]
        return [f"{table.table_arn}/index/{i.name}" for i in self.indexes_by_id[table_id]]
