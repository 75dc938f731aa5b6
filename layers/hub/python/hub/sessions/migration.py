"""Copies the sessions of a release whose session ids were global into this release's Sessions table
(docs/migration.md, "Tenant-scoped session ids").

Run once, while the hub's API is paused, right after the deploy that created the new tables:

    SESSIONS_TABLE=<new> TENANTS_TABLE=<tenants> COUNTERS_TABLE=<counters> \\
        python -m hub.sessions.migration <old Sessions table name>

Each session keeps its id and gets its old id as its receiver handle, so the receiver URLs and the body-carried
session ids its gateway was given keep reaching it. The aggregator counts each copied session as a new one, so the
summaries are deleted first and rebuilt by that count. Running it again copies only what is missing (it then
leaves the summaries alone: they already count what was copied).
"""

from __future__ import annotations

import sys
from itertools import chain

from pydantic import BaseModel

from hub.counters import store as counters
from hub.sessions import store as session_store


class Copied(BaseModel):
    sessions: int
    alreadyThere: int
    summariesDeleted: int


def copy_sessions(old_table: str) -> Copied:
    items = session_store.legacy_items(old_table)
    first = next(items, None)
    fresh = first is not None and session_store.get(first["tenantId"], first["sessionId"]) is None
    deleted = counters.delete_summaries() if fresh else 0
    copied = skipped = 0
    for values in chain([first] if first is not None else [], items):
        if session_store.import_legacy(values):
            copied += 1
        else:
            skipped += 1
    return Copied(sessions=copied, alreadyThere=skipped, summariesDeleted=deleted)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(copy_sessions(argv[0]).model_dump_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
