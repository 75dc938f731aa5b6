"""Every handler loads with the garbage collector off and freezes what it loaded (hub.platform.coldstart)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from hub.platform import catalog, settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("function", [f.name for f in catalog.FUNCTIONS])
def test_coldstart_is_the_first_import_and_loaded_the_last_statement(function):
    tree = ast.parse((ROOT / "functions" / function / "handler.py").read_text())
    imports = [
        node
        for node in tree.body
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]
    assert isinstance(imports[0], ast.ImportFrom) and imports[0].module == "hub.platform"
    assert [alias.name for alias in imports[0].names] == ["coldstart"]
    assert ast.unparse(tree.body[-1]) == "coldstart.loaded()"


def test_a_handler_import_runs_no_collection_and_leaves_the_collector_on_with_its_objects_frozen():
    """Counted from `hub.platform.coldstart` on (compiling a handler without bytecode may collect before it runs)."""
    code = (
        "import gc, sys\n"
        "import hub.platform.coldstart\n"
        "collections = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and collections.append(info['generation']))\n"
        "import functions.receiver.handler\n"
        "print(len(collections), gc.isenabled(), gc.get_freeze_count() > 10000)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'hub' / 'python'}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HUB_FUNCTION": "receiver",
        # what the stack gives the receiver: a cloud cold start checks that each is set
        **{r.env_var: r.resource_id.lower() for r in settings.resources(catalog.function("receiver"))},
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True", "True"]
