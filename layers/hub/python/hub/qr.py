"""QR strings to PNG data URLs. qrcode is imported only here, on first use."""

from __future__ import annotations

import base64
import io

DATA_URL_PREFIX = "data:image/png;base64,"


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
