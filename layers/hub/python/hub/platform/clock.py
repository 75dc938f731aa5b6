"""Timestamps as the API shows them: ISO-8601 UTC with milliseconds and a `Z`."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(datetime.now(UTC))


def now_epoch() -> int:
    """Seconds since the epoch: when a rotated-out secret's overlap has ended (hub.ingest.access,
    hub.tenants.gateway_credentials)."""
    return int(time.time())


def iso_of_epoch(seconds: int) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))
