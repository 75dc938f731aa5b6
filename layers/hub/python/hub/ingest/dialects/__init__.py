"""Inbound dialects: turn any supported gateway's webhook body into a NormalizedEvent (docs/contract.md §6, §7).

The dialect is detected from the body's shape, never from headers. Each dialect module has
`NAME`, `SESSION_FIELD`, `claims(body)` (cheap test on its distinctive keys), `session_id(body)` and
`parse(body)` (strict pydantic validation + one event table). The first dialect in `DIALECTS` that
claims a body owns it: if the body then fails that dialect's validation, the error names that
dialect's fields; the body is never handed to a looser dialect.

The `claims` tests live in `_claims` (no pydantic); a dialect's module, with its models, is imported
the first time it claims a body, so a cold start pays for no dialect it does not receive.
`DIALECTS` (all the modules) imports every one of them on first access.

Order (most distinctive keys first; the bare `{event, data}` envelope last):
wwebjs-api (`dataType`), waha (`session` + `payload`), gowa (`payload` + `device_id`/`session_id`),
evolution (`instance` + `event`), baileys-api (`instanceKey`), wuzapi (`jsonData`, or `type` with
`userID`/`instanceName`), device (`device` + `event`), gateway (`instanceId` + `event`),
worker (`event` with a Baileys-worker event name), wwebjs (`event`).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from hub.ingest.models import NormalizedEvent
from hub.platform import bodies

from ._claims import ORDER, Dialect
from ._common import ENVELOPES, EXPECTED, NoDialectMatched, details_of

__all__ = [
    "DIALECTS",
    "DIALECT_NAMES",
    "ENVELOPES",
    "EXPECTED",
    "NoDialectMatched",
    "decode_body",
    "detect",
    "event_url_suffix",
    "normalize",
    "session_id_from_body",
]

DIALECT_NAMES: tuple[str, ...] = tuple(d.name for d in ORDER)


def _module(dialect: Dialect) -> ModuleType:
    return import_module(f"{__name__}.{dialect.module}")


def __getattr__(name: str) -> Any:
    """`DIALECTS`: every dialect module, in detection order (importing them all)."""
    if name == "DIALECTS":
        return tuple(_module(d) for d in ORDER)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FORM_TYPE = "application/x-www-form-urlencoded"


DEFAULT_MAX_DEPTH = 64


def decode_body(raw: bytes, content_type: str | None, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """JSON body -> parsed JSON; application/x-www-form-urlencoded (wuzapi form mode, with `jsonData`
    holding JSON) -> dict of fields (first value of each) with `jsonData` parsed.

    Nesting deeper than `max_depth` is refused before parsing; lone surrogates (`"\\ud83d"`, as a
    gateway may relay a truncated emoji) become U+FFFD, so the text can be stored and sent.
    Raises ValueError on undecodable input (the caller maps it to INVALID_JSON): bad UTF-8, bad JSON,
    NaN/Infinity, nesting too deep, a form whose `jsonData` is not JSON.
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ValueError("body must be bytes")
    data = bytes(raw)
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    text = data.decode("utf-8-sig")
    if mime == FORM_TYPE or (not mime and text.lstrip().startswith("jsonData=")):
        return _decode_form(text, max_depth)
    return bodies.loads(text, max_depth, "replace")


def _decode_form(text: str, max_depth: int) -> dict[str, Any]:
    fields = parse_qs(text, keep_blank_values=True, errors="strict", max_num_fields=1000)
    form: dict[str, Any] = {key: values[0] for key, values in fields.items()}
    if "jsonData" in form:
        form["jsonData"] = bodies.loads(form["jsonData"], max_depth, "replace")
    return form


def detect(body: Any) -> ModuleType | None:
    """The dialect module that owns `body` (imported on first use), or None."""
    if not isinstance(body, dict):
        return None
    for dialect in ORDER:
        if dialect.claims(body):
            return _module(dialect)
    return None


def session_id_from_body(body: Any) -> str | None:
    """The body-carried session id, if the body's dialect has one."""
    dialect = detect(body)
    value = dialect.session_id(body) if dialect is not None else None
    return value if isinstance(value, str) and value else None


def event_url_suffix(body: Any) -> str | None:
    """The path segment a gateway appends to its webhook URL for this body's event, if it does: Evolution API's
    `webhookByEvents` appends `/<event in kebab case>` (`messages.upsert` -> `/messages-upsert`)."""
    dialect = detect(body)
    if dialect is None or dialect.NAME != "evolution" or not isinstance(body.get("event"), str):
        return None
    return body["event"].lower().replace(".", "-").replace("_", "-")


def normalize(body: Any, *, session_id: str | None) -> NormalizedEvent:
    """Detect the dialect from the body's shape, validate it strictly and return a NormalizedEvent.

    `session_id` is the session from the URL path; when None (or empty) it is taken from the body
    (WAHA `session`, Evolution `instance`, device `deviceHash`/`numberHash`, wwebjs-api `sessionId`,
    gateway `instanceId`, GOWA `session_id`/`device_id`, wuzapi `instanceName`/`userID`, baileys-api
    `instanceKey`). When both exist, the path wins. Raises NoDialectMatched (and nothing else) when the
    body matches no dialect, fails its dialect's validation, or no session can be found.
    """
    dialect = detect(body)
    if dialect is None:
        raise NoDialectMatched("body matches no known webhook dialect; expected " + EXPECTED)
    try:
        result = dialect.parse(body)
    except NoDialectMatched as exc:
        raise NoDialectMatched(
            f"body looks like a {dialect.NAME} webhook but is invalid: {exc.message}", exc.details
        ) from None
    except ValidationError as exc:  # a model built outside check(): keep the promise of one error type
        raise NoDialectMatched(f"body looks like a {dialect.NAME} webhook but is invalid", details_of(exc)) from None
    session = session_id or session_id_from_body(body)
    if not session:
        field = dialect.SESSION_FIELD
        why = (
            f"the {dialect.NAME} dialect carries no session in the body"
            if field is None
            else f"{field} is missing from the body"
        )
        raise NoDialectMatched(
            f"no session: {why} and the URL has none; post to /api/whatsapp/webhook/{{sessionId}}",
            [{"field": field or "sessionId", "message": f"Field required: {why} and the URL has no session id"}],
        )
    parsed = result.parsed
    try:
        return NormalizedEvent(
            type=parsed.type,
            session_id=session,
            dialect=dialect.NAME,
            source_event=result.source_event,
            occurred_at=result.occurred_at,
            gateway_event_id=result.gateway_event_id,
            data=parsed.data,
            lifecycle=parsed.lifecycle,
        )
    except ValidationError as exc:
        raise NoDialectMatched(f"body looks like a {dialect.NAME} webhook but is invalid", details_of(exc)) from None
