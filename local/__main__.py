"""`python -m local` (what `make local` runs): the whole hub on 127.0.0.1:${PORT:-3000}.

Environment: PORT, ADMIN_API_KEY (the operator key), LOCAL_API_KEY (the dev tenant's API key),
and every setting of hub/platform/settings.py. Both keys are random when unset. A LOCAL_API_KEY must be
20 to 128 visible ASCII characters, no spaces (what the admin route accepts and an X-API-Key
header carries); any other stops the hub with an error (exit status 2) before it starts.

Everything lives in memory (the embedded AWS): tables, queues and logs are gone at exit.
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

from local.hub import LocalHub, LocalHubError  # noqa: E402 - needs the paths above
from local.logs import RedactSecrets  # noqa: E402


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    port = int(os.environ.get("PORT") or 3000)
    try:
        hub = LocalHub(port=port).start()
    except LocalHubError as e:
        print(f"the local hub cannot start: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"could not start the local hub on port {port}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    key = hub.dev_api_key
    print(
        f"""
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

Everything lives in memory: sessions, tenants and logs are gone when the hub stops. Ctrl-C to stop.""",
        flush=True,
    )
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
