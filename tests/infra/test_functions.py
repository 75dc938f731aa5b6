"""Lambda functions: runtime, layers, roles, log groups, environment, least privilege."""

from __future__ import annotations

from hub.platform import catalog
from hub.platform import settings as hub_settings
from hub.platform.settings import admin_key_functions

from .helpers import as_list, dumps, hub_functions, of_type, policy_statements_of_role, refs_in


def test_one_function_per_catalog_entry(hub):
    functions = hub_functions(hub)
    assert set(functions) == {f.name for f in catalog.FUNCTIONS}
    for spec in catalog.FUNCTIONS:
        props = functions[spec.name]["Properties"]
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "handler.handler"
        assert props["MemorySize"] == spec.memory_mb
        assert props["Timeout"] == spec.timeout_s
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO"


def test_reserved_concurrency_from_the_catalog_unless_context_turns_it_off(hub, hub_dev):
    reserving = {f.name: f.reserved_concurrency for f in catalog.FUNCTIONS if f.reserved_concurrency}
    assert reserving.get("receiver")  # a gateway flood cannot take the account's whole concurrency
    for synthesized, expected in ((hub, reserving), (hub_dev, {})):
        functions = hub_functions(synthesized)
        found = {
            name: fn["Properties"]["ReservedConcurrentExecutions"]
            for name, fn in functions.items()
            if "ReservedConcurrentExecutions" in fn["Properties"]
        }
        assert found == expected


def test_layers_are_ours_in_a_chosen_order(hub, hub_dev):
    """Dependencies first, domain code last (Lambda extracts later layers over earlier ones), and nothing
    else: no AWS-managed layer whose contents the tests cannot see. CDK sorts layers by construct path
    (@aws-cdk/aws-lambda:recognizeLayerVersion), so this catches a rename that would reorder them."""
    for synth in (hub, hub_dev):
        expected = [{"Ref": synth.logical_id(layer)} for layer in synth.stack.functions.layers]
        assert expected == [
            {"Ref": synth.logical_id(synth.stack.functions.dependency_layer)},
            {"Ref": synth.logical_id(synth.stack.functions.domain_layer)},
        ]
        assert len(of_type(synth.resources, "AWS::Lambda::LayerVersion")) == 2
        for fn in hub_functions(synth).values():
            assert fn["Properties"]["Layers"] == expected
    for layer in of_type(hub.resources, "AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_each_function_has_its_own_role_and_log_group(hub, hub_dev):
    functions = hub_functions(hub)
    roles = [fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions.values()]
    groups = [fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for fn in functions.values()]
    assert len(set(roles)) == len(roles) == len(functions)
    assert len(set(groups)) == len(groups) == len(functions)
    for role in roles:
        assert "ManagedPolicyArns" not in hub.resources[role]["Properties"]
    for group in groups:
        assert hub.resources[group]["Properties"]["RetentionInDays"] == 30
    for fn in hub_functions(hub_dev).values():
        group = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert hub_dev.resources[group]["Properties"]["RetentionInDays"] == 14


def test_environment_from_catalog_and_settings(hub):
    functions = hub_functions(hub)
    tables = {t: hub.logical_id(hub.stack.tables.by_id[t]) for t in hub.stack.tables.by_id}
    queues = hub.stack.queues.by_id
    resource_vars = (
        {t.env_var for t in catalog.TABLES}
        | {v for q in catalog.QUEUES for v in (q.env_var, q.dead_letter_env_var)}
        | {q.env_var for q in catalog.FAILURE_QUEUES}
    )
    for spec in catalog.FUNCTIONS:
        env = functions[spec.name]["Properties"]["Environment"]["Variables"]
        # Tables and queues: only the declared ones, with their real names / URLs.
        named = {*spec.tables, *(trigger.table for trigger in spec.stream_triggers)}
        expected_tables = {catalog.table(t).env_var: {"Ref": tables[t]} for t in named}
        expected_queues = {}
        for q in spec.queues:
            expected_queues[queues[q].spec.env_var] = {"Ref": hub.logical_id(queues[q].queue)}
            expected_queues[queues[q].spec.dead_letter_env_var] = {"Ref": hub.logical_id(queues[q].dlq)}
        for trigger in spec.stream_triggers:
            failures = hub.stack.queues.failures_by_id[trigger.failures_to]
            expected_queues[catalog.failure_queue(trigger.failures_to).env_var] = {"Ref": hub.logical_id(failures)}
        assert {k: v for k, v in env.items() if k in resource_vars} == {**expected_tables, **expected_queues}
        # Settings with a non-empty default.
        for s in hub_settings.SETTINGS:
            if s.env_var in hub_settings.stack_owned():
                continue
            if s.default:
                assert env[s.env_var] == s.default, s.env_var
            else:
                assert s.env_var not in env, s.env_var
        assert ("USAGE_PLAN_IDS" in env) == spec.manages_api_keys, spec.name
        assert env["POWERTOOLS_SERVICE_NAME"] == "wa-webhook-hub"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == hub.stack.config.metrics_namespace


def test_each_function_gets_exactly_its_declared_environment(hub, hub_dev):
    """The one declaration (hub.platform.settings.function_env_names) the local hub and the tests run each handler with."""
    for synth in (hub, hub_dev):
        functions = hub_functions(synth)
        for spec in catalog.FUNCTIONS:
            env = functions[spec.name]["Properties"]["Environment"]["Variables"]
            assert set(env) == hub_settings.function_env_names(spec, synth.stack.config.settings), spec.name
            assert env[hub_settings.HUB_FUNCTION] == spec.name


def test_settings_overridable_by_context(hub_dev):
    for fn in hub_functions(hub_dev).values():
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["WEBHOOK_RETRY_ATTEMPTS"] == "5"
        assert env["WEBHOOK_RETRY_DELAY"] == "60000"


def test_admin_key_is_a_generated_secret_never_a_literal(hub):
    secrets = of_type(hub.resources, "AWS::SecretsManager::Secret")
    assert len(secrets) == 2  # the operator key and the connect-link signing key (tests/infra/test_sockets.py)
    secret_id = hub.logical_id(hub.stack.admin_key)
    secret = secrets[secret_id]
    assert "GenerateSecretString" in secret["Properties"]
    assert "SecretString" not in secret["Properties"]
    functions = hub_functions(hub)
    for name, fn in functions.items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert "ADMIN_API_KEY" not in env
        if name in admin_key_functions():
            assert env["ADMIN_KEY_SECRET_ARN"] == {"Ref": secret_id}
        else:
            assert "ADMIN_KEY_SECRET_ARN" not in env
        role = hub.logical_id(hub.stack.functions.by_name[name].role)
        reads = [
            s
            for s in policy_statements_of_role(hub.resources, role)
            if "secretsmanager:GetSecretValue" in as_list(s["Action"]) and s["Resource"] == {"Ref": secret_id}
        ]
        if name in admin_key_functions():
            assert reads and all(s["Resource"] == {"Ref": secret_id} for s in reads)
        else:
            assert not reads
    # A fixed name collides with a retained secret when a stage is re-created: no generated secret has one.
    assert all("Name" not in s["Properties"] for s in of_type(hub.resources, "AWS::SecretsManager::Secret").values())
    # No function gets a key-like literal: only references (secret ARN, API id, plan ids).
    for fn in functions.values():
        for name, value in fn["Properties"]["Environment"]["Variables"].items():
            if "KEY" in name or "SECRET" in name:
                assert not isinstance(value, str), name
    assert hub.json["Outputs"]["AdminKeySecretArn"]["Value"] == {"Ref": secret_id}


RESOURCELESS_STREAM_ACTIONS = ("dynamodb:ListStreams",)
"""Granted on "*" by CDK to stream readers: it lists stream ARNs and reads no data."""


def test_no_policy_grants_wildcard_actions_or_data_on_any_resource(hub):
    for lid, policy in of_type(hub.resources, "AWS::IAM::Policy").items():
        for s in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = as_list(s["Action"])
            assert not any(a == "*" or a.endswith(":*") for a in actions), (lid, s)
            if "*" in as_list(s["Resource"]):
                assert all(a.startswith("xray:") or a in RESOURCELESS_STREAM_ACTIONS for a in actions), (lid, s)


def test_least_privilege_data_access(hub):
    tables = {t: hub.logical_id(hub.stack.tables.by_id[t]) for t in hub.stack.tables.by_id}
    all_tables = set(tables.values())
    for spec in catalog.FUNCTIONS:
        role = hub.logical_id(hub.stack.functions.by_name[spec.name].role)
        stmts = policy_statements_of_role(hub.resources, role)
        for s in stmts:
            actions = as_list(s["Action"])
            assert not any(a in ("*", "dynamodb:*", "sqs:*") or a.endswith(":*") for a in actions), s
            if s["Resource"] == "*":
                # Only X-Ray, and for stream readers ListStreams: no resource-level permissions exist for them.
                allowed = RESOURCELESS_STREAM_ACTIONS if spec.stream_triggers else ()
                assert all(a.startswith("xray:") or a in allowed for a in actions), s
            assert s["Effect"] == "Allow"
        dynamo_refs = set()
        for s in stmts:
            if any(a.startswith("dynamodb:") and a not in RESOURCELESS_STREAM_ACTIONS for a in as_list(s["Action"])):
                dynamo_refs |= refs_in(s["Resource"])
                assert "*" not in dumps(s["Resource"]), s
        streamed = {trigger.table for trigger in spec.stream_triggers}
        assert dynamo_refs & all_tables == {tables[t] for t in {*spec.tables, *streamed}}, spec.name


def test_queue_permissions(hub):
    queues = hub.stack.queues.by_id
    for spec in catalog.FUNCTIONS:
        role = hub.logical_id(hub.stack.functions.by_name[spec.name].role)
        stmts = policy_statements_of_role(hub.resources, role)
        sends = set()
        consumes = set()
        for s in stmts:
            actions = as_list(s["Action"])
            if "sqs:SendMessage" in actions:
                sends |= refs_in(s["Resource"])
            if "sqs:ReceiveMessage" in actions:
                consumes |= refs_in(s["Resource"])
        declared = {hub.logical_id(queues[q].queue) for q in spec.queues}
        # A stream function sets records aside in its own failure queue and replays them from it.
        failures = {hub.logical_id(hub.stack.queues.failures_by_id[t.failures_to]) for t in spec.stream_triggers}
        assert declared | failures <= sends
        assert not ({hub.logical_id(q) for q in hub.stack.queues.failures_by_id.values()} - failures) & sends, spec.name
        expected_consume = {hub.logical_id(queues[spec.sqs_trigger].queue)} if spec.sqs_trigger else set()
        assert consumes == expected_consume | failures, spec.name


def event_source_mappings(hub, kind: str) -> dict:
    """The stack's event source mappings whose source is a queue ("Arn") or a table stream ("StreamArn")."""
    return {
        lid: m
        for lid, m in of_type(hub.resources, "AWS::Lambda::EventSourceMapping").items()
        if m["Properties"]["EventSourceArn"]["Fn::GetAtt"][1] == kind
    }


def test_stream_triggers(hub):
    mappings = event_source_mappings(hub, "StreamArn")
    triggers = [(f, t) for f in catalog.FUNCTIONS for t in f.stream_triggers]
    assert len(mappings) == len(triggers) >= 4
    for spec, trigger in triggers:
        failures = hub.logical_id(hub.stack.queues.failures_by_id[trigger.failures_to])
        fn_id = hub.logical_id(hub.stack.functions.by_name[spec.name].function)
        table_id = hub.logical_id(hub.stack.tables.by_id[trigger.table])
        (m,) = [
            m["Properties"]
            for m in mappings.values()
            if m["Properties"]["FunctionName"] == {"Ref": fn_id}
            and m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        ]
        assert m["BatchSize"] == trigger.batch_size
        assert m["StartingPosition"] == "TRIM_HORIZON"
        # Retries bounded by age, not by a count a fast-failing batch spends in minutes; past the age, Lambda's
        # on-failure record arrives while the stream still holds the records (it keeps them 24 h).
        # (the push function gives up after 2 retries: a page shows the next change anyway)
        assert m["MaximumRetryAttempts"] == trigger.retry_attempts == (2 if spec.name == "push" else -1)
        assert m["MaximumRecordAgeInSeconds"] == trigger.max_record_age_s < catalog.STREAM_RETENTION_S
        assert m["BisectBatchOnFunctionError"] is trigger.bisect_on_error is (spec.name != "aggregator")
        assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert m.get("MaximumBatchingWindowInSeconds", 0) == trigger.batching_window_s
        assert m["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [failures, "Arn"]}
    for table in catalog.TABLES:
        view = hub.resources[hub.logical_id(hub.stack.tables.by_id[table.id])]["Properties"].get("StreamSpecification")
        assert view == ({"StreamViewType": table.stream} if table.stream else None)
    assert {t.table for _, t in triggers} <= {t.id for t in catalog.TABLES if t.stream}


def test_sqs_triggers(hub):
    mappings = event_source_mappings(hub, "Arn")
    triggered = [f for f in catalog.FUNCTIONS if f.sqs_trigger]
    assert len(mappings) == len(triggered)
    for spec in triggered:
        fn_id = hub.logical_id(hub.stack.functions.by_name[spec.name].function)
        queue_id = hub.logical_id(hub.stack.queues.by_id[spec.sqs_trigger].queue)
        (m,) = [m["Properties"] for m in mappings.values() if m["Properties"]["FunctionName"] == {"Ref": fn_id}]
        assert m["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert m["BatchSize"] == spec.batch_size
        if spec.max_concurrency:
            assert m["ScalingConfig"] == {"MaximumConcurrency": spec.max_concurrency}
