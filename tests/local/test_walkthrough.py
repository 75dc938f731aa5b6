"""The README's walk-through (docs/walkthrough.sh) runs top to bottom against a local hub, and the README shows it as it is."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from local.hub import LocalHub

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "walkthrough.sh"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_readme_shows_the_script_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Walk-through with curl", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    steps = SCRIPT.read_text().split("set -euo pipefail\n", 1)[1]
    assert steps in blocks


@pytest.mark.skipif(
    not shutil.which("curl") or not shutil.which("openssl"), reason="the walk-through needs curl and openssl"
)
def test_the_walkthrough_runs_top_to_bottom() -> None:
    with LocalHub(
        port=0, admin_key="adm_walkthrough_operator_key", dev_api_key="wak_walkthrough_dev_key_0123456789"
    ) as hub:
        env = {
            **os.environ,
            "B": hub.base_url,
            "ADMIN_API_KEY": hub.admin_key,
            "LOCAL_API_KEY": hub.dev_api_key,
            "SUB_PORT": str(free_port()),
            "PY": sys.executable,
        }
        run = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.rstrip().endswith("walk-through done")
    printed = [line for line in run.stdout.splitlines() if " verified: " in line or "REFUSED" in line]
    verified = {line.split()[0] for line in printed if " verified: " in line}
    assert {"session.qr", "session.status", "message.received", "webhook.test"} <= verified, "\n".join(printed)
    assert "REFUSED" not in run.stdout
    assert "42" in run.stdout.splitlines()  # the verification handshake answered the challenge
