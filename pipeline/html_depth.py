"""Bound how deep a hostile page nests its elements before an HTML parser sees it.

lexbor (selectolax), like every HTML5 tree builder, scans the stack of open elements at
each block start tag (``<div>``, ``<ul>``, ``<section>``, ``<pre>`` ...) to close an open
``<p>``: 40,000 unclosed ``<div>`` tags (200 KB) take 13 s to parse, 80,000 nearly a
minute, and the time grows with the square of the page. Real pages nest a few dozen
elements deep. :func:`cap_nesting` counts the depth from the tags in one linear pass
and, only when it exceeds :data:`MAX_DEPTH`, drops the start tags beyond it (and their
end tags), so the parse stays linear. Text is kept; on every ordinary page nothing changes.
An ordinary page is let through by a quick upper bound of its depth (array operations,
about a third of the cost of one parse), so the exact count, a Python loop over every
tag, runs only on pages that may be deep.
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
    # a tag takes 3 characters at least ("<b>"): a short page cannot nest deeper
    short = len(html) < 3 * (limit + 1)
    if short or _depth_bound(html) <= limit or _max_depth(html) <= limit:
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


#: End tags the bound subtracts: elements that :func:`_max_depth` counts (not flat), those
#: most pages close; any other end tag is simply not subtracted.
_CLOSED = frozenset(
    {
        *("div", "span", "font", "b", "i", "u", "s", "strong", "em", "small", "big", "sup"),
        *("sub", "ul", "ol", "dl", "section", "article", "center", "pre", "nav", "form"),
        *("blockquote", "o:p", "h1", "h2", "h3", "h4", "h5", "h6", "label", "script"),
        *("style", "title", "select", "button", "textarea", "object", "iframe", "noscript"),
    }
)
_SLICE = 1 << 22  # bytes of the page read at a time by the bound
_TERMINATORS = b" \t\n\x0c\r/>"  # bytes that end a tag name, as the tokenizer reads it


def _word(spelled: bytes) -> int:
    """Up to 8 bytes as the number :func:`_names` reads (little-endian, zero-padded)."""
    return int.from_bytes(spelled.ljust(8, b"\0"), "little")


def _name_keys() -> dict[int, int]:
    """The tag names the bound knows, each with the byte that ends it, as 8-byte numbers:
    kind 1 (flat) for every terminator, kind 2 (closed) only before ">" (an end tag with
    anything else after its name may not be a tag at all: ``</div <x>``)."""
    keys = {}
    for name in _FLAT:
        for end in _TERMINATORS:
            if len(name) < 8:
                keys[_word(name.encode() + bytes([end]))] = 1
    for name in _CLOSED:
        if len(name) < 8:
            keys[_word(name.encode() + b">")] = 2
    return keys


_BITS = 14  # a table of 16,384 slots for ~270 keys (128 KB of keys, 16 KB of kinds)


def _hash_table(keys: dict[int, int]) -> tuple[np.uint64, np.ndarray, np.ndarray]:
    """A multiplier that sends every key to its own slot of a ``2**_BITS`` table (found by
    a fixed search, so the same on every run), the keys by slot and their kinds by slot
    (0 in an empty slot)."""
    odd = 0x9E3779B97F4A7C15  # the golden ratio: a classic start
    while len({(k * odd % (1 << 64)) >> (64 - _BITS) for k in keys}) < len(keys):
        odd = (odd + 0x2545F4914F6CDD1D * 2) % (1 << 64) | 1
    slots = np.zeros(1 << _BITS, dtype="<u8")
    kinds = np.zeros(1 << _BITS, dtype=np.int8)
    for key, kind in keys.items():
        slot = (key * odd % (1 << 64)) >> (64 - _BITS)
        slots[slot], kinds[slot] = key, kind
    return np.uint64(odd), slots, kinds


_MULTIPLIER, _SLOTS, _KINDS = _hash_table(_name_keys())
_SHIFT = np.uint64(64 - _BITS)
#: What follows "<": 1 a start tag (a letter), 2 an end tag ("/"), 0 anything else.
_OPENS = np.zeros(256, dtype=np.int64)
_OPENS[[*range(ord("a"), ord("z") + 1), *range(ord("A"), ord("Z") + 1)]] = 1
_OPENS[ord("/")] = 2
#: The depth step of a tag by 3 × what follows "<" + the kind of its name:
#: a start tag steps in unless its name is flat, an end tag out only when closed.
_STEPS = np.array([0, 0, 0, 1, 0, 1, 0, 0, -1], dtype=np.int64)
_BYTES = 0x0101010101010101  # one in each byte of a word
_ONES, _HIGH = np.uint64(_BYTES), np.uint64(0x80 * _BYTES)
_BELOW_21, _SLASHES, _GTS = (np.uint64(c * _BYTES) for c in (0x21, ord("/"), ord(">")))
_LOWER = np.uint64(0x20 * _BYTES)
_U1, _U7 = np.uint64(1), np.uint64(7)


def _depth_bound(html: str | bytes, slice_bytes: int = _SLICE) -> int:
    """An upper bound of :func:`_max_depth`, computed with array operations over the tags
    (the exact count, a Python loop over the tags, takes several times as long). Read in
    slices of ``slice_bytes``, so its arrays stay small.

    Why it is never below :func:`_max_depth`: both walk the tags from depth 0, never below
    0, and take the deepest point. Where that count steps in (a start tag whose name is
    not flat), this one does too: a start tag steps out of the bound's count of flat
    tags only when its name, lower-cased, is a flat one followed by a byte that ends a
    name; then it is that flat tag for the tokenizer too (flat names are letters only,
    and the name's bytes are read raw up to the first white space, "/", ">" or byte
    below 0x21). Where this one steps out (``</div>``: a closed name followed at once by
    ">"), that one does too: ``</div>`` is always a tag, and ``div`` is not flat. Every
    other tag steps in here (unknown start tags, names over 7 bytes) or is left out (end
    tags). So each prefix of this walk steps in at least as often and out at most as
    often, and its floored depth is never lower.
    """
    data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    page = np.frombuffer(data + bytes(10), dtype=np.uint8)
    # the 8 bytes from each offset as one little-endian number (an unaligned view: no copy)
    words = np.ndarray((len(page) - 7,), dtype="<u8", buffer=page, strides=(1,))
    bound = depth = 0
    for offset in range(0, len(data), slice_bytes):
        at = np.flatnonzero(page[offset : min(offset + slice_bytes, len(data))] == ord("<"))
        if len(at) == 0:
            continue
        at += offset + 1
        opens = np.take(_OPENS, page[at])
        # every tag's name read once: after "<" for a start tag, after "</" for an end tag
        names = _names(words[at + (opens >> 1)])
        slots = (names * _MULTIPLIER) >> _SHIFT
        kinds = np.where(np.take(_SLOTS, slots) == names, np.take(_KINDS, slots), 0)
        walk = np.cumsum(np.take(_STEPS, opens * 3 + kinds))
        # never below 0: from ``depth``, the walk lifted by its lowest dip below -depth
        floored = walk - np.minimum(np.minimum.accumulate(walk), -depth)
        bound = max(bound, int(floored.max()))
        depth = int(floored[-1])
    return bound


def _names(words: np.ndarray) -> np.ndarray:
    """Each tag name (the 8 bytes after "<" or "</") up to and with the first byte that may
    end it (below 0x21, "/" or ">"), the name's bytes lower-cased and the bytes after that
    one zeroed: a number to look up among :func:`_name_keys`. Bit tricks on 8 bytes at once
    (the lowest byte flagged by each trick is exact; carries only flag bytes above it)."""
    ends = (words - _BELOW_21) & ~words  # bytes below 0x21
    for byte in (_SLASHES, _GTS):
        equal = words ^ byte  # 0 where the byte is "/" (">")
        ends |= (equal - _ONES) & ~equal
    ends &= _HIGH
    lowest = ends & (~ends + _U1)  # the high bit of the first ending byte (0: none)
    kept = (lowest << _U1) - _U1  # the bytes up to that one (all 8 when none)
    name = (lowest >> _U7) - _U1  # the bytes before it
    return (words & kept) | (_LOWER & name)


def _max_depth(html: str | bytes) -> int:
    deepest = depth = 0
    for _, _, closing, _ in _tags(html):
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest
