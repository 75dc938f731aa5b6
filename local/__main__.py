"""`python -m local` (what `make local` runs): the whole hub on 127.0.0.1:${PORT:-3000}.

Environment: PORT, ADMIN_API_KEY and LOCAL_API_KEY (random keys when unset), and every
setting of hub/settings.py.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "layers" / "hub" / "python", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from local.hub import LocalHub  # noqa: E402 - needs the paths above


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    hub = LocalHub(port=int(os.environ.get("PORT") or 3000))
    try:
        hub.start()
    except OSError as e:
        print(f"could not start the local hub on port {hub.port}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    key = hub.dev_api_key or "<no dev tenant: see the warning above>"
    print(f"""
WhatsApp webhook hub (local) is ready
  base URL      {hub.base_url}
  admin key     {hub.admin_key}        (header X-Admin-Key)
  dev tenant    {hub.dev_tenant_id}
  dev API key   {key}        (header X-API-Key)
  embedded AWS  {hub.aws_endpoint}
  WebSocket     {hub.sockets.websocket_url if hub.sockets else "-"}        (connect page push)

  curl -s -X POST {hub.base_url}/api/whatsapp/session -H 'X-API-Key: {key}' \\
       -H 'Content-Type: application/json' -d '{{"userId": "me"}}'
  curl -s -X POST {hub.base_url}/api/whatsapp/session/<sessionId>/connect-link -H 'X-API-Key: {key}'
       (open the answer's url in a browser: the connect page)

Ctrl-C to stop.""", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    print("stopping...", file=sys.stderr, flush=True)
    hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
