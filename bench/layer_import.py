"""layer_import_ms: what importing from the Lambda layers costs without bytecode, and boto3's share of it.

Lambda extracts our layers into /opt and our function code into /var/task, read-only: Python cannot write
`__pycache__` there, and the bundles carry none (no CPython 3.13 here to compile them, and 3.11's .pyc are
ignored by 3.13), so every cold start compiles each module it imports. This figure measures that on this
machine's Python 3.11, a proxy for 3.13:

- a fresh copy of what Lambda gets (the locked distributions' files, copied from the test virtualenv by
  their RECORD; the domain package `hub`; the function folders), outside the virtualenv;
- `no_bytecode`: the copy has no `__pycache__` and the child runs `python -S -B` (no site-packages, writes
  no bytecode, as in Lambda): every import compiles from source;
- `bytecode`: the same copy after `compileall`, same flags: imports read the .pyc;
- each sample a fresh interpreter, `time.perf_counter()` around the import only, modes interleaved,
  median of RUNS (and the fastest sample, `*_min`); Lambda-like environment as in cold_import.

Targets: `boto3` (what bundling the SDK in our layer costs over a runtime-provided SDK, if the runtime's
copy has bytecode: not verified) and each function's handler (what shipping without bytecode costs).
`layer_mb` sizes: the whole dependency layer and the part of it only the SDK needs (installed files, no
bytecode). `layer_import_load_average` is the machine's 1-minute load average when the figure finished: on a
shared machine the absolute times grow with it; `compile_share` ((no_bytecode - bytecode) / no_bytecode) is
the figure to read, and `*_min` (the fastest sample of each mode, the least disturbed by other processes) is
the steadier one on a busy machine.
"""

from __future__ import annotations

import compileall
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench import harness as h
from bench.cold_import import _python, lambda_environment

NAME = "layer_import"
RUNS = 7
SDK_ONLY = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six")
"""Distributions in the lock that only boto3 needs (urllib3 is shared with requests)."""

CHILD = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
importlib.import_module({module!r})
print(json.dumps((time.perf_counter() - started) * 1000))
"""


def copy_layers(dest: Path) -> dict[str, int]:
    """Copy the locked distributions (site/), the domain package and the functions under `dest`.

    Returns bytes per distribution (files as installed, bytecode excluded)."""
    from infra import lock

    site = dest / "site"
    sizes: dict[str, int] = {}
    for name in lock.read_lock():
        dist = importlib.metadata.distribution(name)
        total = 0
        for file in dist.files or ():
            if "__pycache__" in file.parts or file.suffix == ".pyc" or ".." in file.parts:
                continue
            source = Path(dist.locate_file(file))
            if source.is_file():
                target = site / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                total += source.stat().st_size
        sizes[lock.canonical(name)] = total
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
    shutil.copytree(Path(h.LAYER) / "hub", dest / "layer" / "hub", ignore=ignore)
    shutil.copytree(Path(h.ROOT) / "functions", dest / "task" / "functions", ignore=ignore)
    return sizes


def _sample(tree: Path, module: str, env: dict[str, str]) -> float:
    code = CHILD.format(paths=[str(tree / "task"), str(tree / "layer"), str(tree / "site")], module=module)
    done = subprocess.run(
        [_python(), "-S", "-B", "-c", code], env=env, cwd=tree, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(runs: int = RUNS) -> dict[str, Any]:
    from hub.platform import catalog

    targets = {"boto3": ("boto3", "receiver")}
    targets |= {f.name: (f.module, f.name) for f in catalog.FUNCTIONS}
    envs = {name: lambda_environment(fn, catalog.function(fn).memory_mb) for name, (_, fn) in targets.items()}
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with tempfile.TemporaryDirectory(prefix="hub-layer-import-") as tmp:
        plain, compiled = Path(tmp) / "plain", Path(tmp) / "compiled"
        sizes = copy_layers(plain)
        shutil.copytree(plain, compiled)
        if not compileall.compile_dir(str(compiled), quiet=1, workers=1):
            raise RuntimeError("compileall failed on the layer copy")
        for _ in range(runs):
            for name, (module, _fn) in targets.items():
                samples[name]["no_bytecode"].append(_sample(plain, module, envs[name]))
                samples[name]["bytecode"].append(_sample(compiled, module, envs[name]))
    out: dict[str, Any] = {}
    for name, modes in samples.items():
        no_pyc, pyc = h.median(modes["no_bytecode"]), h.median(modes["bytecode"])
        fastest_no_pyc, fastest_pyc = min(modes["no_bytecode"]), min(modes["bytecode"])
        out[name] = {
            "no_bytecode": h.rounded(no_pyc, 1),
            "bytecode": h.rounded(pyc, 1),
            "compile_share": h.rounded((no_pyc - pyc) / no_pyc, 3),
            "no_bytecode_min": h.rounded(fastest_no_pyc, 1),
            "bytecode_min": h.rounded(fastest_pyc, 1),
            "compile_share_min": h.rounded((fastest_no_pyc - fastest_pyc) / fastest_no_pyc, 3),
        }
    total = sum(sizes.values())
    sdk = sum(sizes.get(n, 0) for n in SDK_ONLY)
    return {"ms": out, "layer_mb": {"dependencies": h.rounded(total / 1e6, 1), "sdk_only": h.rounded(sdk / 1e6, 1)}}


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(f"layer_import_ms (fresh copy of the layers, python -S -B, no bytecode vs compiled, median of {RUNS})")
    measured = measure()
    for name, figures in measured["ms"].items():
        print(
            f"  {name:<20} no bytecode {figures['no_bytecode']:>8.1f} ms   bytecode {figures['bytecode']:>8.1f} ms"
            f"   compiling {figures['compile_share']:>6.1%}   (fastest samples: {figures['compile_share_min']:.1%})"
        )
    sizes = measured["layer_mb"]
    print(f"  dependency layer {sizes['dependencies']} MB unpacked, of which SDK only {sizes['sdk_only']} MB")
    load = h.rounded(os.getloadavg()[0], 1)
    print(
        f"  (1-minute load average at the end: {load} on {os.cpu_count()} CPUs: absolute times scale with it, the"
        " compile share much less)"
    )
    return {"layer_import_ms": measured["ms"], "layer_mb": sizes, "layer_import_load_average": load}, []
