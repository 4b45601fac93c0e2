"""What flows between the crawler and the family parsers: the request to make, where a
listing chain is (:class:`Cursor`), and what one listing page gave (:class:`Listing`).

Every family module is a set of pure functions of the page text (HTML or JSON) and a
cursor; none of them touches the network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pipeline.crawl.links import Link

#: Pages one listing chain may walk before it is cut (a hostile or broken pager claiming a
#: million pages must not keep the crawl busy forever); the summary says when it was hit.
MAX_LISTING_PAGES = 100
#: Records read from one JSON answer (a list API that returns 10^6 rows is read in part).
MAX_RECORDS = 500
#: 年报 entries one page may add (departments on a LonSun hub, year sub-columns ...).
MAX_ENTRIES = 60
#: Bytes of an answer handed to ``json.loads``: list answers are small, a huge one is garbage.
MAX_JSON_BYTES = 5 * 1024 * 1024


def between(text: str, opening: re.Pattern[str], closing: re.Pattern[str]) -> list[str]:
    """The text between each ``opening`` and the first ``closing`` after it.

    What ``re.findall(opening + "(.*?)" + closing)`` finds, in time linear in ``text``: the
    regex rescans to the end of the page for every unclosed opening (40,000 unclosed
    ``<datastore>`` tags in a 440 KB listing took minutes), while here the first opening
    with no ``closing`` after it ends the scan, as no later one can have one.
    """
    found: list[str] = []
    pos = 0
    while (start := opening.search(text, pos)) is not None:
        end = closing.search(text, start.end())
        if end is None:
            break
        found.append(text[start.end() : end.start()])
        pos = end.end()
    return found


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request the crawler may make; ``key`` identifies it in the state."""

    url: str
    method: str = "GET"
    data: tuple[tuple[str, str], ...] = ()
    referer: str | None = None
    ajax: bool = False

    @property
    def key(self) -> str:
        if self.method == "GET":
            return self.url
        return f"{self.method} {self.url} {urlencode(self.data)}"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a listing chain is: the request for this page and how to make the next."""

    request: Request
    family: str
    page: int = 0  # 0-based position in the chain
    total_pages: int | None = None
    # hanweb dataproxy
    proxy_url: str | None = None
    proxy_params: tuple[tuple[str, str], ...] = ()
    per_page: int | None = None
    total_records: int | None = None
    start: int = 1
    # what a family keeps between pages (gkmlpt sid, JPAAS queryData, UCAP uuid ...)
    extra: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        return dict(self.extra).get(name, default)

    def to_json(self) -> str:
        """The cursor as JSON, to remember a 年报 entry in the crawl state."""
        request = self.request
        return json.dumps(
            {
                "request": {
                    "url": request.url,
                    "method": request.method,
                    "data": [list(p) for p in request.data],
                    "referer": request.referer,
                    "ajax": request.ajax,
                },
                "family": self.family,
                "page": self.page,
                "total_pages": self.total_pages,
                "proxy_url": self.proxy_url,
                "proxy_params": [list(p) for p in self.proxy_params],
                "per_page": self.per_page,
                "total_records": self.total_records,
                "start": self.start,
                "extra": [list(p) for p in self.extra],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Cursor:
        raw = json.loads(text)
        req = raw["request"]

        def pairs(value: Any) -> tuple[tuple[str, str], ...]:
            return tuple((str(k), str(v)) for k, v in value or ())

        return cls(
            request=Request(
                url=req["url"],
                method=req.get("method", "GET"),
                data=pairs(req.get("data")),
                referer=req.get("referer"),
                ajax=bool(req.get("ajax")),
            ),
            family=raw.get("family", "auto"),
            page=int(raw.get("page") or 0),
            total_pages=raw.get("total_pages"),
            proxy_url=raw.get("proxy_url"),
            proxy_params=pairs(raw.get("proxy_params")),
            per_page=raw.get("per_page"),
            total_records=raw.get("total_records"),
            start=int(raw.get("start") or 1),
            extra=pairs(raw.get("extra")),
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """A page a family parser says to visit next that is not the next page of this list:
    the 年报 list it found (``column``), or a page to look for it on (a hub, a tree)."""

    cursor: Cursor
    how: str  # what found it: gkmlpt-tree, lonsun-type3, xxgk-tree, year-subcolumn ...
    column: bool = True  # a 年报 list (reports expected) rather than a page to search
    probe: bool = False  # a guess (slug folder): a 404 is an answer, not a failure


@dataclass(slots=True)
class Listing:
    links: list[Link] = field(default_factory=list)
    next: Cursor | None = None
    entries: list[Entry] = field(default_factory=list)
    family: str = "static"
    capped: str | None = None  # why paging stopped short of the end, if it did


def load_json(text: str) -> Any:
    """A JSON answer, or ``None`` for anything else (an HTML error page, garbage, a body
    too large to be a list answer). Some APIs wrap JSON in a JSONP callback."""
    if len(text) > MAX_JSON_BYTES:
        return None
    text = text.strip()
    if text and text[0] not in "[{":
        start = text.find("(")
        if start < 0 or not text.endswith((")", ");")):
            return None
        text = text[start + 1 : text.rstrip(";").rfind(")")]
    try:
        return json.loads(text)
    except ValueError:
        return None


def as_int(value: Any, default: int | None = None) -> int | None:
    """An integer from a JSON field that may be a number, a digit string or junk."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e15:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return default


def as_str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
