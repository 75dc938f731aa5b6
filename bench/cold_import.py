"""cold_import_ms: the time to import each function's handler module in a fresh interpreter.

Each sample is a new `.venv/bin/python` process with a Lambda-like environment (region, fake credentials,
the function's name and memory, the stack's table/queue settings; POWERTOOLS_TRACE_DISABLED unset, so the
handlers build their tracers as in the cloud). Inside the child, `time.perf_counter()` brackets only the
`import functions.<name>.handler` (interpreter start-up and `site` are not counted). `floor_boto3` is
`import boto3` alone, measured the same way in the same run, interleaved with the handlers.
One warm-up run per module first (bytecode caches written, disk cache warm), then RUNS samples; medians.

When the receiver misses its target, `python -X importtime` of the receiver shows where the time goes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from typing import Any

from bench import harness as h

NAME = "cold_import"
RUNS = 7
TARGET_RATIO = 1.6

CHILD = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
importlib.import_module({module!r})
print(json.dumps((time.perf_counter() - started) * 1000))
"""


def _python() -> str:
    venv = os.path.join(h.ROOT, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def lambda_environment(function_name: str, memory_mb: int) -> dict[str, str]:
    """What Lambda and the stack put in a function's environment (no tracing switch-off)."""
    from hub.platform import catalog, settings
    from local.resources import FAKE_AWS_ENV

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        **FAKE_AWS_ENV,
        "AWS_LAMBDA_FUNCTION_NAME": f"wa-hub-{function_name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        **{s.env_var: s.default for s in settings.SETTINGS if s.default},  # the stack sets these on every function
    }
    env[settings.HUB_FUNCTION] = function_name
    # the function's declared resources (a cloud cold start checks that each is set): plausible names, never used
    for resource in settings.resources(catalog.function(function_name)):
        name = f"wa-hub-{resource.resource_id.lower()}"
        if resource.kind in ("queue", "dead_letter_queue", "failure_queue"):
            suffix = "-dlq" if resource.kind == "dead_letter_queue" else ""
            env[resource.env_var] = f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}{suffix}"
        else:
            env[resource.env_var] = name
    return env


def _targets() -> dict[str, tuple[str, dict[str, str]]]:
    from hub.platform import catalog

    targets = {f.name: (f.module, lambda_environment(f.name, f.memory_mb)) for f in catalog.FUNCTIONS}
    targets["floor_boto3"] = ("boto3", lambda_environment("receiver", catalog.function("receiver").memory_mb))
    return targets


def _sample(module: str, env: dict[str, str]) -> float:
    code = CHILD.format(paths=[h.LAYER, h.ROOT], module=module)
    done = subprocess.run([_python(), "-c", code], env=env, cwd=h.ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(runs: int = RUNS) -> dict[str, float]:
    targets = _targets()
    samples: dict[str, list[float]] = defaultdict(list)
    for module, env in targets.values():
        _sample(module, env)  # warm-up
    for _ in range(runs):
        for name, (module, env) in targets.items():
            samples[name].append(_sample(module, env))
    out = {name: h.rounded(h.median(values), 1) for name, values in samples.items()}
    out["receiver_vs_boto3"] = h.rounded(out["receiver"] / out["floor_boto3"], 3)
    return out


STAIRCASE = (
    "boto3",
    "botocore.config",
    "boto3.dynamodb.types",
    "pydantic",
    "pydantic.main",
    "pydantic.fields",
    "aws_lambda_powertools",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.event_handler",
    "hub.ingest.models",
    "hub.ingest.dialects",
    "hub.ingest.receiving",
    "hub.platform.http",
    "functions.receiver.handler",
)
"""The receiver's imports in dependency order: each step's increment is what it adds to the ones above.

`pydantic` imports lazily: `import pydantic` is the package alone, `pydantic.main` and `pydantic.fields`
the internals that the first model class pulls in. The first model class also loads pydantic's plugins
(it scans every installed distribution's entry points), which lands in the first hub step that defines
a model (`hub.ingest.models`), as does the first full garbage collection in whichever step it happens to fall."""

STAIRCASE_CHILD = """
import gc, importlib, json, sys, time
sys.path[:0] = {paths!r}
collecting = [0.0, 0.0]
def timed(phase, info):
    if phase == "start":
        collecting[1] = time.perf_counter()
    else:
        collecting[0] += (time.perf_counter() - collecting[1]) * 1000
gc.callbacks.append(timed)
steps = []
for module in {modules!r}:
    collected = collecting[0]
    started = time.perf_counter()
    importlib.import_module(module)
    steps.append(((time.perf_counter() - started) * 1000, collecting[0] - collected))
print(json.dumps(steps))
"""


def staircase(env: dict[str, str], runs: int = 5) -> dict[str, tuple[float, float]]:
    """Median increment of each STAIRCASE step, in fresh interpreters, with the part of it spent in
    garbage collection: {module: (ms, gc ms)}."""
    code = STAIRCASE_CHILD.format(paths=[h.LAYER, h.ROOT], modules=list(STAIRCASE))
    samples: list[list[list[float]]] = []
    for _ in range(runs):
        done = subprocess.run([_python(), "-c", code], env=env, cwd=h.ROOT, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"staircase import failed:\n{done.stderr[-2000:]}")
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        module: (h.rounded(h.median(s[i][0] for s in samples), 1), h.rounded(h.median(s[i][1] for s in samples), 1))
        for i, module in enumerate(STAIRCASE)
    }


_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s+)(\S+)\s*$")


def import_profile(module: str, env: dict[str, str], repeats: int = 3) -> dict[str, Any]:
    """`python -X importtime` of `module` (median per entry over `repeats` runs): the heaviest imports by
    cumulative time, and self time summed per top-level package."""
    code = f"import sys; sys.path[:0] = {[h.LAYER, h.ROOT]!r}; import {module}"
    cumulative: dict[str, list[float]] = defaultdict(list)
    depth: dict[str, int] = {}
    by_package: dict[str, list[float]] = defaultdict(list)
    own: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        done = subprocess.run(
            [_python(), "-X", "importtime", "-c", code],
            env=env,
            cwd=h.ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        package_self: dict[str, float] = defaultdict(float)
        for line in done.stderr.splitlines():
            match = _LINE.match(line)
            if not match:
                continue
            self_us, cum_us, indent, name = int(match[1]), int(match[2]), match[3], match[4]
            cumulative[name].append(cum_us / 1000)
            own[name].append(self_us / 1000)
            depth[name] = (len(indent) - 1) // 2
            package_self[name.split(".")[0]] += self_us / 1000
        for package, ms in package_self.items():
            by_package[package].append(ms)
    top = sorted(((h.median(v), n) for n, v in cumulative.items()), reverse=True)
    top_self = sorted(((h.median(v), n) for n, v in own.items()), reverse=True)
    return {
        "top_self_ms": {n: h.rounded(ms, 1) for ms, n in top_self[:15]},
        "top_cumulative_ms": {n: h.rounded(ms, 1) for ms, n in top[:25]},
        "depth": {n: depth[n] for _, n in top[:25]},
        "self_ms_by_package": {
            p: h.rounded(h.median(v), 1) for p, v in sorted(by_package.items(), key=lambda kv: -h.median(kv[1]))[:15]
        },
    }


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(f"cold_import_ms (fresh interpreter per sample, Lambda-like environment, median of {RUNS})")
    measured = measure()
    for name, value in measured.items():
        if name in ("receiver_vs_boto3",):
            continue
        h.show(name, value, "ms")
    ok = measured["receiver_vs_boto3"] <= TARGET_RATIO
    h.show_target("receiver_vs_boto3", measured["receiver_vs_boto3"], f"<= {TARGET_RATIO:g}x floor_boto3", ok, "x")
    out: dict[str, Any] = {"cold_import_ms": measured}
    module, env = _targets()["receiver"]
    profile = import_profile(module, env)
    out["cold_import_receiver_profile"] = {
        k: profile[k] for k in ("top_cumulative_ms", "top_self_ms", "self_ms_by_package")
    }
    steps = staircase(env)
    out["cold_import_receiver_staircase_ms"] = {module: ms for module, (ms, _) in steps.items()}
    out["cold_import_receiver_staircase_gc_ms"] = {module: gc_ms for module, (_, gc_ms) in steps.items()}
    print("  receiver imports step by step (each line: what importing it adds to the lines above, and how much of")
    print("  that is garbage collection; median of 5):")
    for module, (ms, gc_ms) in steps.items():
        print(f"      {ms:>8.1f} ms  (gc {gc_ms:>5.1f})  + {module}")
    print(
        f"      {sum(ms for ms, _ in steps.values()):>8.1f} ms  (gc {sum(g for _, g in steps.values()):>5.1f})  total"
    )
    if not ok:
        print("  receiver import profile (python -X importtime, median of 3):")
    else:
        print("  receiver import profile (python -X importtime, median of 3), for reference:")
    print("    heaviest imports by cumulative time (indent = nesting):")
    for name, ms in profile["top_cumulative_ms"].items():
        print(f"      {ms:>8.1f} ms  {'  ' * profile['depth'][name]}{name}")
    print("    heaviest modules by self time (module body: class and model definitions, etc.):")
    for name, ms in profile["top_self_ms"].items():
        print(f"      {ms:>8.1f} ms  {name}")
    print("    self time by top-level package:")
    for package, ms in profile["self_ms_by_package"].items():
        print(f"      {ms:>8.1f} ms  {package}")
    return out, [
        {
            "name": "cold_import_ms.receiver_vs_boto3",
            "value": measured["receiver_vs_boto3"],
            "limit": TARGET_RATIO,
            "pass": ok,
        }
    ]
