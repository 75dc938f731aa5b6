"""API Gateway: every catalog route, its key requirement, validation, stage, usage plans."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk.assertions import Match

from hub.platform import catalog
from infra.constructs.api import path_parameters

from .helpers import as_list, hub_functions, methods_by_route, of_type, policy_statements_of_role, refs_in


def test_every_route_is_a_method_with_the_right_key_requirement(hub):
    (api,) = of_type(hub.resources, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["ApiKeySourceType"] == "HEADER"  # x-api-key
    methods = methods_by_route(hub.resources)
    assert len(methods) == len(catalog.ROUTES)
    for route in catalog.ROUTES:
        props = methods[(route.method, route.path)]
        assert props["ApiKeyRequired"] is (route.auth == "tenant"), route
        assert props["AuthorizationType"] == "NONE"


def test_routes_use_one_lambda_proxy_integration_per_function(hub):
    methods = methods_by_route(hub.resources)
    fn_ids = {name: hub.logical_id(f.function) for name, f in hub.stack.functions.by_name.items()}
    uris: dict[str, set[str]] = {}
    for route in catalog.ROUTES:
        integration = methods[(route.method, route.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        assert refs_in(integration["Uri"]) & set(fn_ids.values()) == {fn_ids[route.function]}, route
        uris.setdefault(route.function, set()).add(json.dumps(integration["Uri"], sort_keys=True))
    assert all(len(u) == 1 for u in uris.values())


def test_request_validation(hub):
    validators = of_type(hub.resources, "AWS::ApiGateway::RequestValidator")
    body = {
        k
        for k, v in validators.items()
        if v["Properties"]["ValidateRequestBody"] and v["Properties"]["ValidateRequestParameters"]
    }
    params = {
        k
        for k, v in validators.items()
        if not v["Properties"]["ValidateRequestBody"] and v["Properties"]["ValidateRequestParameters"]
    }
    assert body and params
    methods = methods_by_route(hub.resources)
    for route in catalog.ROUTES:
        props = methods[(route.method, route.path)]
        assert props["RequestValidatorId"]["Ref"] in (body if route.body else params), route
        expected = {f"method.request.path.{p}": True for p in path_parameters(route.path)}
        assert props.get("RequestParameters", {}) == expected, route


def test_stage_logging_tracing_throttling(hub):
    cfg = hub.stack.config
    hub.template.resource_count_is("AWS::ApiGateway::Stage", 1)
    stage = next(iter(of_type(hub.resources, "AWS::ApiGateway::Stage").values()))["Properties"]
    assert stage["StageName"] == cfg.stage
    assert stage["TracingEnabled"] is True
    fmt = json.loads(stage["AccessLogSetting"]["Format"])
    assert fmt["requestId"] == "$context.requestId" and "apiKeyId" in fmt
    log_group_id = stage["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    assert hub.resources[log_group_id]["Properties"]["RetentionInDays"] == cfg.log_retention_days
    (settings,) = stage["MethodSettings"]
    assert settings["LoggingLevel"] == "INFO"
    assert settings["DataTraceEnabled"] is False
    assert settings["MetricsEnabled"] is True
    assert settings["ThrottlingRateLimit"] == cfg.api_throttle_rate_limit
    assert settings["ThrottlingBurstLimit"] == cfg.api_throttle_burst_limit


def test_gateway_answers_use_the_hub_error_shape(hub):
    responses = of_type(hub.resources, "AWS::ApiGateway::GatewayResponse")
    by_type = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses.values()}
    assert by_type["INVALID_API_KEY"]["StatusCode"] == "401"
    assert by_type["QUOTA_EXCEEDED"]["StatusCode"] == "429"
    for props in by_type.values():
        body = json.loads(render_gateway_template(props["ResponseTemplates"]["application/json"], "Forbidden"))
        assert body["success"] is False and body["error"]["code"]
    assert by_type["DEFAULT_4XX"]["ResponseTemplates"]["application/json"].count("$context.error.messageString") == 1


NASTY_MESSAGES = (
    'He said "no"',
    "back\\slash \\u0000",
    "line\nbreak\ttab",
    '{"json": [1]}',
    "it's </script> ünïcødé 🙂",
    "$context.requestId",
    "",
)


def render_gateway_template(template: str, message: str, validation: str = 'instance ["object"] expected') -> str:
    """Substitute API Gateway's variables as documented for gateway responses (plain substitution, no VTL):
    messageString is the message as a quoted string, message and validationErrorString are the raw text.
    That messageString escapes quotes and backslashes inside the message is assumed (json.dumps here):
    AWS documents it as "the quoted value of $context.error.message"; not verified against API Gateway."""
    values = {
        "$context.error.messageString": json.dumps(message),
        "$context.error.validationErrorString": validation,
        "$context.error.message": message,
        "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    }
    pattern = re.compile("|".join(re.escape(k) for k in sorted(values, key=len, reverse=True)))
    return pattern.sub(lambda m: values[m.group(0)], template)


@pytest.mark.parametrize("message", NASTY_MESSAGES)
def test_gateway_answers_are_valid_json_for_any_message(hub, message):
    for response in of_type(hub.resources, "AWS::ApiGateway::GatewayResponse").values():
        template = response["Properties"]["ResponseTemplates"]["application/json"]
        body = json.loads(render_gateway_template(template, message))
        if "$context.error.messageString" in template:
            assert body["error"]["message"] == message


def test_rendering_catches_a_raw_message_inside_a_string():
    """The check above fails for the template this replaced (the message put raw inside quotes)."""
    raw = '{"error": {"message": "$context.error.message"}, "requestId": "$context.requestId"}'
    with pytest.raises(json.JSONDecodeError):
        json.loads(render_gateway_template(raw, NASTY_MESSAGES[0]))


def _plans(synth) -> dict[str, tuple[str, dict]]:
    """plan name -> (logical id, properties)."""
    prefix = f"wa-webhook-hub-{synth.stack.config.stage}-"
    return {
        p["Properties"]["UsagePlanName"].removeprefix(prefix): (lid, p["Properties"])
        for lid, p in of_type(synth.resources, "AWS::ApiGateway::UsagePlan").items()
    }


def test_usage_plans_from_the_one_declaration(hub, hub_dev):
    for synth in (hub, hub_dev):
        plans = _plans(synth)
        declared = {p.name: p for p in synth.stack.config.plans}
        assert set(plans) == set(declared)
        for name, (_, props) in plans.items():
            assert props["Throttle"] == {
                "RateLimit": declared[name].rate_limit,
                "BurstLimit": declared[name].burst_limit,
            }
            assert props["Quota"] == {"Limit": declared[name].quota_per_month, "Period": "MONTH"}
    assert set(_plans(hub)) == {"default", "pro"}
    assert set(_plans(hub_dev)) == {"default", "enterprise"}


def test_usage_plans_are_attached_to_the_stage(hub):
    stage_id = next(iter(of_type(hub.resources, "AWS::ApiGateway::Stage")))
    api_id = next(iter(of_type(hub.resources, "AWS::ApiGateway::RestApi")))
    attachments = of_type(hub.resources, "Custom::AWS")
    for plan_id, _ in _plans(hub).values():
        matching = [a for a in attachments.values() if plan_id in refs_in(a["Properties"]["Create"])]
        assert len(matching) == 1, plan_id
        create = matching[0]["Properties"]["Create"]
        assert {stage_id, api_id} <= refs_in(create)
        text = json.dumps(create)
        assert "updateUsagePlan" in text and "/apiStages" in text and '\\"op\\":\\"add\\"' in text
        assert '\\"op\\":\\"remove\\"' in json.dumps(matching[0]["Properties"]["Delete"])


def test_admin_function_gets_plan_ids_and_api_id(hub):
    functions = hub_functions(hub)
    api_id = next(iter(of_type(hub.resources, "AWS::ApiGateway::RestApi")))
    plan_ids = {name: lid for name, (lid, _) in _plans(hub).items()}
    for spec in catalog.FUNCTIONS:
        env = functions[spec.name]["Properties"]["Environment"]["Variables"]
        if not spec.manages_api_keys:
            assert "USAGE_PLAN_IDS" not in env and "REST_API_ID" not in env
            continue
        assert env["REST_API_ID"] == {"Ref": api_id}
        # A JSON object plan name -> usage plan id, rendered by CloudFormation.
        parts = env["USAGE_PLAN_IDS"]["Fn::Join"][1]
        rendered = "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)
        assert json.loads(rendered) == {name: f"<{lid}>" for name, lid in plan_ids.items()}


def test_admin_api_key_permissions_are_limited(hub):
    plan_ids = {lid for lid, _ in _plans(hub).values()}
    for spec in catalog.FUNCTIONS:
        role_id = hub.logical_id(hub.stack.functions.by_name[spec.name].role)
        stmts = [
            s
            for s in policy_statements_of_role(hub.resources, role_id)
            if any(a.startswith("apigateway:") for a in as_list(s["Action"]))
        ]
        if not spec.manages_api_keys:
            assert stmts == []
            continue
        actions = {a for s in stmts for a in as_list(s["Action"])}
        assert actions == {"apigateway:POST", "apigateway:DELETE", "apigateway:PATCH"}
        allowed = {
            # create a key / add it to a plan: the collections only
            "apigateway:POST": {"/apikeys", *(f"/usageplans/<{p}>/keys" for p in plan_ids)},
            # delete a key / take it out of a plan: their items only
            "apigateway:DELETE": {"/apikeys/*", *(f"/usageplans/<{p}>/keys/*" for p in plan_ids)},
            # enable a key created disabled: key items only
            "apigateway:PATCH": {"/apikeys/*"},
        }
        granted: dict[str, set[str]] = {"apigateway:POST": set(), "apigateway:DELETE": set(), "apigateway:PATCH": set()}
        for s in stmts:
            for resource in as_list(s["Resource"]):
                parts = resource["Fn::Join"][1]
                text = "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)
                assert text.startswith("arn:<AWS::Partition>:apigateway:<AWS::Region>::/"), text
                for action in as_list(s["Action"]):
                    granted[action].add(text.rsplit("::", 1)[1])
        assert granted == allowed


def test_no_api_key_is_created_by_the_stack(hub):
    # Tenant keys are made at runtime by the admin function, never in the template.
    hub.template.resource_count_is("AWS::ApiGateway::ApiKey", 0)
    hub.template.has_output("ApiUrl", Match.any_value())
