"""Bytes of a page to text, the one way both the crawler and the extractor read them.

Order: the HTTP header's charset, a byte-order mark, the page's ``<meta>`` charset, strict
UTF-8, and GB18030 (a superset of GBK and GB2312) as the last resort. A declared charset
that does not decode the bytes is ignored, and so is a GBK-family declaration on bytes
that are valid UTF-8: wrong declarations are common on portals.
"""

from __future__ import annotations

import codecs
import re

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# Chinese pages often label GB18030 content as one of its subsets.
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030"}
# Servers send ISO-8859-1 when nobody configured a charset; it decodes anything, wrongly.
_UNTRUSTED = {"iso8859-1"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
META_WINDOW = 4096  # a <meta charset> sits in the head


def normalise_charset(name: str | None) -> str | None:
    """The Python codec for a declared charset name, or ``None`` if there is none."""
    if not name:
        return None
    name = _WIDEN.get(name.strip().lower(), name.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str | None = None) -> str | None:
    """Charset from the Content-Type header, else a byte-order mark, else ``<meta>``."""
    match = _HEADER_CHARSET.search(content_type or "")
    charset = normalise_charset(match.group(1)) if match else None
    if charset is not None and charset not in _UNTRUSTED:
        return charset
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    meta = _META_CHARSET.search(body[:META_WINDOW])
    return normalise_charset(meta.group(1).decode("ascii", "ignore")) if meta else None


def _utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode(body: bytes, content_type: str | None = None) -> str:
    return decode_with_codec(body, content_type)[0]


def decode_with_codec(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The text and the codec that read it (callers can reuse UTF-8 bytes as they are)."""
    text, codec, _ = decode_counting(body, content_type)
    return text, codec


def decode_counting(body: bytes, content_type: str | None = None) -> tuple[str, str, int]:
    """The text, the codec that read it, and how many invalid byte runs were replaced by
    U+FFFD: a few bad bytes in a page that is otherwise valid in its codec are replaced
    there, never a reason to read the whole page in another codec (and lose every figure)."""
    declared = declared_charset(body, content_type)
    if declared == "gb18030" and not body.isascii() and (text := _utf8(body)) is not None:
        # GBK text is practically never valid UTF-8: a page that is, was mislabelled.
        return text, "utf-8", 0
    if declared is not None:
        try:
            return body.decode(declared), declared, 0
        except UnicodeDecodeError:
            pass  # damaged bytes, or a wrong declaration: the bytes decide which
    text = _utf8(body)
    if text is not None:
        return text, "utf-8", 0
    for codec in dict.fromkeys([declared or "utf-8", "utf-8"]):
        found = _mostly(body, codec)
        if found is not None:
            return found[0], codec, found[1]
    text = body.decode("gb18030", errors="replace")
    return text, "gb18030", text.count("\ufffd")


def _mostly(body: bytes, codec: str) -> tuple[str, int] | None:
    """``body`` in ``codec`` with its few invalid bytes replaced, when they are few (at
    most one in a thousand characters, or 8); ``None`` when the codec does not fit."""
    text = body.decode(codec, errors="replace")
    printed = body.count("\ufffd".encode(codec)) if codec == "utf-8" else 0  # the page's own
    bad = text.count("\ufffd") - printed
    return (text, bad) if bad <= max(8, len(text) // 1000) else None
