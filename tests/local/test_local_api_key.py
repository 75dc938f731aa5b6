"""A LOCAL_API_KEY that cannot work stops the local hub with a clear error instead of a hub without a dev tenant."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from local.hub import LocalHub, LocalHubError, check_dev_api_key
from tests.local.test_walkthrough import ROOT, free_port


@pytest.mark.parametrize("key", ["k" * 20, "wak_" + "0123456789abcdef", "x" * 128, "a!~" * 7])
def test_keys_that_work(key: str) -> None:
    assert check_dev_api_key(key) == key


@pytest.mark.parametrize(
    "key, reason",
    [
        ("k" * 19, "at least 20 characters (it has 19)"),
        ("x" * 129, "at most 128 characters (it has 129)"),
        ("wak local dev key 0123456789", "visible ASCII characters, no spaces"),
        ("wak_clé_locale_0123456789", "visible ASCII characters, no spaces"),
    ],
)
def test_keys_that_cannot_work(key: str, reason: str) -> None:
    with pytest.raises(LocalHubError, match=re.escape(reason)):
        LocalHub(port=0, dev_api_key=key)


def test_python_m_local_stops_with_the_rule_and_a_non_zero_status() -> None:
    env = {**os.environ, "LOCAL_API_KEY": "short_key", "PORT": str(free_port())}
    run = subprocess.run([sys.executable, "-m", "local"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "LOCAL_API_KEY cannot work: String should have at least 20 characters (it has 9)" in run.stderr
    assert "is ready" not in run.stdout


def test_a_dev_tenant_the_admin_route_refuses_stops_the_hub() -> None:
    def admin(event: dict, context: Any) -> dict:
        return {"statusCode": 400, "body": json.dumps({"success": False, "error": {"code": "VALIDATION_ERROR"}})}

    hub = LocalHub(port=0, resolver=lambda name: admin, dev_api_key="wak_local_dev_key_0123456789")
    with pytest.raises(LocalHubError, match=r"could not create the dev tenant: 400 .*VALIDATION_ERROR"):
        hub.start()
    assert hub.sockets is None and hub.gateway is not None  # start() stopped what it had started
