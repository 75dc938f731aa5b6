"""Connect links and the hosted connect page: create a link (tenant key), serve the page, its assets and
the token-scoped status the page polls when the push channel is unavailable."""

from __future__ import annotations

from hub.platform import coldstart  # first: the handler loads with the garbage collector off (hub.platform.coldstart)

# isort: split

import html
import re
import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field

from hub.connect import links, watching
from hub.platform import errors, settings
from hub.platform import http as api
from hub.platform.exceptions import HubError, Invalid, NotFound
from hub.platform.observability import logger, make_tracer
from hub.sessions import registry

tracer = make_tracer()
app = api.make_resolver()

STATIC = Path(__file__).parent / "static"
ASSETS = {
    "connect.js": "text/javascript; charset=utf-8",
    "connect.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
PAGE = (STATIC / "connect.html").read_text(encoding="utf-8")
ERROR_PAGE = (STATIC / "error.html").read_text(encoding="utf-8")
_BEARER = re.compile(r"^Bearer\s+(\S+)$", re.IGNORECASE)


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttlSeconds: int | None = Field(
        default=None,
        ge=60,
        le=86400,
        description="Lifetime of the link; default CONNECT_LINK_TTL_S, capped by CONNECT_LINK_MAX_TTL_S",
    )


def _link_answer(token: str, expires_at: int) -> Response:
    return api.success(app, {"url": f"{api.base_url(app)}/connect/{token}", "expiresAt": expires_at})


@app.post("/api/whatsapp/session/<sessionId>/connect-link")
def handle_create_session_link(sessionId: str, request: Annotated[LinkRequest | None, Body()] = None):
    tenant_id = api.tenant(app)
    registry.owned_session(tenant_id, sessionId)
    token, expires_at = links.issue(
        tenant_id, session_id=sessionId, ttl_s=links.lifetime_s(request.ttlSeconds if request else None)
    )
    return _link_answer(token, expires_at)


@app.delete("/api/whatsapp/session/<sessionId>/connect-link")
def handle_revoke_session_links(sessionId: str):
    """Links issued so far stop working; pages open with them are told so (a `link.revoked` push)."""
    revoked_at = int(time.time() * 1000)
    registry.revoke_links(api.tenant(app), sessionId, revoked_at)
    return api.ok({"sessionId": sessionId, "linksRevokedAt": revoked_at})


@app.post("/api/whatsapp/user/<userId>/connect-link")
def handle_create_user_link(userId: str, request: Annotated[LinkRequest | None, Body()] = None):
    tenant_id = api.tenant(app)
    if not 1 <= len(userId) <= 256:
        raise Invalid.field("userId", "1 to 256 characters", "userId is 1 to 256 characters")
    token, expires_at = links.issue(
        tenant_id, user_id=userId, ttl_s=links.lifetime_s(request.ttlSeconds if request else None)
    )
    return _link_answer(token, expires_at)


@app.get("/api/connect/status")
def handle_get_link_status():
    match = _BEARER.match(api.header(app, "authorization") or "")
    link = links.verify(match.group(1) if match else None)
    records = watching.sessions(link)
    response = api.ok(watching.snapshot(link, records, settings.env("CONNECT_WEBSOCKET_URL")))
    response.headers.update(_private_headers())
    return response


def _private_headers() -> dict[str, str]:
    return {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def _page_headers() -> dict[str, str]:
    socket = urlsplit(settings.env("CONNECT_WEBSOCKET_URL"))
    socket_origin = f" {socket.scheme}://{socket.netloc}" if socket.scheme in ("ws", "wss") else ""
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{socket_origin}; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {settings.env('CONNECT_FRAME_ANCESTORS')}"
    )
    return {"Content-Security-Policy": policy, **_private_headers()}


def _html(status: int, body: str) -> Response:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=_page_headers())


@app.get("/connect/<token>")
def handle_get_page(token: str):
    """The page; a link that is forged, expired or revoked gets a page that says so (and the JSON error's status)."""
    try:
        watching.sessions(links.verify(token))
    except HubError as error:
        if not error.code.startswith("LINK_"):
            raise
        return _html(
            errors.status_of(error),
            ERROR_PAGE.replace("{message}", html.escape(error.message)).replace("{code}", error.code),
        )
    return _html(200, PAGE)


@app.get("/connect/static/<asset>")
def handle_get_asset(asset: str):
    content_type = ASSETS.get(asset)
    if content_type is None:
        raise NotFound.of("Asset")
    return Response(
        status_code=200,
        content_type=content_type,
        body=(STATIC / asset).read_text(encoding="utf-8"),
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    return api.resolve(app, event, context)


coldstart.loaded()
