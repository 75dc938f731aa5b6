"""The import contract (pyproject.toml, checked by `lint-imports` in `make lint`) covers every function
of the catalog, and each of its contracts fails when a new breach is added."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from hub.platform import catalog

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("layers/hub/python/hub", "functions", "infra", "local", "tests", "bench")

# One new import per contract: (file, the line added, the contract it breaks, the import reported).
BREACHES = (
    (
        "layers/hub/python/hub/sessions/views.py",
        "import local.resources",
        "The runtime never imports",
        "hub.sessions.views -> local.resources",
    ),
    (
        "functions/webhooks/handler.py",
        "from hub.tenants import store",
        "Handlers reach stores only",
        "functions.webhooks.handler -> hub.tenants.store",
    ),
    (
        "layers/hub/python/hub/sessions/views.py",
        "import boto3",
        "Only the stores and the queue import the AWS SDK",
        "hub.sessions.views -> boto3",
    ),
    (
        "layers/hub/python/hub/connect/watching.py",
        "import hub.platform.http",
        "Logic never imports the HTTP plumbing",
        "hub.connect.watching -> hub.platform.http",
    ),
    (
        "infra/stack.py",
        "import hub.sessions.registry",
        "The stack imports from the runtime only",
        "infra.stack -> hub.sessions.registry",
    ),
)


def test_every_function_of_the_catalog_is_a_root_package():
    declared = {package for package in CONFIG["root_packages"] if package.startswith("functions.")}
    assert declared == {spec.module.rsplit(".", 1)[0] for spec in catalog.FUNCTIONS}


def test_no_contract_tolerates_a_breach():
    """The only ignored imports are the stack's, by design: the catalog and the settings."""
    ignored = {contract["name"]: contract.get("ignore_imports", []) for contract in CONFIG["contracts"]}
    assert {name for name, imports in ignored.items() if imports} == {
        "The stack imports from the runtime only the catalog and the settings"
    }
    targets = {line.split(" -> ")[1] for imports in ignored.values() for line in imports}
    assert targets == {"hub.platform.catalog", "hub.platform.settings"}


def _python_sources_only(directory: str, names: list[str]) -> list[str]:
    return [
        n for n in names if n == "__pycache__" or not (n.endswith(".py") or os.path.isdir(os.path.join(directory, n)))
    ]


def test_each_contract_fails_on_a_new_breach(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=_python_sources_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for path, line, _, _ in BREACHES:
        with (tmp_path / path).open("a") as source:
            source.write(f"\n{line}  # a breach added by the test\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{tmp_path / 'layers/hub/python'}"}
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert len(broken) == len(BREACHES), result.stdout
    for _, _, contract, reported in BREACHES:
        assert any(line.startswith(contract) for line in broken), (contract, result.stdout)
        assert reported in result.stdout, (reported, result.stdout)
