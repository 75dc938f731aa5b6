"""IAM, offline: the synthesized roles' policies with concrete ARNs, and whether they allow a request.

The template's intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split and the pseudo
parameters) resolve in a fake account and region, naming the catalog's tables and queues as the local
hub names them (local.resources), so a policy's ARNs and the ARNs of the requests the functions made
(tests.iam.requests) are computed the same way. Evaluation follows IAM for identity policies: an
explicit Deny wins, else an Allow whose Action and Resource patterns match (`*` and `?`; actions
case-insensitively). Conditions, NotAction/NotResource, permission boundaries, SCPs, resource
policies and KMS key policies are not evaluated (a statement with a Condition or a Not* element is
refused loudly, not guessed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "WaWebhookHub",
    "AWS::NoValue": None,
}


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def queue_url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"


SOCKET_API_TOKEN = "websocket-api"
"""How both sides name the WebSocket API, whose id is made up at creation (the audit synthesizes the default stage)."""


def usage_plan_token(plan_name: str) -> str:
    """How both sides name a usage plan: by its plan name, since its id is made up at creation."""
    return f"usage-plan:{plan_name}"


@dataclass(frozen=True)
class Request:
    """One IAM authorization a function's AWS request needs."""

    function: str
    action: str
    resource: str


class UnsupportedPolicy(ValueError):
    """The template uses something this evaluator does not model: fail rather than guess."""


class Template:
    """A synthesized template whose resources are named: `names` maps a logical id to the physical
    name the local hub gives it (tables, queues); other resources are named by their logical id."""

    def __init__(self, template: Mapping[str, Any], names: Mapping[str, str]) -> None:
        self.resources: Mapping[str, Any] = template["Resources"]
        self.names = names

    def _name(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise UnsupportedPolicy(f"reference to unknown resource {logical_id}")
        return self.names.get(logical_id, logical_id)

    def ref(self, logical_id: str) -> Any:
        if logical_id in PSEUDO:
            return PSEUDO[logical_id]
        kind = self.resources[logical_id]["Type"] if logical_id in self.resources else ""
        name = self._name(logical_id)
        if kind == "AWS::SQS::Queue":
            return queue_url(name)
        if kind == "AWS::SecretsManager::Secret":
            # A secret's ARN is its name, a dash and six random characters.
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-??????"
        return name

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.resources[logical_id]["Type"] if logical_id in self.resources else ""
        name = self._name(logical_id)
        if kind == "AWS::DynamoDB::Table":
            return {"Arn": table_arn(name), "StreamArn": f"{table_arn(name)}/stream/*"}[attribute]
        if kind == "AWS::SQS::Queue":
            return {"Arn": queue_arn(name), "QueueName": name, "QueueUrl": queue_url(name)}[attribute]
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"
        return f"{name}.{attribute}"  # an ARN nothing real matches

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Ref", "Fn::")):
            return {k: self.resolve(v) for k, v in node.items()}
        ((function, argument),) = node.items()
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.get_att(logical_id, attribute)
        if function == "Fn::Join":
            delimiter, parts = argument
            return delimiter.join(str(p) for p in self.resolve(parts))
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if function == "Fn::Split":
            delimiter, text = argument
            return str(self.resolve(text)).split(delimiter)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            values = {k: self.resolve(v) for k, v in variables.items()}

            def substitute(match: re.Match) -> str:
                name = match.group(1)
                if name in values:
                    return str(values[name])
                if "." in name and name not in PSEUDO:
                    return self.get_att(*name.split(".", 1))
                return str(self.ref(name))

            return re.sub(r"\$\{([^!}][^}]*)\}", substitute, text)
        raise UnsupportedPolicy(f"intrinsic {function} is not modelled")

    def role_statements(self, role_logical_id: str) -> list[dict[str, Any]]:
        """Every identity-policy statement of a role: its inline policies and the AWS::IAM::Policy
        (and customer managed policy) resources attached to it; AWS managed policies are refused."""
        role = self.resources[role_logical_id]["Properties"]
        if role.get("ManagedPolicyArns") or role.get("PermissionsBoundary"):
            raise UnsupportedPolicy(f"{role_logical_id}: managed policies / boundaries are not evaluated offline")
        documents = [p["PolicyDocument"] for p in role.get("Policies", [])]
        for resource in self.resources.values():
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {
                "Ref": role_logical_id
            } in resource["Properties"].get("Roles", []):
                documents.append(resource["Properties"]["PolicyDocument"])
        statements = []
        for document in documents:
            for statement in _as_list(document["Statement"]):
                unsupported = {"Condition", "NotAction", "NotResource", "NotPrincipal"} & set(statement)
                if unsupported:
                    raise UnsupportedPolicy(f"{role_logical_id}: {sorted(unsupported)} are not evaluated offline")
                statements.append(self.resolve(statement))
        return statements


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def action_matches(pattern: str, action: str) -> bool:
    return _pattern(pattern, True).fullmatch(action) is not None


def resource_matches(pattern: str, arn: str) -> bool:
    return _pattern(pattern, False).fullmatch(arn) is not None


def _applies(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    return any(action_matches(a, action) for a in _as_list(statement["Action"])) and any(
        resource_matches(r, resource) for r in _as_list(statement["Resource"])
    )


def allows(statements: Iterable[Mapping[str, Any]], action: str, resource: str) -> bool:
    """IAM's answer for one identity: an explicit Deny wins, then any Allow; else the implicit deny."""
    matching = [s for s in statements if _applies(s, action, resource)]
    return not any(s["Effect"] == "Deny" for s in matching) and any(s["Effect"] == "Allow" for s in matching)


def refused(requests: Iterable[Request], statements_by_function: Mapping[str, list[dict[str, Any]]]) -> list[Request]:
    """The requests the function's role would refuse (a function with no role refuses everything)."""
    return sorted(
        {r for r in requests if not allows(statements_by_function.get(r.function, []), r.action, r.resource)},
        key=lambda r: (r.function, r.action, r.resource),
    )
