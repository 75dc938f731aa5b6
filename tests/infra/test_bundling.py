"""The real dependency layer, bundled locally with pip (no Docker), and what the assets carry.

Needs PyPI. The output directory is kept between runs (CDK reuses a bundle whose
custom hash, over requirements.lock and the target platform, is already staged), so
only the first run pays for pip. Override the cache location with HUB_INFRA_CACHE.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from infra import layer_audit, lock
from infra.main import build_app

from .conftest import REPO_ROOT
from .helpers import of_type

CACHE = Path(os.environ.get("HUB_INFRA_CACHE") or Path(tempfile.gettempdir()) / "wa-webhook-hub-infra-cache")
DEV_PACKAGES = (
    "aws_cdk",
    "moto",
    "pytest",
    "_pytest",
    "jsii",
    "cdk_nag",
    "cfnlint",
    "hypothesis",
    "constructs",
    "requests",
)


@pytest.fixture(scope="module")
def bundled(functions_root):
    outdir = CACHE / "cdk.out"
    outdir.mkdir(parents=True, exist_ok=True)
    app, stack = build_app({"functionsRoot": str(functions_root)}, outdir=outdir, nag=False)
    app.synth()
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    manifest = json.loads((outdir / f"{stack.stack_name}.assets.json").read_text())
    paths = {
        h: outdir / f["source"]["path"] for h, f in manifest["files"].items() if f["source"].get("packaging") == "zip"
    }

    def asset_of(construct) -> Path:
        props = template["Resources"][stack.get_logical_id(construct.node.default_child)]["Properties"]
        key = (props.get("Content") or props.get("Code"))["S3Key"]
        return paths[key.removesuffix(".zip")]

    return stack, template, paths, asset_of


@pytest.mark.bundling
def test_dependency_layer_is_exactly_the_lock_for_lambda(bundled):
    """Every distribution the functions import, once, at the locked version, built for cp313 aarch64 (or
    pure), and nothing else: the audit's checks are proven able to fail in test_layer_audit.py."""
    stack, _template, _paths, asset_of = bundled
    site = asset_of(stack.functions.dependency_layer) / "python"
    imported = layer_audit.imported_distributions(
        [REPO_ROOT / "functions", REPO_ROOT / "layers" / "hub" / "python"], own=("hub", "functions")
    )
    assert {"aws-lambda-powertools", "boto3", "botocore", "pydantic"} <= imported
    assert layer_audit.audit(site, lock.read_lock(), imported) == []
    assert (site / "pydantic_core" / "_pydantic_core.cpython-313-aarch64-linux-gnu.so").is_file()


@pytest.mark.bundling
def test_layer_powertools_is_the_pinned_one_and_has_what_the_code_imports(bundled):
    """hub/platform/http.py imports RequestUnsupportedContentType, which Powertools has from 3.25 on only."""
    stack, _template, _paths, asset_of = bundled
    site = asset_of(stack.functions.dependency_layer) / "python"
    shipped = {d.name: d.version for d in layer_audit.distributions(site)}
    assert shipped["aws-lambda-powertools"] == lock.requirement_pins()["aws-lambda-powertools"]
    assert shipped["aws-xray-sdk"] == lock.read_lock()["aws-xray-sdk"]  # the [tracer] extra
    exceptions = (site / "aws_lambda_powertools" / "event_handler" / "openapi" / "exceptions.py").read_text()
    assert "class RequestUnsupportedContentType" in exceptions


@pytest.mark.bundling
def test_domain_layer_is_the_hub_package(bundled):
    stack, _template, _paths, asset_of = bundled
    layer = asset_of(stack.functions.domain_layer)
    assert (layer / "python" / "hub" / "platform" / "catalog.py").is_file()
    assert not list(layer.rglob("__pycache__"))


@pytest.mark.bundling
def test_no_test_or_dev_packages_in_any_asset(bundled):
    stack, template, _paths, asset_of = bundled
    lambda_assets = {asset_of(f.function) for f in stack.functions.by_name.values()}
    lambda_assets |= {asset_of(stack.functions.dependency_layer), asset_of(stack.functions.domain_layer)}
    for asset in lambda_assets:
        names = {p.name for p in asset.rglob("*")}
        site = asset / "python" if (asset / "python").is_dir() else asset
        top_level = {p.name for p in site.iterdir()}  # (botocore vendors a `requests` of its own, deeper down)
        for dev in DEV_PACKAGES:
            assert dev not in top_level and not any(
                n.startswith(f"{dev}-") and n.endswith(".dist-info") for n in top_level
            ), (asset, dev)
        assert "tests" not in names and "conftest.py" not in names, asset
    assert len(of_type(template["Resources"], "AWS::Lambda::LayerVersion")) == 2
