"""The dependency layer, built locally with pip (no Docker), from requirements.lock.

`pip install --no-deps --platform manylinux2014_aarch64 --implementation cp --python-version 3.13
--only-binary=:all: -r requirements.lock` fetches the Linux/arm64 CPython 3.13 wheels of exactly the
locked versions from any host: the same versions `make install` put in the test virtualenv
(infra/lock.py). Everything the functions import ships here, Powertools and boto3/botocore included
(nothing is taken from the runtime or an AWS-managed layer).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from .lock import IMPLEMENTATION, PLATFORM, PYTHON_VERSION, pip_platform_args, read_lock, run_pip

BUNDLING_VERSION = "3"
"""Bump to force a rebuild when the bundling logic changes."""


def cache_root() -> Path:
    """Where built layers are kept across output directories (HUB_LAYER_CACHE overrides)."""
    if os.environ.get("HUB_LAYER_CACHE"):
        return Path(os.environ["HUB_LAYER_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "wa-webhook-hub" / "layers"


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """Installs the lock into `<output>/python` for Linux arm64 / CPython 3.13.

    A build is kept in `cache_root()/<hash>` (hash of the lock and the platform), so a fresh
    `cdk.out` is filled without pip, and without network.
    """

    def __init__(self, lock_file: Path, python: str = sys.executable) -> None:
        self.lock_file = Path(lock_file)
        self.python = python

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options) -> bool:
        out = Path(output_dir)
        cached = cache_root() / asset_hash(self.lock_file)
        if not (cached / "python").is_dir():
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                building = Path(tempfile.mkdtemp(prefix=f".{cached.name[:12]}-", dir=cached.parent))
            except OSError:  # no writable cache: build straight into the output
                self.build(out)
                return True
            try:
                self.build(building)
                with contextlib.suppress(OSError):  # another process got there first
                    building.rename(cached)
            finally:
                shutil.rmtree(building, ignore_errors=True)
        shutil.copytree(cached, out, dirs_exist_ok=True)
        return True

    def build(self, out: Path) -> None:
        target = out / "python"
        target.mkdir(parents=True, exist_ok=True)
        read_lock(self.lock_file)  # refuses anything but name==version lines
        run_pip(
            [
                "install",
                "--no-deps",
                "--no-compile",
                "--quiet",
                "--target",
                str(target),
                "-r",
                str(self.lock_file),
                *pip_platform_args(),
            ],
            python=self.python,
        )
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not importable, not on PATH
        for tests in target.glob("*/tests"):  # test suites some wheels ship inside their package (qrcode)
            if tests.is_dir():
                shutil.rmtree(tests)
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache, ignore_errors=True)


def asset_hash(lock_file: Path) -> str:
    """Content hash of what determines the layer: the lock and the target platform."""
    h = hashlib.sha256()
    h.update(Path(lock_file).read_bytes())
    for part in (PLATFORM, IMPLEMENTATION, PYTHON_VERSION, BUNDLING_VERSION):
        h.update(b"\0" + part.encode())
    return h.hexdigest()


def dependency_layer_code(lock_file: Path) -> lambda_.Code:
    """Lambda code for the dependency layer, bundled locally (Docker image never used).

    The asset's source is the folder holding the lock, but its hash is a CUSTOM one over the
    lock only, so the (large) folder is never fingerprinted and CDK reuses an existing bundle
    in the output directory.
    """
    lock_file = Path(lock_file).resolve()
    return lambda_.Code.from_asset(
        str(lock_file.parent),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(lock_file),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused"),
            local=PipLayerBundling(lock_file),
            command=["false"],
        ),
    )
