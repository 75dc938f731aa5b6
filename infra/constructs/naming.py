"""Construct ids from catalog names."""

from __future__ import annotations

import re


def pascal(name: str) -> str:
    """`delivery_worker` -> `DeliveryWorker`: each run of letters and digits capitalized, the rest dropped."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part)
