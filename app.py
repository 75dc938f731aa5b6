#!/usr/bin/env python3
"""Synthesizes the WhatsApp webhook hub stack (offline): `python app.py` or `cdk synth`.

Output goes to $CDK_OUTDIR (set by the CDK CLI) or ./cdk.out. Context: see infra/config.py.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "layers" / "hub" / "python"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.config import ConfigError  # noqa: E402
from infra.main import build_app  # noqa: E402

if __name__ == "__main__":
    try:
        app, _stack = build_app()
    except ConfigError as error:  # a bad context value: say which, without a traceback
        sys.exit(f"app.py: bad CDK context: {error}")
    app.synth()
