"""Session fixtures: the stack is synthesized once (no bundling), plus one variant.

The function folders may not all exist yet: the functions root is a tmp copy of the
real folders, with an empty placeholder for each missing one (nothing is created in
the repository).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
for p in (REPO_ROOT, REPO_ROOT / "layers" / "hub" / "python"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import assertions  # noqa: E402

from hub.platform import catalog  # noqa: E402
from infra.main import build_app  # noqa: E402

NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


@dataclass
class Synth:
    app: object
    stack: object
    outdir: Path
    template: assertions.Template
    template_path: Path
    error: Exception | None

    @property
    def json(self) -> dict:
        return self.template.to_json()

    @property
    def resources(self) -> dict:
        return self.json["Resources"]

    def logical_id(self, construct) -> str:
        cfn = getattr(construct.node, "default_child", None) or construct
        return self.stack.get_logical_id(cfn)

    def validation_report(self) -> dict:
        return json.loads((self.outdir / "validation-report.json").read_text())


def make_functions_root(dest: Path) -> Path:
    """Real function folders copied, missing ones as empty placeholders, all under `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for spec in catalog.FUNCTIONS:
        real = REPO_ROOT / "functions" / spec.name
        target = dest / spec.name
        if real.is_dir():
            shutil.copytree(real, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
        else:
            target.mkdir(exist_ok=True)
    return dest


def synth(outdir: Path, context: dict, nag: bool = True) -> Synth:
    app, stack = build_app(context=context, outdir=outdir, nag=nag)
    error = None
    try:
        app.synth()
    except Exception as exc:  # nag findings raise ValidationFailed; the template is still written
        error = exc
    path = outdir / f"{stack.stack_name}.template.json"
    template = assertions.Template.from_json(json.loads(path.read_text()))
    return Synth(app=app, stack=stack, outdir=outdir, template=template, template_path=path, error=error)


@pytest.fixture(scope="session")
def functions_root(tmp_path_factory) -> Path:
    return make_functions_root(tmp_path_factory.mktemp("functions"))


@pytest.fixture(scope="session")
def hub(tmp_path_factory, functions_root) -> Synth:
    """The default (prod) stack, with cdk-nag."""
    return synth(tmp_path_factory.mktemp("cdk.out"), {**NO_BUNDLING, "functionsRoot": str(functions_root)})


@pytest.fixture(scope="session")
def hub_dev(tmp_path_factory, functions_root) -> Synth:
    """A dev stage with an alarm e-mail and context overrides, with cdk-nag."""
    return synth(
        tmp_path_factory.mktemp("cdk.out-dev"),
        {
            **NO_BUNDLING,
            "functionsRoot": str(functions_root),
            "stage": "dev",
            "alarmEmail": "ops@example.com",
            "logRetentionDays": "14",
            "settings": '{"WEBHOOK_RETRY_ATTEMPTS": "5"}',
            "WEBHOOK_RETRY_DELAY": "60000",
            "reserveConcurrency": "false",
            "plans": json.dumps(
                {
                    "default": {"rateLimit": 1, "burstLimit": 2, "quotaPerMonth": 1000},
                    "enterprise": {"rateLimit": 500, "burstLimit": 1000, "quotaPerMonth": 90000000},
                }
            ),
        },
    )
