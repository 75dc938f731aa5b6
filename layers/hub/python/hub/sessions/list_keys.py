"""`python -m hub.sessions.list_keys`: a migration step (docs/migration.md) run once by an operator, with the
deployed Sessions table's name in SESSIONS_TABLE and AWS credentials of the account: gives every session an
earlier release stored the key of the tenant list index, so that the index, once added, lists it."""

from __future__ import annotations

import time

from hub.sessions import store


def main() -> None:
    total, complete = 0, False
    while not complete:
        updated, complete = store.add_list_keys(until=time.monotonic() + 60)
        total += updated
        print(f"sessions given their list key: {total}{'' if complete else ' (carrying on)'}", flush=True)


if __name__ == "__main__":
    main()
