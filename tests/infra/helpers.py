"""Template helpers for the infra tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hub.platform import catalog


def of_type(resources: dict, cfn_type: str) -> dict[str, dict]:
    return {k: r for k, r in resources.items() if r["Type"] == cfn_type}


def hub_functions(synth) -> dict[str, dict]:
    """catalog function name -> its AWS::Lambda::Function resource."""
    out = {}
    for spec in catalog.FUNCTIONS:
        logical = synth.logical_id(synth.stack.functions.by_name[spec.name].function)
        out[spec.name] = synth.resources[logical]
    return out


def resource_paths(resources: dict) -> dict[str, str]:
    """AWS::ApiGateway::Resource logical id -> full path ('/api/health')."""
    res = of_type(resources, "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(lid: str) -> str:
        if lid not in paths:
            props = res[lid]["Properties"]
            parent = props["ParentId"]
            prefix = path_of(parent["Ref"]) if isinstance(parent, dict) and "Ref" in parent else ""
            paths[lid] = f"{prefix}/{props['PathPart']}"
        return paths[lid]

    for lid in res:
        path_of(lid)
    return paths


def methods_by_route(resources: dict) -> dict[tuple[str, str], dict]:
    paths = resource_paths(resources)
    out = {}
    for m in of_type(resources, "AWS::ApiGateway::Method").values():
        props = m["Properties"]
        rid = props["ResourceId"]
        path = paths[rid["Ref"]] if "Ref" in rid else "/"
        out[(props["HttpMethod"], path)] = props
    return out


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def refs_in(node: Any) -> set[str]:
    """Logical ids referenced (Ref / Fn::GetAtt) anywhere under node."""
    out = set()
    for n in walk(node):
        if isinstance(n, dict):
            if "Ref" in n and isinstance(n["Ref"], str):
                out.add(n["Ref"])
            if "Fn::GetAtt" in n:
                out.add(n["Fn::GetAtt"][0])
    return out


def as_list(x: Any) -> list:
    return x if isinstance(x, list) else [x]


def policy_statements_of_role(resources: dict, role_logical_id: str) -> list[dict]:
    stmts = []
    for p in of_type(resources, "AWS::IAM::Policy").values():
        roles = p["Properties"].get("Roles", [])
        if {"Ref": role_logical_id} in roles:
            stmts.extend(p["Properties"]["PolicyDocument"]["Statement"])
    return stmts


def dumps(node: Any) -> str:
    return json.dumps(node, sort_keys=True)
