"""A subscriber to try the hub with: prints each delivery and verifies both of its signatures.

    python -m local.subscriber --secret whsec_… [--port 9000]

Answers 204 to a delivery whose Standard Webhooks signature (`standardwebhooks`) and hex HMAC
(`X-Webhook-Signature`) both verify, 401 to any other (the hub then retries it).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verify(secret: str, body: bytes, headers: dict[str, str]) -> str | None:
    """None when both signatures hold, else why not."""
    try:
        Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
    except WebhookVerificationError as error:
        return f"webhook-signature: {error}"
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get("X-Webhook-Signature", "")):
        return "X-Webhook-Signature does not match"
    return None


def serve(secret: str, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server (not yet serving) that verifies and prints what is posted to it."""

    class Subscriber(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            problem = verify(secret, body, dict(self.headers.items()))
            verdict = f"REFUSED ({problem})" if problem else "verified"
            line = f"{self.headers.get('X-Webhook-Event')} {verdict}: {body.decode(errors='replace')}\n"
            sys.stdout.write(line)  # one write: concurrent deliveries never interleave within a line
            sys.stdout.flush()
            self.send_response(401 if problem else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return ThreadingHTTPServer((host, port), Subscriber)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.subscriber", description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret", required=True, help="the subscription's secret (whsec_…)")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    server = serve(args.secret, args.port)
    print(f"subscriber listening on http://127.0.0.1:{server.server_address[1]}/hook", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
