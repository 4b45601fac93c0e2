"""Dates as reports and portals print them (2024-01-20, 2024年1月20日, 2024/1/20, 2024.01.20)."""

from __future__ import annotations

import re
from datetime import date

#: A printed date; spaces may stand around the separators (``2024 年 1 月 20 日``).
DATE = re.compile(r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")


def iso_date(text: str | None) -> str | None:
    """The first valid printed date in ``text`` as ``YYYY-MM-DD``, else ``None``."""
    if not text:
        return None
    for match in DATE.finditer(text):
        found = iso_from_match(match)
        if found:
            return found
    return None


def iso_from_match(match: re.Match[str]) -> str | None:
    """``YYYY-MM-DD`` from a match whose last three groups are year, month, day."""
    year, month, day = (int(g) for g in match.groups()[-3:])
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_iso_date(text: str | None) -> date | None:
    """A ``date`` from an ISO ``YYYY-MM-DD`` prefix, else ``None``."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
