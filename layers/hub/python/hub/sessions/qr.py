"""QR strings to PNG data URLs, and what the hub accepts as a QR string or image. qrcode is imported
only here, on first use."""

from __future__ import annotations

import base64
import io
import re
from functools import lru_cache

DATA_URL_PREFIX = "data:image/png;base64,"

MAX_QR_BYTES = 2331
"""The most a QR code holds at the hub's error correction (M) in byte mode: version 40 (ISO/IEC 18004
table 7). Longer strings cannot be drawn; `qrcode` raises on them."""

IMAGE_MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "gif": b"GIF8"}
_IMAGE_DATA_URL = re.compile(r"data:image/(png|jpeg|gif);base64,([A-Za-z0-9+/]{16})", re.IGNORECASE)


def check_text(text: str) -> str:
    """`text` if a QR code can hold it; ValueError naming the limit otherwise."""
    size = len(text.encode("utf-8"))
    if size > MAX_QR_BYTES:
        raise ValueError(f"QR string is {size} bytes; a QR code holds at most {MAX_QR_BYTES} (version 40, level M)")
    return text


def is_safe_image(data_url: str) -> bool:
    """True for a base64 data URL of a PNG, JPEG or GIF whose first bytes are of that type. The hub serves a
    gateway's QR image back to clients verbatim, so SVG (which can carry scripts) and every other type are not kept."""
    match = _IMAGE_DATA_URL.match(data_url)
    return match is not None and base64.b64decode(match.group(2)).startswith(IMAGE_MAGIC[match.group(1).lower()])


def shown_image(text: str | None, image: str | None) -> str | None:
    """The QR image clients are shown: the gateway's own image when it sent one, else the PNG of the QR string
    drawn now. The hub stores the string only (a PNG would make every session write, and its stream record,
    several write units larger)."""
    if image or not text:
        return image
    return png_data_url(text)


@lru_cache(maxsize=16)
def png_data_url(text: str) -> str:
    """A `data:image/png;base64,` image of `text` as a QR code (pure-Python PNG writer)."""
    import qrcode
    from qrcode.image.pure import PyPNGImage

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=2)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(image_factory=PyPNGImage).save(buffer)
    return DATA_URL_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")
