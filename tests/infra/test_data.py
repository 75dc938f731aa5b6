"""DynamoDB tables and SQS queues, as the catalog declares them."""

from __future__ import annotations

from hub.platform import catalog

from .helpers import of_type


def _key_schema(partition: catalog.Key, sort: catalog.Key | None) -> list[dict]:
    schema = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort.name, "KeyType": "RANGE"})
    return schema


def test_tables_as_declared(hub):
    assert len(of_type(hub.resources, "AWS::DynamoDB::Table")) == len(catalog.TABLES)
    for spec in catalog.TABLES:
        table = hub.resources[hub.logical_id(hub.stack.tables.by_id[spec.id])]
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True  # AWS-managed KMS key
        assert "KMSMasterKeyId" not in props["SSESpecification"]
        assert props["KeySchema"] == _key_schema(spec.partition_key, spec.sort_key)
        if spec.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        gsis = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
        assert set(gsis) == {i.name for i in spec.indexes}
        for index in spec.indexes:
            assert gsis[index.name]["KeySchema"] == _key_schema(index.partition_key, index.sort_key)
            projection = {"ProjectionType": index.projection}
            if index.non_key_attributes:
                projection["NonKeyAttributes"] = list(index.non_key_attributes)
            assert gsis[index.name]["Projection"] == projection
        attrs = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        for key in (
            spec.partition_key,
            spec.sort_key,
            *(k for i in spec.indexes for k in (i.partition_key, i.sort_key)),
        ):
            if key:
                assert attrs[key.name] == key.type


def test_removal_policy_retain_by_default_destroy_on_dev(hub, hub_dev):
    for lid in of_type(hub.resources, "AWS::DynamoDB::Table"):
        assert hub.resources[lid]["DeletionPolicy"] == "Retain"
        assert hub.resources[lid]["UpdateReplacePolicy"] == "Retain"
    for lid in of_type(hub_dev.resources, "AWS::DynamoDB::Table"):
        assert hub_dev.resources[lid]["DeletionPolicy"] == "Delete"
    assert hub.stack.stack_name == "WaWebhookHub-prod"
    assert hub_dev.stack.stack_name == "WaWebhookHub-dev"


def test_queues_as_declared(hub):
    assert len(of_type(hub.resources, "AWS::SQS::Queue")) == 2 * len(catalog.QUEUES) + len(catalog.FAILURE_QUEUES)
    for spec in catalog.QUEUES:
        q = hub.stack.queues.by_id[spec.id]
        queue_id, dlq_id = hub.logical_id(q.queue), hub.logical_id(q.dlq)
        queue, dlq = hub.resources[queue_id]["Properties"], hub.resources[dlq_id]["Properties"]
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": spec.max_receive_count,
        }
        assert dlq["MessageRetentionPeriod"] == spec.dlq_retention_days * 86400 == 14 * 86400
        assert queue["MessageRetentionPeriod"] == spec.retention_days * 86400 == 14 * 86400
        consumers = [f for f in catalog.FUNCTIONS if f.sqs_trigger == spec.id]
        for f in consumers:
            assert queue["VisibilityTimeout"] >= spec.visibility_factor * f.timeout_s
        assert spec.visibility_factor >= 6  # AWS's advice for a Lambda event source
        assert queue["VisibilityTimeout"] == catalog.visibility_timeout_s(spec)  # what the local hub creates too
        for props in (queue, dlq):
            assert props["SqsManagedSseEnabled"] is True


def test_each_stream_function_has_a_failure_queue_of_its_own(hub):
    """Where each stream function sets records aside: its own queue, kept 14 days, encrypted, not a redrive DLQ."""
    queues = of_type(hub.resources, "AWS::SQS::Queue")
    redrive_targets = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    owners = {}
    for spec in catalog.FAILURE_QUEUES:
        logical_id = hub.logical_id(hub.stack.queues.failures_by_id[spec.id])
        props = queues[logical_id]["Properties"]
        assert props["MessageRetentionPeriod"] == spec.retention_days * 86400 == 14 * 86400
        assert props["SqsManagedSseEnabled"] is True
        assert "RedrivePolicy" not in props and logical_id not in redrive_targets
        owners[spec.id] = {f.name for f in catalog.FUNCTIONS for t in f.stream_triggers if t.failures_to == spec.id}
    assert owners == {spec.id: {spec.function} for spec in catalog.FAILURE_QUEUES}
    assert set(owners) == {catalog.DISPATCHER_FAILURES.id, catalog.AGGREGATOR_FAILURES.id, catalog.PUSH_FAILURES.id}


def test_queues_enforce_tls(hub):
    policies = of_type(hub.resources, "AWS::SQS::QueuePolicy").values()
    covered = set()
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ):
            covered |= {q["Ref"] for q in policy["Properties"]["Queues"]}
    assert covered == set(of_type(hub.resources, "AWS::SQS::Queue"))
