"""Text from the web made safe for a log line.

Titles, URLs, headers and reasons come from servers we do not control: a raw ESC starts
a terminal escape sequence, a CR or LF forges a second log line, bidi controls reorder
what a reader sees. :func:`printable` escapes every such character and caps the length.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, limit: int = 300) -> str:
    """``text`` with control, format and separator characters escaped (``\\x1b``,
    ``\\n``, ``\\u202e``), cut to ``limit`` characters of input with ``…`` marking a cut.
    Chinese and other printable text is kept as it is."""
    text = str(text)
    head = text[:limit]
    out = "".join(_escape(c) if unicodedata.category(c) in _ESCAPED else c for c in head)
    return out + "…" if len(text) > limit else out
