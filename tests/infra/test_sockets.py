"""The connect page's push channel in the stack: WebSocket API, stage, connections table, push function's
least privilege, the signing secret, and its alarm."""

from __future__ import annotations

import json

from hub.platform import catalog

from .helpers import as_list, hub_functions, of_type, policy_statements_of_role


def test_websocket_routes_are_the_catalogs(hub):
    routes = of_type(hub.resources, "AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == sorted(
        r.route_key for r in catalog.SOCKET_ROUTES
    )
    integrations = of_type(hub.resources, "AWS::ApiGatewayV2::Integration")
    sockets_fn = hub.logical_id(hub.stack.functions.by_name["sockets"].function)
    for integration in integrations.values():
        assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
        assert sockets_fn in json.dumps(integration["Properties"]["IntegrationUri"])


def test_stage_logs_without_the_token_and_is_throttled(hub):
    (stage,) = of_type(hub.resources, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    log_format = json.loads(props["AccessLogSettings"]["Format"])
    assert "connectionId" in log_format and not any("querystring" in v.lower() for v in log_format.values())
    settings = props["DefaultRouteSettings"]
    assert settings["LoggingLevel"] == "INFO" and settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0


def test_connections_table_expires_its_items(hub):
    table = hub.resources[hub.logical_id(hub.stack.tables.by_id[catalog.CONNECTIONS.id])]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["byConnection"]


def test_sessions_stream_has_at_most_two_readers(hub):
    sessions = hub.logical_id(hub.stack.tables.by_id[catalog.SESSIONS.id])
    readers = [
        m
        for m in of_type(hub.resources, "AWS::Lambda::EventSourceMapping").values()
        if sessions in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert len(readers) == catalog.MAX_STREAM_READERS


def test_only_the_push_function_may_post_and_only_to_connections(hub):
    api_id = hub.logical_id(hub.stack.sockets.api)
    for name, f in hub.stack.functions.by_name.items():
        statements = policy_statements_of_role(hub.resources, hub.logical_id(f.role))
        manages = [s for s in statements if any(a.startswith("execute-api:") for a in as_list(s["Action"]))]
        if not f.spec.manages_connections:
            assert not manages, name
            continue
        (statement,) = manages
        assert as_list(statement["Action"]) == ["execute-api:ManageConnections"]
        resource = json.dumps(statement["Resource"])
        assert api_id in resource and f"/{hub.stack.config.stage}/POST/@connections/*" in resource


def test_link_key_is_generated_and_read_only_by_link_functions(hub):
    key_id = hub.logical_id(hub.stack.sockets.link_key)
    secret = hub.resources[key_id]["Properties"]
    assert "GenerateSecretString" in secret and "SecretString" not in secret
    for name, fn in hub_functions(hub).items():
        spec = catalog.function(name)
        env = fn["Properties"]["Environment"]["Variables"]
        role = hub.logical_id(hub.stack.functions.by_name[name].role)
        reads = [
            s
            for s in policy_statements_of_role(hub.resources, role)
            if "secretsmanager:GetSecretValue" in as_list(s["Action"]) and s["Resource"] == {"Ref": key_id}
        ]
        assert bool(reads) is spec.reads_link_secret, name
        assert (env.get("CONNECT_LINK_SECRET_ARN") == {"Ref": key_id}) is spec.reads_link_secret, name
        assert "CONNECT_LINK_SECRET" not in env
        assert ("CONNECTIONS_API_ENDPOINT" in env) is spec.manages_connections, name


def test_websocket_integration_errors_alarm(hub):
    alarms = [a["Properties"] for a in of_type(hub.resources, "AWS::CloudWatch::Alarm").values()]
    assert any(a.get("MetricName") == "IntegrationError" and a.get("Namespace") == "AWS/ApiGateway" for a in alarms)
