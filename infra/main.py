"""Builds the CDK app: context (cdk.json + overrides), cdk-nag, the hub stack."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER_PYTHON = REPO_ROOT / "layers" / "hub" / "python"
if str(LAYER_PYTHON) not in sys.path:
    sys.path.insert(0, str(LAYER_PYTHON))

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from . import config as hub_config  # noqa: E402
from .stack import WebhookHubStack  # noqa: E402


def cdk_json_context() -> dict[str, Any]:
    path = REPO_ROOT / "cdk.json"
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get("context", {}))


def build_app(
    context: Mapping[str, Any] | None = None,
    outdir: str | os.PathLike | None = None,
    nag: bool = True,
) -> tuple[App, WebhookHubStack]:
    """The app and its one stack. `context` overrides cdk.json; the CDK CLI's context wins over both."""
    ctx = cdk_json_context()
    ctx.update(context or {})
    if outdir is None:
        outdir = os.environ.get("CDK_OUTDIR") or str(REPO_ROOT / "cdk.out")
    app = App(context=ctx, outdir=str(outdir))
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    cfg = hub_config.load(app.node.try_get_context)
    env = None
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    if account and region:
        env = Environment(account=account, region=region)
    stack = WebhookHubStack(app, cfg.stack_name, config=cfg, env=env)
    return app, stack
