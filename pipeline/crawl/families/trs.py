"""TRS WCM static publishing: ``index.html``, ``index_1.html`` … paged by ``createPageHTML``
or ``countPage``; articles ``./YYYYMM/tYYYYMMDD_{id}.html`` (reference portals.md §2.4)."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from pipeline.crawl.families import static
from pipeline.crawl.families.base import Cursor, Listing, Request
from pipeline.crawl.links import extract_links

NAME = "trs"

TRS_ARTICLE = re.compile(r"/t\d{8}_\d+\.s?html?\b")
COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*['\"]?(\d+)")
_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*(?:,\s*['\"]([\w\-]+)['\"]"
    r"\s*,\s*['\"](\w+)['\"])?"
)
_CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*['\"]?(\d+)")
_TRS_PAGE_URL = re.compile(r"^(?P<prefix>[\w\-]+?)(?:_(?P<n>\d+))?\.(?P<ext>s?html?)$")


def sniff(html: str, url: str) -> bool:
    return "createPageHTML(" in html or bool(COUNT_PAGE.search(html) or TRS_ARTICLE.search(html))


def trs_pages(html: str) -> tuple[int | None, str | None, str | None]:
    """(page count, file prefix, extension) from ``createPageHTML``/``countPage``."""
    match = _CREATE_PAGE.search(html)
    if match:
        return int(match.group(1)), match.group(3), match.group(4)
    match = COUNT_PAGE.search(html)
    if match:
        return int(match.group(1)), None, None
    return None, None, None


def trs_page_url(url: str, page: int, prefix: str | None, ext: str | None) -> str:
    """URL of 0-based page ``page`` in the same directory as ``url``."""
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    match = _TRS_PAGE_URL.match(name)
    prefix = prefix or (match.group("prefix") if match else "index")
    ext = ext or (match.group("ext") if match else "html")
    filename = f"{prefix}.{ext}" if page == 0 else f"{prefix}_{page}.{ext}"
    return urljoin(url, filename)


def parse(html: str, cursor: Cursor) -> Listing:
    base = cursor.request.url
    count, prefix, ext = trs_pages(html)
    if count is None:
        return static.parse(html, cursor, NAME)
    links = extract_links(html, base)
    match = _CURRENT_PAGE.search(html)
    current = cursor.page if cursor.page else (int(match.group(1)) if match else 0)
    if current + 1 < count:
        url = trs_page_url(base, current + 1, prefix, ext)
        nxt = Cursor(Request(url, referer=base), NAME, current + 1, count)
        return Listing(links=links, next=nxt, family=NAME)
    return Listing(links=links, family=NAME)
