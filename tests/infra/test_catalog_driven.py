"""The stack follows the catalog: a function and route added there appear with no infra change."""

from __future__ import annotations

import dataclasses

from aws_cdk import assertions

from hub.platform import catalog
from infra.main import build_app

from .conftest import NO_BUNDLING, make_functions_root
from .helpers import methods_by_route, of_type


def test_new_function_and_route_appear(tmp_path, monkeypatch):
    extra = catalog.Function(
        name="reports",
        description="Monthly reports",
        memory_mb=384,
        timeout_s=20,
        tables=(catalog.COUNTERS.id,),
    )
    route = catalog.Route("GET", "/api/reports/{month}", "reports", "tenant", "A report")
    monkeypatch.setattr(catalog, "FUNCTIONS", catalog.FUNCTIONS + (extra,))
    monkeypatch.setattr(catalog, "ROUTES", catalog.ROUTES + (route,))
    root = make_functions_root(tmp_path / "functions")
    _app, stack = build_app({**NO_BUNDLING, "functionsRoot": str(root)}, outdir=tmp_path / "out", nag=False)
    template = assertions.Template.from_stack(stack)
    resources = template.to_json()["Resources"]

    fn = resources[stack.get_logical_id(stack.functions.by_name["reports"].function.node.default_child)]
    assert fn["Properties"]["MemorySize"] == 384
    assert fn["Properties"]["Environment"]["Variables"]["COUNTERS_TABLE"]
    method = methods_by_route(resources)[("GET", "/api/reports/{month}")]
    assert method["ApiKeyRequired"] is True
    assert method["RequestParameters"] == {"method.request.path.month": True}
    assert len(of_type(resources, "AWS::Lambda::Function")) == len(catalog.FUNCTIONS) + 1  # + custom resource
    assert dataclasses.is_dataclass(extra)
