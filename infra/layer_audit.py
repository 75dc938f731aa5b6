"""What a built dependency layer holds, checked against the lock, the Lambda platform and the code's imports.

`audit(site, lock, imported)` returns one line per problem (empty: the layer is what Lambda must run):
every locked distribution exactly once at its locked version, nothing else (no dev packages), every
wheel built for CPython 3.13 on Linux arm64 or pure Python, every shared object an aarch64 ELF, and every
distribution the code imports present.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.tags import parse_tag

from .lock import canonical

ELF_MACHINE_AARCH64 = 183
TARGET_INTERPRETER = "cp313"
TARGET_ARCH = "aarch64"


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    tags: tuple[str, ...]
    path: Path


def distributions(site: Path) -> list[Distribution]:
    """The distributions installed in `site` (one per *.dist-info directory)."""
    found = []
    for info in sorted(Path(site).glob("*.dist-info")):
        meta = HeaderParser().parsestr((info / "METADATA").read_text(encoding="utf-8", errors="replace"))
        wheel = info / "WHEEL"
        tags = (HeaderParser().parsestr(wheel.read_text()).get_all("Tag") or []) if wheel.is_file() else []
        found.append(Distribution(canonical(meta["Name"]), meta["Version"], tuple(tags), info))
    return found


def tag_fits_lambda(tag: str) -> bool:
    """A wheel tag Lambda's python3.13 arm64 runtime can load: pure Python, or cp313 / abi3 on manylinux aarch64."""
    for t in parse_tag(tag):
        if t.abi == "none" and t.platform == "any":
            return True
        if not (t.platform.startswith("manylinux") and t.platform.endswith(TARGET_ARCH)):
            continue
        if t.interpreter == TARGET_INTERPRETER:
            return True
        if t.abi == "abi3" and t.interpreter.startswith("cp3") and int(t.interpreter[3:]) <= 13:
            return True
    return False


def _elf_machine(path: Path) -> int | None:
    header = path.read_bytes()[:20]
    return int.from_bytes(header[18:20], "little") if header[:4] == b"\x7fELF" else None


def audit(site: Path, lock: Mapping[str, str], imported: Iterable[str] = ()) -> list[str]:
    """Problems with the layer's `site` directory (its python/ folder); [] when it matches."""
    dists = distributions(site)
    problems = []
    counts = Counter(d.name for d in dists)
    problems += [f"{name}: installed {n} times" for name, n in sorted(counts.items()) if n > 1]
    present = {d.name: d for d in dists}
    for name, version in sorted(lock.items()):
        if name not in present:
            problems.append(f"{name}=={version}: locked but not in the layer")
        elif present[name].version != version:
            problems.append(f"{name}: layer has {present[name].version}, lock says {version}")
    for d in dists:
        if d.name not in lock:
            problems.append(f"{d.name}=={d.version}: in the layer but not in the lock (a dev package?)")
        if not d.tags:
            problems.append(f"{d.name}: no wheel tags (not installed from a wheel)")
        elif not any(tag_fits_lambda(t) for t in d.tags):
            problems.append(f"{d.name}: built for {', '.join(d.tags)}, not {TARGET_INTERPRETER} linux {TARGET_ARCH}")
    for so in sorted(Path(site).rglob("*.so*")):
        if so.is_file() and _elf_machine(so) != ELF_MACHINE_AARCH64:
            problems.append(f"{so.relative_to(site)}: not an aarch64 shared object")
    problems += [
        f"{name}: imported by the code but not in the layer" for name in sorted(set(imported) - present.keys())
    ]
    return problems


def imported_modules(roots: Iterable[Path]) -> set[str]:
    """Top-level modules imported (absolutely) by the .py files under `roots`, tests excluded (stdlib included)."""
    names: set[str] = set()
    for root in roots:
        for path in Path(root).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names


def imported_distributions(roots: Iterable[Path], own: Iterable[str]) -> set[str]:
    """Distributions (canonical names) providing the third-party modules imported under `roots`.

    `own` are the project's own top-level packages (hub, functions). A module no installed
    distribution provides raises LookupError: the test environment itself could not import it.
    """
    providers = importlib.metadata.packages_distributions()
    out = set()
    for module in sorted(imported_modules(roots) - set(sys.stdlib_module_names) - set(own)):
        if module not in providers:
            raise LookupError(f"{module} is imported but no installed distribution provides it")
        out |= {canonical(d) for d in providers[module]}
    return out
