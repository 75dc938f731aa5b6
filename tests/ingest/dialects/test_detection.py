"""Lazy dialect loading: the detection registry agrees with the dialect modules, and telling a body's
dialect imports that dialect's module only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.ingest.dialects import DIALECT_NAMES, DIALECTS, _claims, worker

LAYER = Path(__file__).resolve().parents[3] / "layers" / "hub" / "python"


@pytest.mark.parametrize("entry", _claims.ORDER, ids=lambda d: d.name)
def test_registry_entry_matches_its_module(entry: _claims.Dialect) -> None:
    module = next(m for m in DIALECTS if m.__name__ == f"hub.ingest.dialects.{entry.module}")
    assert (module.NAME, module.claims) == (entry.name, entry.claims)


def test_dialects_and_names_follow_detection_order() -> None:
    assert tuple(m.NAME for m in DIALECTS) == DIALECT_NAMES


def test_worker_detection_knows_exactly_the_worker_events() -> None:
    assert set(worker.EVENTS) == _claims.WORKER_EVENTS
    assert not _claims.WORKER_UNMAPPED & _claims.WORKER_EVENTS


CHILD = """
import json, sys
sys.path.insert(0, {layer!r})
from hub.ingest import dialects
def loaded():
    return sorted({{m for m in sys.modules if m.startswith("hub.ingest.dialects.")}} - {{"hub.ingest.dialects._claims", "hub.ingest.dialects._common"}})
before = loaded()
event = dialects.normalize({{"event": "session.status", "session": "s", "payload": {{"status": "WORKING"}}}},
                           session_id=None)
print(json.dumps([before, loaded(), event.dialect]))
"""


def test_only_the_claiming_dialect_is_imported() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(layer=str(LAYER))], capture_output=True, text=True, timeout=60, check=True
    )
    before, after, dialect = json.loads(done.stdout)
    assert (before, after, dialect) == ([], ["hub.ingest.dialects.waha"], "waha")
