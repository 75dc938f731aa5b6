"""The hub's OpenAPI 3 document, generated from the handlers' own Powertools resolvers.

Each function's resolver describes its routes and pydantic models; this module merges
them, adds the error envelope, the security schemes and the auth of each route from the
catalog. `python -m local.openapi` rewrites docs/openapi.json; the local hub serves the
same document at GET /api/openapi.json.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from hub import PRODUCT, VERSION
from hub.platform import catalog

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
SERVED_AT = "/api/openapi.json"

ERROR_RESPONSES = {
    "400": "VALIDATION_ERROR or INVALID_JSON",
    "401": "UNAUTHORIZED or INVALID_SIGNATURE",
    "403": "FORBIDDEN (verification token)",
    "404": "NOT_FOUND (also another tenant's object)",
    "409": "CONFLICT or LIMIT_REACHED",
    "413": "PAYLOAD_TOO_LARGE",
    "415": "UNSUPPORTED_MEDIA_TYPE",
    "500": "INTERNAL",
    "503": "UNAVAILABLE: retry",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"type": "boolean", "const": False},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}
SUCCESS_SCHEMA = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {"success": {"type": "boolean", "const": True}, "data": {}},
}
SECURITY_SCHEMES = {
    "tenantKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "adminKey": {"type": "apiKey", "in": "header", "name": "X-Admin-Key"},
    "gatewayToken": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "The session's inboundSecret; or sign the body (X-Webhook-Signature, "
        "X-Webhook-Hmac, X-Hub-Signature-256, x-hmac-signature) or send it as X-Api-Key",
    },
}
SECURITY_SCHEMES["linkToken"] = {
    "type": "http",
    "scheme": "bearer",
    "description": "A connect link's token: the last path segment of its url",
}
SECURITY_BY_AUTH = {
    "tenant": [{"tenantKey": []}],
    "admin": [{"adminKey": []}],
    "gateway": [{"gatewayToken": []}],
    "public": [],
    "link": [{"linkToken": []}],
}
LINK_ERRORS = {"401": "LINK_INVALID: forged or malformed link", "410": "LINK_EXPIRED or LINK_REVOKED"}
"""What a route authorized by a connect link answers for a link it refuses (HTML on the page route)."""


def _security(route: catalog.Route) -> list[dict[str, list[str]]]:
    """A link route with the token in its path carries no header credential."""
    return [] if route.auth == "link" and "{token}" in route.path else SECURITY_BY_AUTH[route.auth]


def _operation_responses(route: catalog.Route) -> dict[str, Any]:
    success = str(route.success_status)
    content_types = ("text/plain",) if route.auth == "gateway" and route.method == "GET" else route.content_types
    content = {
        t: {"schema": {"$ref": "#/components/schemas/Success"} if t == "application/json" else {"type": "string"}}
        for t in content_types
    }
    responses: dict[str, Any] = {success: {"description": "Success", "content": content}}
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for status, description in ERROR_RESPONSES.items():
        responses[status] = {"description": description, "content": error_content}
    if route.auth == "link":
        link_content = {
            t: {"schema": {"type": "string"}} for t in content_types if t != "application/json"
        } or error_content
        for status, description in LINK_ERRORS.items():
            responses[status] = {"description": description, "content": link_content}
    return responses


def build() -> dict[str, Any]:
    """The merged document for every route of the catalog."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    version = "3.1.0"
    for function in catalog.FUNCTIONS:
        module = importlib.import_module(function.module)
        app = getattr(module, "app", None)
        if app is None:
            continue
        part = json.loads(app.get_openapi_json_schema(title=PRODUCT, version=VERSION))
        version = part.get("openapi", version)
        for path, operations in part.get("paths", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(part.get("components", {}).get("schemas", {}))
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    schemas.update(Error=ERROR_SCHEMA, Success=SUCCESS_SCHEMA)
    for route in catalog.ROUTES:
        operation = paths[route.path][route.method.lower()]
        operation["summary"] = route.summary
        operation["security"] = _security(route)
        operation["responses"] = _operation_responses(route)
        if route.auth == "gateway" and route.method == "POST":
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"description": "A gateway event in any supported dialect"}},
                    "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                },
            }
    return {
        "openapi": version,
        "info": {
            "title": PRODUCT,
            "version": VERSION,
            "description": "WhatsApp webhook hub: gateway receiver, session state, subscriber webhooks.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": SECURITY_SCHEMES},
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT_PATH.parent.mkdir(exist_ok=True)
    DOCUMENT_PATH.write_text(render(build()))
    print(f"wrote {DOCUMENT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
