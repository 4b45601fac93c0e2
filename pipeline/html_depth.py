"""Bound how deep a hostile page nests its elements before an HTML parser sees it.

lexbor (selectolax), like every HTML5 tree builder, scans the stack of open elements at
each block start tag (``<div>``, ``<ul>``, ``<section>``, ``<pre>`` ...) to close an open
``<p>``: 40,000 unclosed ``<div>`` tags (200 KB) take 13 s to parse, 80,000 nearly a
minute, and the time grows with the square of the page. Real pages nest a few dozen
elements deep. :func:`cap_nesting` counts the depth from the tags in one linear pass
and, only when it exceeds :data:`MAX_DEPTH`, drops the start tags beyond it (and their
end tags), so the parse stays linear. Text is kept; on every ordinary page nothing changes.
An ordinary page is let through by a quick upper bound of its depth (array operations,
about the cost of one parse), so the exact count, a Python loop over every tag, runs
only on pages that may be deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import AnyStr, overload

import numpy as np

MAX_DEPTH = 512

#: A start or end tag, its name read as the HTML tokenizer reads it (up to white space,
#: "/" or ">": ``<td.x>`` is not a ``<td>``). ``[^<>]*`` stops at the next ``<``, so an
#: unclosed ``<div`` costs one scan to the next tag, never one to the end of the page.
_TAG = re.compile(r"<(/?)([A-Za-z][^ \t\n\f\r/<>]*)[^<>]*>")
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
    # a page with no more "<" than the limit holds no more tags: it cannot nest deeper
    lt = "<" if isinstance(html, str) else b"<"
    if html.count(lt) <= limit or _depth_bound(html) <= limit or _max_depth(html) <= limit:
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
        name = (name if isinstance(name, str) else name.decode("latin-1")).lower()
        if name not in _FLAT:  # "<div/>" opens a div all the same: HTML ignores the slash
            yield match.start(), match.end(), bool(match.group(1)), name


#: End tags the bound subtracts: only elements that :func:`_max_depth` counts.
_CLOSED = frozenset(
    {
        *("div", "span", "font", "b", "i", "u", "s", "strong", "em", "small", "big", "sup"),
        *("sub", "ul", "ol", "dl", "section", "article", "center", "pre", "nav", "form"),
        *("blockquote", "o:p", "h1", "h2", "h3", "h4", "h5", "h6", "label", "script"),
        *("style", "title", "select", "button", "textarea", "object", "iframe", "noscript"),
    }
)
_WINDOW = 8  # bytes of a tag name read as one number; longer names count as unknown
_SLICE = 1 << 22  # bytes of the page read at a time by the bound
# Bytes that end a tag name (as the HTML tokenizer reads it): white space, "/" and ">".
_ENDS_NAME = np.zeros(256, dtype=bool)
_ENDS_NAME[list(b" \t\n\x0c\r/>")] = True


def _depth_bound(html: str | bytes, slice_bytes: int = _SLICE) -> int:
    """An upper bound of :func:`_max_depth`, computed with array operations at about the
    cost of one parse (the exact count, a Python loop over the tags, takes several times
    that): start tags count as they do there, but end tags are subtracted only for common
    elements. Read in slices of ``slice_bytes``, so its arrays stay small."""
    data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    page = np.frombuffer(data + bytes(_WINDOW + 2), dtype=np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(page, _WINDOW + 1)
    # the 8 bytes from each offset as one number (an unaligned view: nothing is copied)
    words = np.ndarray((len(page) - _WINDOW + 1,), dtype=np.uint64, buffer=page, strides=(1,))
    bound = depth = 0
    for offset in range(0, len(data), slice_bytes):
        at = np.flatnonzero(page[offset : min(offset + slice_bytes, len(data))] == ord("<"))
        if len(at) == 0:
            continue
        at += offset
        following = page[at + 1]
        lowered = following | 0x20
        is_start = (lowered >= ord("a")) & (lowered <= ord("z"))
        is_end = following == ord("/")
        # every tag's name read once: after "<" for a start tag, after "</" for an end tag
        names = _names(windows, words, at + 1 + is_end)
        steps = is_start & ~_member(names, _FLAT_KEYS)
        walk = np.cumsum(steps, dtype=np.int64)
        walk -= np.cumsum(is_end & _member(names, _CLOSED_KEYS), dtype=np.int64)
        # the depth never goes below 0: from ``depth``, it is the walk lifted by its lowest
        # dip below the start when that goes deeper than ``depth``
        lifted = np.maximum(depth, -np.minimum(np.minimum.accumulate(walk), 0))
        floored = walk + lifted
        bound = max(bound, int(floored.max()))
        depth = int(floored[-1])
    return bound


def _keys(names: frozenset[str]) -> np.ndarray:
    """Each name of at most :data:`_WINDOW` bytes as the number :func:`_names` reads,
    sorted (for :func:`_member`)."""
    spelled = [n.encode().ljust(_WINDOW, b"\0") for n in names if len(n) <= _WINDOW]
    return np.sort(np.frombuffer(b"".join(spelled), dtype=np.uint64))


# _MASKS[n]: the low n bytes of a number (a name of n bytes read little-endian)
_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(_WINDOW + 1)], dtype=np.uint64)
_LOWER = np.uint64(int.from_bytes(b"\x20" * _WINDOW, "little"))
_UNKNOWN = np.uint64(0)  # no name is read as 0: the number of a name too long to read


def _names(windows: np.ndarray, words: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The tag names starting at offsets ``first`` each read as one 8-byte number,
    lower-cased (ASCII letters), the bytes after the name zeroed; 0 for a name longer
    than :data:`_WINDOW` bytes. ``windows``: the page's bytes seen from each offset;
    ``words``: the page's 8 bytes from each offset as one number."""
    ended = np.take(_ENDS_NAME, windows[first])  # take: faster than indexing here
    length = np.where(ended.any(axis=1), ended.argmax(axis=1), _WINDOW + 1)
    read = (words[first] | _LOWER) & _MASKS[np.minimum(length, _WINDOW)]
    read[length > _WINDOW] = _UNKNOWN
    return read


def _member(read: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which numbers of ``read`` are among the sorted ``keys`` (a binary search each)."""
    at = np.minimum(np.searchsorted(keys, read), len(keys) - 1)
    return keys[at] == read


_FLAT_KEYS, _CLOSED_KEYS = _keys(_FLAT), _keys(_CLOSED)


def _max_depth(html: str | bytes) -> int:
    deepest = depth = 0
    for _, _, closing, _ in _tags(html):
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest
