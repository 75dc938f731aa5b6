"""Helpers shared by every dialect: base models, time parsing, ack / presence / type tables, result builders.

Nothing here knows a dialect's envelope; the dialect modules do. No I/O, cheap imports.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hub.ingest.models import Lifecycle, SessionStatus
from hub.sessions import qr as qr_rules

S = SessionStatus

# --------------------------------------------------------------------------- errors

ENVELOPES: tuple[str, ...] = (
    "wwebjs / worker {event, data, timestamp?}",
    "gateway {event, instanceId, timestamp, data}",
    "device {device: {deviceHash|numberHash, status}, event: {type, code, message}, timestamp}",
    "waha {id?, event, session, payload, engine?}",
    "evolution {event, instance, data, date_time?, server_url?}",
    "wwebjs-api {dataType, data?, sessionId}",
    "gowa {event, device_id|session_id, payload}",
    "wuzapi {type, event, instanceName|userID} or form field jsonData",
    "baileys-api {type, body, instanceKey}",
)
EXPECTED = "one of: " + "; ".join(ENVELOPES)

MAX_DETAILS = 10


class NoDialectMatched(ValueError):
    """Body matches no known dialect.

    `.expected` is a short human list of the envelopes the hub accepts (for the 400 error message);
    `.details` a list of {"field", "message"} dicts, may be empty.
    """

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expected = EXPECTED
        self.details: list[dict[str, str]] = list(details or [])[:MAX_DETAILS]


def _loc(prefix: tuple[str | int, ...], loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in (*prefix, *loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def details_of(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[dict[str, str]]:
    return [
        {"field": _loc(prefix, tuple(err.get("loc", ()))), "message": str(err.get("msg", "invalid"))}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)[:MAX_DETAILS]
    ]


def invalid(field_name: str, message: str) -> NoDialectMatched:
    return NoDialectMatched(f"{field_name}: {message}", [{"field": field_name, "message": message}])


# --------------------------------------------------------------------------- models


class Loose(BaseModel):
    """Base of every gateway model. Declared fields are type-checked strictly (no "3" -> 3, no 1 -> True);
    undeclared keys are allowed, since gateways add fields. Models build lazily (cheap imports)."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True, defer_build=True)


Envelope = Loose
"""Top-level envelopes: the same base; what makes them strict is that their discriminating keys are
required and typed, and that only the dialect whose `claims()` matched ever validates a body."""


M = TypeVar("M", bound=BaseModel)

Stamp = int | float | str | dict | None
"""A timestamp as gateways send it: epoch s / ms (number or numeric string), ISO-8601, or a protobuf Long."""


def check(model: type[M], value: Any, *at: str | int) -> M:
    """Validate `value` against `model`; errors become NoDialectMatched with dotted field paths under `at`."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise NoDialectMatched("invalid " + (_loc(at, ()) if at else "body"), details_of(exc, at)) from None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Parsed:
    """What a dialect makes of one body (the package turns it into a NormalizedEvent)."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    lifecycle: Lifecycle | None = None
    occurred_at: datetime | None = None
    """Event time taken from inside the event (used when the envelope carries none)."""


Handler = Callable[..., "Parsed | None"]
"""A table entry: returns None when the event's value is not mappable (-> gateway.unknown)."""


@dataclass(frozen=True)
class Result:
    source_event: str
    parsed: Parsed
    occurred_at: datetime | None = None
    gateway_event_id: str | None = None


def compact(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def event(type_: str, data: Mapping[str, Any], at: Any = None) -> Parsed:
    return Parsed(type=type_, data=compact(data), occurred_at=parse_time(at))


def unknown(body: Any) -> Parsed:
    return Parsed(type="gateway.unknown", data={"body": body})


def session(
    status: SessionStatus,
    *,
    qr: str | None = None,
    qr_image: str | None = None,
    phone: str | None = None,
    display: str | None = None,
    reason: Any = None,
    percent: Any = None,
    message: str | None = None,
    data: Mapping[str, Any] | None = None,
    at: Any = None,
) -> Parsed:
    """A lifecycle event. `qr` may be a raw QR string or an image data URL (`qr_image` an image data URL
    sent next to a raw QR); QR events become session.qr. An image that is not a PNG, JPEG or GIF data URL
    (qr.is_safe_image) is dropped."""
    raw_qr, image = split_qr(qr)
    if qr_image and qr_image.startswith("data:image/"):
        image = qr_image
    if image is not None and not qr_rules.is_safe_image(image):
        image = None
    reason_s = None if reason is None or reason == "" else str(reason)
    life = Lifecycle(
        status=status,
        qr=raw_qr,
        qr_image=image,
        phone_number=phone_from(phone),
        display_name=display or None,
        reason=reason_s,
        loading_percent=clamp_percent(percent),
        message=message or None,
    )
    extra = dict(data or {})
    if reason_s is not None:
        extra.setdefault("reason", reason_s)
    return Parsed(
        type="session.qr" if status is S.QR_GENERATED else "session.status",
        data=compact(extra),
        lifecycle=life,
        occurred_at=parse_time(at),
    )


# --------------------------------------------------------------------------- small value helpers


def split_qr(value: str | None) -> tuple[str | None, str | None]:
    """(raw QR, image data URL): a `data:image/...` value is an image, anything else the raw QR string."""
    if not value:
        return None, None
    if value.startswith("data:image/"):
        return None, value
    return value, None


def clamp_percent(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return max(0, min(100, round(value)))


_PHONE_DOMAINS = ("s.whatsapp.net", "c.us")


def phone_from(value: Any) -> str | None:
    """Phone number from a JID (`5511…:12@s.whatsapp.net`, `5511…@c.us`) or a bare number; LIDs give None."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if "@" not in value:
        return value
    user, _, domain = value.partition("@")
    user = user.split(":", 1)[0]
    return user if domain in _PHONE_DOMAINS and re.fullmatch(r"\+?\d{5,20}", user) else None


def chat_of_serialized(value: Any) -> str | None:
    """Chat JID from a serialized whatsapp-web.js / WAHA message id `fromMe_chat_id[_participant]`."""
    if not isinstance(value, str):
        return None
    parts = value.split("_")
    return parts[1] if len(parts) >= 3 and parts[0] in ("true", "false") and "@" in parts[1] else None


_JID_PHONE = re.compile(r"\b(\d{6,})(?::\d+)?@(?:s\.whatsapp\.net|c\.us)\b")


def phone_in_text(value: Any) -> str | None:
    """First phone-number JID mentioned in a human sentence ("Successfully pair with 5511…:12@s.whatsapp.net")."""
    match = _JID_PHONE.search(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def first(*values: Any) -> Any:
    """First value that is not None / empty string."""
    for v in values:
        if v is not None and v != "":
            return v
    return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def norm_key(name: str) -> str:
    """Case-, dot-, dash- and underscore-insensitive lookup key (`MESSAGES_UPSERT` == `messages.upsert`)."""
    return re.sub(r"[._\-\s]+", ".", name.strip().lower())


# --------------------------------------------------------------------------- time

_NUMERIC = re.compile(r"[+-]?\d+(\.\d+)?")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_EPOCH_SCALES = ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6), (1e20, 1e9))
_MIN_TIME = datetime(1971, 1, 1, tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """Event time from a gateway value, as a UTC datetime; None when absent or unusable.

    Numbers are epoch seconds, milliseconds, micro- or nanoseconds, told apart by magnitude
    (< 1e11 is seconds: up to year 5138; < 1e14 milliseconds; ...). Strings are numeric epochs or
    ISO-8601 (naive ones are taken as UTC). Protobuf Longs `{low, high}` are combined. Times
    before 1971 (Go's zero time `0001-01-01T00:00:00Z`, 0) count as absent.
    """
    try:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, dict):
            value = _long(value)
            if value is None:
                return None
        if isinstance(value, str):
            text = value.strip()
            if not text or len(text) > 64:
                return None
            if _NUMERIC.fullmatch(text):
                value = float(text)
            else:
                dt = datetime.fromisoformat(_FRACTION.sub(r"\1", text))
                dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
                return dt if dt >= _MIN_TIME else None
        if isinstance(value, (int, float)):
            number = float(value)
            if not math.isfinite(number) or number <= 0:
                return None
            for limit, scale in _EPOCH_SCALES:
                if number < limit:
                    dt = datetime.fromtimestamp(number / scale, tz=UTC)
                    return dt if dt >= _MIN_TIME else None
        return None
    except (ValueError, OverflowError, OSError, TypeError):
        return None


def _long(value: dict[str, Any]) -> int | None:
    low, high = value.get("low"), value.get("high")
    if isinstance(low, bool) or isinstance(high, bool) or not isinstance(low, int) or not isinstance(high, int):
        return None
    return (high << 32) + (low & 0xFFFFFFFF)


def iso(value: Any) -> str | None:
    """ISO-8601 UTC string with milliseconds (`2025-01-01T12:00:00.000Z`), as JavaScript prints it."""
    dt = value if isinstance(value, datetime) else parse_time(value)
    if dt is None:
        return None
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------- acks

WWEB_ACK: dict[int, str] = {-1: "failed", 0: "pending", 1: "sent", 2: "delivered", 3: "read", 4: "played"}
"""whatsapp-web.js MessageAck (wwebjs, wwebjs-api, WAHA `ack`)."""

BAILEYS_ACK: dict[int, str] = {0: "failed", 1: "pending", 2: "sent", 3: "delivered", 4: "read", 5: "played"}
"""Baileys proto.WebMessageInfo.Status (worker, Evolution, baileys-api): one higher than whatsapp-web.js."""

ACK_NAMES: dict[str, str] = {
    # Baileys / Evolution renderStatus names
    "ERROR": "failed",
    "PENDING": "pending",
    "SERVER_ACK": "sent",
    "DELIVERY_ACK": "delivered",
    "READ": "read",
    "PLAYED": "played",
    # whatsapp-web.js / WAHA ackName
    "SERVER": "sent",
    "DEVICE": "delivered",
    # GOWA receipt_type / wuzapi ReadReceipt state (upper-cased)
    "DELIVERED": "delivered",
    "READ_SELF": "read",
    "READSELF": "read",
    "PLAYED_SELF": "played",
    "SENDER": "sent",
    "SERVER_ERROR": "failed",
    # the hub's own names (gateway dialect)
    "FAILED": "failed",
    "SENT": "sent",
}


def ack_status(value: Any, scale: Mapping[int, str]) -> str | None:
    """Hub message status (failed|pending|sent|delivered|read|played) from a gateway ack value.

    Integers (and numeric strings) use `scale` (WWEB_ACK or BAILEYS_ACK); names are looked up in
    ACK_NAMES case-insensitively (`read-self` == `READ_SELF`). Unmappable values give None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d{1,3}", text):
            return scale.get(int(text))
        return ACK_NAMES.get(re.sub(r"[\s\-.]+", "_", text.upper()))
    if isinstance(value, int):
        return scale.get(value)
    if isinstance(value, float) and value.is_integer():
        return scale.get(int(value))
    return None


# --------------------------------------------------------------------------- presence and message types

PRESENCES: dict[str, str] = {
    "available": "available",
    "online": "available",
    "unavailable": "unavailable",
    "offline": "unavailable",
    "composing": "composing",
    "typing": "composing",
    "recording": "recording",
    "paused": "paused",
}


def presence(value: Any) -> str | None:
    return PRESENCES.get(value.strip().lower()) if isinstance(value, str) else None


MESSAGE_TYPES: dict[str, str] = {
    # whatsapp-web.js / wuzapi / generic
    "chat": "text",
    "text": "text",
    "image": "image",
    "video": "video",
    "audio": "audio",
    "ptt": "voice",
    "document": "document",
    "sticker": "sticker",
    "location": "location",
    "vcard": "contact",
    "multi_vcard": "contact",
    "contact": "contact",
    "poll_creation": "poll",
    "reaction": "reaction",
    "revoked": "revoked",
    "ptv": "video",
    # Baileys proto message keys (Evolution messageType)
    "conversation": "text",
    "extendedtextmessage": "text",
    "imagemessage": "image",
    "videomessage": "video",
    "audiomessage": "audio",
    "documentmessage": "document",
    "documentwithcaptionmessage": "document",
    "stickermessage": "sticker",
    "locationmessage": "location",
    "livelocationmessage": "location",
    "contactmessage": "contact",
    "contactsarraymessage": "contact",
    "pollcreationmessage": "poll",
    "pollcreationmessagev3": "poll",
    "reactionmessage": "reaction",
    "protocolmessage": "protocol",
}


def message_type(value: Any) -> str | None:
    """Hub message type (text, image, video, audio, voice, document, sticker, location, contact, poll, …);
    an unlisted gateway type is passed through unchanged."""
    if not isinstance(value, str) or not value:
        return None
    return MESSAGE_TYPES.get(value.lower(), value)
