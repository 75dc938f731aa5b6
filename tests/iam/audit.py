"""The IAM audit: the requests the functions made during the suite (tests.iam.requests), checked against
their roles in the synthesized template (tests.iam.policy). Run by the plugin at the end of the session."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from hub.platform import catalog
from local import resources
from tests.iam.policy import SOCKET_API_TOKEN, Request, Template, refused, usage_plan_token

REPO_ROOT = Path(__file__).resolve().parents[2]
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}
"""The policies do not depend on the layers' contents: no pip run."""


def _logical_id(stack: Any, construct: Any) -> str:
    return stack.get_logical_id(getattr(construct.node, "default_child", None) or construct)


def local_names(stack: Any) -> dict[str, str]:
    """Logical id -> the name the local hub gives the resource, for every catalog table and queue, and a
    token naming each usage plan by its plan name (its id is whatever the embedded AWS made up)."""
    names = {_logical_id(stack, stack.tables.by_id[t.id]): resources.local_table_name(t) for t in catalog.TABLES}
    for queue in catalog.QUEUES:
        built = stack.queues.by_id[queue.id]
        name, dlq_name = resources.local_queue_names(queue)
        names[_logical_id(stack, built.queue)] = name
        names[_logical_id(stack, built.dlq)] = dlq_name
    for failures in catalog.FAILURE_QUEUES:
        names[_logical_id(stack, stack.queues.failures_by_id[failures.id])] = resources.local_failure_queue_name(
            failures
        )
    names[_logical_id(stack, stack.admin_key)] = resources.ADMIN_KEY_SECRET_NAME
    names[_logical_id(stack, stack.sockets.api)] = SOCKET_API_TOKEN
    for plan_name, plan in stack.api.usage_plans.items():
        names[_logical_id(stack, plan)] = usage_plan_token(plan_name)
    return names


def role_statements() -> dict[str, list[dict[str, Any]]]:
    """Catalog function name -> the statements of its role, resolved, from a synth of the stack
    built from the catalog as it is now (one synth per catalog)."""
    return _role_statements(catalog.FUNCTIONS, catalog.TABLES, catalog.QUEUES, catalog.FAILURE_QUEUES, catalog.ROUTES)


@lru_cache(maxsize=2)
def _role_statements(*declaration: Any) -> dict[str, list[dict[str, Any]]]:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.main import build_app

    with tempfile.TemporaryDirectory(prefix="iam-audit-") as outdir:
        app, stack = build_app(context={**NO_BUNDLING}, outdir=Path(outdir), nag=False)
        app.synth()
        template_json = json.loads((Path(outdir) / f"{stack.stack_name}.template.json").read_text())
    template = Template(template_json, local_names(stack))
    return {
        spec.name: template.role_statements(_logical_id(stack, stack.functions.by_name[spec.name].role))
        for spec in catalog.FUNCTIONS
    }


def audit(requests: Iterable[Request]) -> list[Request]:
    """The requests their function's role would refuse."""
    return refused(requests, role_statements())


def report(denied: list[Request], where: dict[Request, str]) -> list[str]:
    return [f"{r.function}: {r.action} on {r.resource}  (first made in {where.get(r, '?')})" for r in denied]
