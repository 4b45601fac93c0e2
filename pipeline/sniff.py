"""What kind of document a body is, decided once for the crawler and the extractor alike."""

from __future__ import annotations

import re

_HTML_SNIFF = re.compile(rb"<\s*(!doctype|html|head|body|table|div|p|meta|span)\b", re.IGNORECASE)


def looks_like_html(content: bytes, content_type: str | None = None) -> bool:
    """An HTML page (else plain text): the Content-Type when it is explicit, else a tag
    near the start of the body (portals serve report pages as text/plain and text as
    octet-stream, so the body decides where the header does not)."""
    if content_type:
        kind = content_type.split(";")[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            return True
        if kind == "text/plain":
            return False
    return _HTML_SNIFF.search(content[:8192]) is not None
