"""The dependency layer, built locally with pip (no Docker).

`pip install --platform manylinux2014_aarch64 --implementation cp --python-version 3.13
--only-binary=:all:` fetches the Linux/arm64 CPython 3.13 wheels from any host. What the
Lambda runtime (boto3, botocore and their own dependencies) and the AWS-managed
Powertools layer (aws-lambda-powertools) already provide is left out: the requirements
are resolved once (`pip install --dry-run --report`), the excluded packages and whatever
only they need are dropped, and the rest is installed with `--no-deps`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterable

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.13"
IMPLEMENTATION = "cp"

EXCLUDED = frozenset({
    "aws-lambda-powertools",  # the AWS-managed Powertools layer
    "boto3",  # the Lambda Python runtime
    "botocore",
})
"""Packages never shipped in the layer (canonical names)."""

BUNDLING_VERSION = "2"
"""Bump to force a rebuild when the bundling logic changes."""

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    """The project name of a requirements line, or None for blanks, comments and options."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    m = _NAME_RE.match(line)
    return canonical(m.group(1)) if m else None


def filter_requirements(lines: Iterable[str], excluded: Iterable[str] = EXCLUDED) -> list[str]:
    """Requirement lines minus the excluded projects (options such as -r are refused)."""
    drop = {canonical(e) for e in excluded}
    kept = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            raise ValueError(f"unsupported requirements option for the Lambda layer: {line!r}")
        if requirement_name(line) not in drop:
            kept.append(line)
    return kept


def _requires(dist: str) -> str | None:
    """Project name of one `Requires-Dist` entry."""
    m = _NAME_RE.match(dist)
    return canonical(m.group(1)) if m else None


def closure_without(report: dict, excluded: Iterable[str]) -> list[tuple[str, str]]:
    """(name, version) of what the requested, non-excluded packages need, excluded ones cut out.

    `report` is pip's installation report. Walks Requires-Dist from the requested
    projects, never entering an excluded project, so dependencies only an excluded
    project needs (s3transfer, jmespath, ...) are dropped too. Edges are followed
    regardless of markers, limited to what pip resolved, which errs on the side of
    keeping a package.
    """
    drop = {canonical(e) for e in excluded}
    items = {canonical(i["metadata"]["name"]): i for i in report["install"]}
    todo = [n for n, i in items.items() if i.get("requested") and n not in drop]
    keep: set[str] = set()
    while todo:
        name = todo.pop()
        if name in keep or name in drop or name not in items:
            continue
        keep.add(name)
        for dist in items[name]["metadata"].get("requires_dist") or ():
            dep = _requires(dist)
            if dep and dep not in keep:
                todo.append(dep)
    return sorted((n, items[n]["metadata"]["version"]) for n in keep)


def _pip_platform_args() -> list[str]:
    return [
        "--platform", PLATFORM,
        "--implementation", IMPLEMENTATION,
        "--python-version", PYTHON_VERSION,
        "--only-binary=:all:",
    ]


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def cache_root() -> Path:
    """Where built layers are kept across output directories (HUB_LAYER_CACHE overrides)."""
    if os.environ.get("HUB_LAYER_CACHE"):
        return Path(os.environ["HUB_LAYER_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "wa-webhook-hub" / "layers"


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """Installs requirements into `<output>/python` for Linux arm64 / CPython 3.13.

    A build is kept in `cache_root()/<hash>` (hash of requirements, exclusions and
    platform), so a fresh `cdk.out` is filled without pip, and without network.
    """

    def __init__(self, requirements_file: Path, excluded: Iterable[str] = EXCLUDED,
                 python: str = sys.executable) -> None:
        self.requirements_file = Path(requirements_file)
        self.excluded = frozenset(canonical(e) for e in excluded)
        self.python = python

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options) -> bool:  # noqa: ARG002
        out = Path(output_dir)
        cached = cache_root() / asset_hash(self.requirements_file, self.excluded)
        if not (cached / "python").is_dir():
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                building = Path(tempfile.mkdtemp(prefix=f".{cached.name[:12]}-", dir=cached.parent))
            except OSError:  # no writable cache: build straight into the output
                self.build(out)
                return True
            try:
                self.build(building)
                try:
                    building.rename(cached)
                except OSError:  # another process got there first
                    pass
            finally:
                shutil.rmtree(building, ignore_errors=True)
        shutil.copytree(cached, out, dirs_exist_ok=True)
        return True

    def build(self, out: Path) -> None:
        target = out / "python"
        target.mkdir(parents=True, exist_ok=True)
        kept = filter_requirements(self.requirements_file.read_text().splitlines(), self.excluded)
        with tempfile.TemporaryDirectory(prefix="hub-layer-") as tmp:
            tmp_path = Path(tmp)
            filtered = tmp_path / "requirements.txt"
            filtered.write_text("\n".join(kept) + "\n")
            report_file = tmp_path / "report.json"
            pip = [self.python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
            # (pip < 24 wants --target with platform options even for a dry run)
            _run(pip + ["install", "--dry-run", "--ignore-installed", "--quiet", "--target", str(tmp_path / "dry"),
                        "--report", str(report_file), "-r", str(filtered)] + _pip_platform_args())
            pins = closure_without(json.loads(report_file.read_text()), self.excluded)
            pinned = tmp_path / "pinned.txt"
            pinned.write_text("".join(f"{n}=={v}\n" for n, v in pins))
            _run(pip + ["install", "--no-deps", "--no-compile", "--quiet", "--target", str(target),
                        "-r", str(pinned)] + _pip_platform_args())
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not importable, not on PATH
        for tests in target.glob("*/tests"):  # test suites some wheels ship inside their package (qrcode)
            if tests.is_dir():
                shutil.rmtree(tests)
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache, ignore_errors=True)
        # What went in, for audits and the tests (outside python/, so not importable).
        (out / "layer-requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in pins))


def asset_hash(requirements_file: Path, excluded: Iterable[str] = EXCLUDED) -> str:
    """Content hash of what determines the layer: requirements, exclusions, target platform."""
    h = hashlib.sha256()
    h.update(Path(requirements_file).read_bytes())
    for part in (*sorted(canonical(e) for e in excluded), PLATFORM, IMPLEMENTATION, PYTHON_VERSION,
                 BUNDLING_VERSION):
        h.update(b"\0" + part.encode())
    return h.hexdigest()


def dependency_layer_code(requirements_file: Path) -> lambda_.Code:
    """Lambda code for the dependency layer, bundled locally (Docker image never used).

    The asset's source is the folder holding requirements.txt, but its hash is a
    CUSTOM one over the requirements only, so the (large) folder is never
    fingerprinted and CDK reuses an existing bundle in the output directory.
    """
    requirements_file = Path(requirements_file).resolve()
    return lambda_.Code.from_asset(
        str(requirements_file.parent),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(requirements_file),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused"),
            local=PipLayerBundling(requirements_file),
            command=["false"],
        ),
    )
