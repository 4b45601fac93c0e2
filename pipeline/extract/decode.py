"""Bytes to text: declared charset first, then what the bytes say.

Order: the HTTP header's charset, a byte-order mark, the page's ``<meta>`` charset,
strict UTF-8, and GB18030 (a superset of GBK and GB2312) as the last resort.
"""

from __future__ import annotations

import codecs
import re

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HTML_SNIFF = re.compile(rb"<\s*(!doctype|html|head|body|table|div|p|meta|span)\b", re.IGNORECASE)
# Chinese pages often mislabel GB18030 content as one of its subsets.
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030"}


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = _WIDEN.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return _codec(match.group(1)) if match else None


def decode(content: bytes, content_type: str | None = None) -> str:
    declared = charset_from_content_type(content_type)
    if declared is None:
        for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
            if content.startswith(bom):
                declared = name
                break
    if declared is None:
        match = _META_CHARSET.search(content[:4096])
        declared = _codec(match.group(1).decode("ascii", "ignore")) if match else None
    if declared is not None:
        try:
            return content.decode(declared)
        except UnicodeDecodeError:
            pass  # a wrong declaration is common; fall through to what the bytes say
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("gb18030", errors="replace")


def looks_like_html(content: bytes, content_type: str | None = None) -> bool:
    if content_type:
        kind = content_type.split(";")[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            return True
        if kind == "text/plain":
            return False
    return _HTML_SNIFF.search(content[:8192]) is not None
