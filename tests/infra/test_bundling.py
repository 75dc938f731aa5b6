"""The real dependency layer, bundled locally with pip (no Docker), and what the assets carry.

Needs PyPI. The output directory is kept between runs (CDK reuses a bundle whose
custom hash, over requirements.txt and the target platform, is already staged), so
only the first run pays for pip. Override the cache location with HUB_INFRA_CACHE.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from infra import bundling
from infra.main import build_app

from .helpers import of_type

CACHE = Path(os.environ.get("HUB_INFRA_CACHE") or Path(tempfile.gettempdir()) / "wa-webhook-hub-infra-cache")
DEV_PACKAGES = ("aws_cdk", "moto", "pytest", "_pytest", "jsii", "cdk_nag", "cfnlint", "hypothesis", "constructs", "requests")
ELF_AARCH64 = 183


@pytest.fixture(scope="module")
def bundled(functions_root):
    outdir = CACHE / "cdk.out"
    outdir.mkdir(parents=True, exist_ok=True)
    app, stack = build_app({"functionsRoot": str(functions_root)}, outdir=outdir, nag=False)
    app.synth()
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    manifest = json.loads((outdir / f"{stack.stack_name}.assets.json").read_text())
    paths = {h: outdir / f["source"]["path"] for h, f in manifest["files"].items()
             if f["source"].get("packaging") == "zip"}

    def asset_of(construct) -> Path:
        props = template["Resources"][stack.get_logical_id(construct.node.default_child)]["Properties"]
        key = (props.get("Content") or props.get("Code"))["S3Key"]
        return paths[key.removesuffix(".zip")]

    return stack, template, paths, asset_of


@pytest.mark.bundling
def test_dependency_layer_holds_linux_arm64_cp313_wheels(bundled):
    stack, _template, _paths, asset_of = bundled
    layer = asset_of(stack.functions.dependency_layer)
    site = layer / "python"
    assert (site / "pydantic_core" / "_pydantic_core.cpython-313-aarch64-linux-gnu.so").is_file()
    for pkg in ("pydantic", "pynamodb", "urllib3", "certifi", "idna", "qrcode", "png.py"):
        assert (site / pkg).exists(), pkg
    # Provided by the Lambda runtime / the AWS-managed Powertools layer: not shipped.
    for pkg in ("boto3", "botocore", "s3transfer", "aws_lambda_powertools"):
        assert not (site / pkg).exists(), pkg
    shared = list(site.rglob("*.so"))
    assert shared
    for so in shared:
        header = so.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == ELF_AARCH64, so
        assert "x86_64" not in so.name and ("cpython-313" in so.name or "abi3" in so.name or ".cpython" not in so.name)


@pytest.mark.bundling
def test_domain_layer_is_the_hub_package(bundled):
    stack, _template, _paths, asset_of = bundled
    layer = asset_of(stack.functions.domain_layer)
    assert (layer / "python" / "hub" / "catalog.py").is_file()
    assert not list(layer.rglob("__pycache__"))


@pytest.mark.bundling
def test_no_test_or_dev_packages_in_any_asset(bundled):
    stack, template, paths, asset_of = bundled
    lambda_assets = {asset_of(f.function) for f in stack.functions.by_name.values()}
    lambda_assets |= {asset_of(stack.functions.dependency_layer), asset_of(stack.functions.domain_layer)}
    for asset in lambda_assets:
        names = {p.name for p in asset.rglob("*")}
        for dev in DEV_PACKAGES:
            assert dev not in names and not any(n.startswith(f"{dev}-") and n.endswith(".dist-info")
                                                for n in names), (asset, dev)
        assert "tests" not in names and "conftest.py" not in names, asset
    assert len(of_type(template["Resources"], "AWS::Lambda::LayerVersion")) == 2


def test_requirements_filter_and_closure():
    lines = ["aws-lambda-powertools[tracer]==3.37.0", "boto3==1.44.5", "pynamodb==6.1.0", "", "# c",
             "Requests==2.34.2  # http"]
    assert bundling.filter_requirements(lines) == ["pynamodb==6.1.0", "Requests==2.34.2"]
    report = {"install": [
        {"requested": True, "metadata": {"name": "PynamoDB", "version": "6.1.0",
                                         "requires_dist": ["botocore>=1.12.54", "typing-extensions>=4; python_version<'3.11'"]}},
        {"requested": False, "metadata": {"name": "botocore", "version": "1.44.5",
                                          "requires_dist": ["jmespath<2", "urllib3!=2.2.0"]}},
        {"requested": False, "metadata": {"name": "jmespath", "version": "1.1.0"}},
        {"requested": False, "metadata": {"name": "typing_extensions", "version": "4.16.0"}},
        {"requested": True, "metadata": {"name": "requests", "version": "2.34.2", "requires_dist": ["urllib3<3"]}},
        {"requested": False, "metadata": {"name": "urllib3", "version": "2.8.0"}},
    ]}
    assert bundling.closure_without(report, bundling.EXCLUDED) == [
        ("pynamodb", "6.1.0"), ("requests", "2.34.2"), ("typing-extensions", "4.16.0"), ("urllib3", "2.8.0"),
    ]
    with pytest.raises(ValueError):
        bundling.filter_requirements(["-e ."])
