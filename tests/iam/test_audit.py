"""The IAM audit can fail: its matcher, its request mapping, and a grant the catalog loses."""

from __future__ import annotations

import dataclasses

import boto3
import pytest

from hub.platform import catalog
from local.resources import local_table_name
from tests.iam import audit
from tests.iam.policy import Request, Template, UnsupportedPolicy, allows, queue_arn, table_arn
from tests.iam.requests import authorizations, recording

SESSIONS_ARN = table_arn(local_table_name(catalog.SESSIONS))


def statement(actions, resources, effect="Allow"):
    return {"Effect": effect, "Action": actions, "Resource": resources}


def test_actions_match_as_iam_does_wildcards_and_case():
    granted = [statement(["sqs:SendMessage*", "dynamodb:get?tem"], ["*"])]
    assert allows(granted, "sqs:SendMessage", "arn:x") and allows(granted, "SQS:sendmessagebatch", "arn:x")
    assert allows(granted, "dynamodb:GetItem", "arn:x")
    assert not allows(granted, "sqs:ReceiveMessage", "arn:x")
    assert not allows(granted, "dynamodb:GetItems", "arn:x")


def test_resources_match_case_sensitively_with_star_and_question_mark():
    granted = [statement("dynamodb:Query", [SESSIONS_ARN, f"{SESSIONS_ARN}/index/*", "arn:aws:sqs:*:*:q?"])]
    assert allows(granted, "dynamodb:Query", SESSIONS_ARN)
    assert allows(granted, "dynamodb:Query", f"{SESSIONS_ARN}/index/byTenant")
    assert allows(granted, "dynamodb:Query", "arn:aws:sqs:us-east-1:1:q1")
    assert not allows(granted, "dynamodb:Query", SESSIONS_ARN.upper())
    assert not allows(granted, "dynamodb:Query", table_arn("wa-hub-events"))
    assert not allows(granted, "dynamodb:Query", "arn:aws:sqs:us-east-1:1:q10")


def test_an_explicit_deny_wins():
    granted = [statement("dynamodb:*", "*"), statement("dynamodb:DeleteItem", SESSIONS_ARN, effect="Deny")]
    assert allows(granted, "dynamodb:PutItem", SESSIONS_ARN)
    assert not allows(granted, "dynamodb:DeleteItem", SESSIONS_ARN)


def test_template_intrinsics_resolve_to_the_names_requests_use():
    template = Template(
        {
            "Resources": {
                "T": {"Type": "AWS::DynamoDB::Table"},
                "Q": {"Type": "AWS::SQS::Queue"},
                "Api": {"Type": "AWS::ApiGateway::RestApi"},
            }
        },
        {"T": "wa-hub-sessions", "Q": "wa-hub-delivery"},
    )
    assert template.resolve({"Fn::GetAtt": ["T", "Arn"]}) == SESSIONS_ARN
    assert template.resolve({"Fn::Join": ["", [{"Fn::GetAtt": ["T", "Arn"]}, "/index/*"]]}) == f"{SESSIONS_ARN}/index/*"
    assert template.resolve({"Fn::GetAtt": "Q.Arn"}) == queue_arn("wa-hub-delivery")
    assert (
        template.resolve({"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}"})
        == "arn:aws:apigateway:us-east-1::/restapis/Api"
    )
    assert template.resolve({"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]}) == "b"
    with pytest.raises(UnsupportedPolicy):
        template.resolve({"Fn::If": ["C", "a", "b"]})
    with pytest.raises(UnsupportedPolicy):
        template.resolve({"Ref": "Missing"})


def operation(service: str, name: str):
    client = boto3.session.Session().client(service, region_name="us-east-1")
    return client.meta.service_model.operation_model(name)


def test_requests_map_to_the_actions_and_resources_iam_authorizes():
    transact = {
        "TransactItems": [
            {"Put": {"TableName": "wa-hub-sessions"}},
            {"ConditionCheck": {"TableName": "wa-hub-tenants"}},
        ]
    }
    assert authorizations(operation("dynamodb", "TransactWriteItems"), transact) == [
        ("dynamodb:PutItem", SESSIONS_ARN),
        ("dynamodb:ConditionCheckItem", table_arn("wa-hub-tenants")),
    ]
    assert authorizations(
        operation("dynamodb", "Query"), {"TableName": "wa-hub-sessions", "IndexName": "byTenant"}
    ) == [("dynamodb:Query", f"{SESSIONS_ARN}/index/byTenant")]
    url = "http://127.0.0.1:5000/123456789012/wa-hub-delivery"
    assert authorizations(operation("sqs", "SendMessageBatch"), {"QueueUrl": url}) == [
        ("sqs:SendMessage", queue_arn("wa-hub-delivery"))
    ]
    assert authorizations(operation("apigateway", "CreateUsagePlanKey"), {"usagePlanId": "p1", "keyId": "k"}) == [
        ("apigateway:POST", "arn:aws:apigateway:us-east-1::/usageplans/p1/keys")
    ]
    assert authorizations(operation("apigateway", "DeleteApiKey"), {"apiKey": "k1"}) == [
        ("apigateway:DELETE", "arn:aws:apigateway:us-east-1::/apikeys/k1")
    ]
    assert authorizations(
        operation("secretsmanager", "GetSecretValue"), {"SecretId": "arn:aws:secretsmanager:r:a:secret:s"}
    ) == [("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:r:a:secret:s")]


def test_the_audit_reports_a_request_whose_grant_the_catalog_lost(api, tenant, monkeypatch):
    """POST /api/webhook/test with an instanceId and no secret reads the Sessions table: granted by
    the catalog, refused once the webhooks function loses that table."""
    key = tenant["apiKey"]
    api.create_session(key, sessionId="s1")
    with recording() as recorder:
        reply = api.call(
            "POST", "/api/webhook/test", body={"url": "http://127.0.0.1:9/x", "instanceId": "s1"}, api_key=key
        )
    assert reply.status == 200, reply.raw
    read = Request("webhooks", "dynamodb:GetItem", SESSIONS_ARN)
    assert read in recorder.requests
    assert audit.audit(recorder.requests) == []

    webhooks = catalog.function("webhooks")
    without_sessions = dataclasses.replace(
        webhooks, tables=tuple(t for t in webhooks.tables if t != catalog.SESSIONS.id)
    )
    monkeypatch.setattr(
        catalog, "FUNCTIONS", tuple(without_sessions if f is webhooks else f for f in catalog.FUNCTIONS)
    )
    assert read in audit.audit(recorder.requests)
