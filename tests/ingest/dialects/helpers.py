"""Shared helpers for the dialect tests: fixtures are read from tests/fixtures only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DIALECT_FIXTURES = FIXTURES / "dialects"
SEED_FIXTURES = FIXTURES / "seeds"


def fixture_files() -> list[str]:
    """Every JSON fixture (gateway samples and specification examples), as paths relative to tests/fixtures."""
    files = sorted(DIALECT_FIXTURES.glob("*/*.json")) + sorted(SEED_FIXTURES.glob("*.json"))
    return [str(p.relative_to(FIXTURES)) for p in files]


def load(rel: str) -> Any:
    return json.loads((FIXTURES / rel).read_text(encoding="utf-8"))


def raw(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()
