"""Whether a document is an HTML page or plain text (decoding is :mod:`pipeline.encoding`)."""

from __future__ import annotations

import re

_HTML_SNIFF = re.compile(rb"<\s*(!doctype|html|head|body|table|div|p|meta|span)\b", re.IGNORECASE)


def looks_like_html(content: bytes, content_type: str | None = None) -> bool:
    if content_type:
        kind = content_type.split(";")[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            return True
        if kind == "text/plain":
            return False
    return _HTML_SNIFF.search(content[:8192]) is not None
