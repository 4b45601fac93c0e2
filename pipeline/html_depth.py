"""Bound how deep a hostile page nests its elements before an HTML parser sees it.

lexbor (selectolax), like every HTML5 tree builder, scans the stack of open elements at
each block start tag (``<div>``, ``<ul>``, ``<section>``, ``<pre>`` ...) to close an open
``<p>``: 40,000 unclosed ``<div>`` tags (200 KB) take 13 s to parse, 80,000 nearly a
minute, and the time grows with the square of the page. Real pages nest a few dozen
elements deep. :func:`cap_nesting` estimates the depth from the tags in one linear pass
and, only when it exceeds :data:`MAX_DEPTH`, drops the start tags beyond it (and their
end tags), so the parse stays linear. Text is kept; on every ordinary page nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import AnyStr, overload

MAX_DEPTH = 512

#: A start or end tag. ``[^<>]*`` stops at the next ``<``, so an unclosed ``<div`` costs
#: one scan to the next tag, never one to the end of the page.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*?(/?)>")
_TAG_BYTES = re.compile(_TAG.pattern.encode())
#: Tags neither counted nor ever removed: elements that hold no others, those the parser
#: closes by itself when the next one starts (an unclosed ``<p>`` or ``<li>`` is ordinary
#: HTML, not depth), tables (the parser's scans stop at a table, and a report's tables
#: must survive) and links (what the crawler reads; an ``<a>`` closes the one before it).
_FLAT = frozenset(
    {
        *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"),
        *("source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "tbody", "thead"),
        *("tfoot", "colgroup", "caption", "option", "optgroup", "rt", "rp", "html", "head"),
        *("body", "table", "a"),
    }
)


@overload
def cap_nesting(html: str, limit: int = ...) -> tuple[str, int]: ...
@overload
def cap_nesting(html: bytes, limit: int = ...) -> tuple[bytes, int]: ...
def cap_nesting(html: AnyStr, limit: int = MAX_DEPTH) -> tuple[AnyStr, int]:
    """``html`` (text, or bytes of an ASCII-compatible encoding) with the start tags nested
    deeper than ``limit`` and their end tags removed, and the number of tags removed; the
    page itself when it nests no deeper."""
    if _max_depth(html) <= limit:
        return html, 0
    keep: list[AnyStr] = []
    depth = 0
    dropped: dict[str, int] = {}  # tag name -> start tags removed and not yet closed
    removed = last = 0
    for start, end, closing, name in _tags(html):
        if not closing:
            if depth < limit:
                depth += 1
                continue
            dropped[name] = dropped.get(name, 0) + 1
        elif dropped.get(name):
            dropped[name] -= 1
        else:
            depth = max(0, depth - 1)
            continue
        removed += 1
        keep.append(html[last:start])
        last = end
    keep.append(html[last:])
    return html[:0].join(keep), removed


def _tags(html: str | bytes) -> Iterator[tuple[int, int, bool, str]]:
    """(start, end, is an end tag, lower-case name) of each counted tag, in page order
    (generated, not listed: a 50 MB page holds millions of tags)."""
    matches = _TAG.finditer(html) if isinstance(html, str) else _TAG_BYTES.finditer(html)
    for match in matches:
        name = match.group(2)
        name = (name if isinstance(name, str) else name.decode("ascii")).lower()
        if name not in _FLAT and not match.group(3):
            yield match.start(), match.end(), bool(match.group(1)), name


def _max_depth(html: str | bytes) -> int:
    deepest = depth = 0
    for _, _, closing, _ in _tags(html):
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest
