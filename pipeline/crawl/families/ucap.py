"""The ``/{site}/c{N}/*.shtml`` platform (UCAP-style; 黑龙江, 新疆, 四川 …), reference
portal-families.md §4.5.

Columns are ``/{site}/c{N}/{list|zfxxgk_list|…}.shtml``, articles
``/{site}/c{N}/{YYYYMM}/{hex}.shtml``; a column's JSON list is ``GET
/common/search/{channelUuid}?page=P&_pageSize=N&_isAgg=true&_isJson=true&_template=index``
(variants ``/search/{uuid}``, ``/searchList/{uuid}``) answering ``{"data": {"total", "page",
"rows", "results": [{"title", "url", "publishedTimeStr", …}]}}``; without it the static
pages ``list.shtml``, ``list_2.shtml`` … The 年报 column often has one sub-channel per year.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from pipeline.crawl.families import static
from pipeline.crawl.families.base import (
    MAX_RECORDS,
    Cursor,
    Entry,
    Listing,
    Request,
    as_int,
    as_str,
    load_json,
)
from pipeline.crawl.links import Link, extract_links, normalise_url

NAME = "ucap"
PAGE_SIZE = 20

_MARKERS = ("UCAPCONTENT", "UCAP-CONTENT", "UCAPTITLE", "/common/search/")
# a channel page or an article of one: /{site}/c{N}/{name}.shtml, /{site}/c{N}/{YYYYMM}/{hex}.shtml
_CHANNEL_URL = re.compile(r"""/[\w\-]+/c\d+c?/(?:\d{6}/|\d{4}/\d{2}/\d{2}/)?[\w\-]+\.shtml\b""")
# The channel's search endpoint, as the column page's script names it (assumed: the
# reference says the uuid "must be read from the column page").
_SEARCH = re.compile(
    r"""((?:https?://[^\s"'/]+)?/(?:common/search|searchList|search)/([0-9a-fA-F]{32}))"""
)
_PAGE_COUNT = re.compile(
    r"共\s*(\d+)\s*页|\b(?:pageCount|totalPage|countPage|pageTotal)\s*[:=]\s*['\"]?(\d+)", re.I
)
_LIST_NAME = re.compile(r"^(?P<stem>[\w\-]+?)(?:_(?P<n>\d+))?\.(?P<ext>s?html?)$")


def sniff(html: str, url: str) -> bool:
    if any(m in html for m in _MARKERS) or "/common/search/" in url:
        return True
    return bool(_CHANNEL_URL.search(url) or len(_CHANNEL_URL.findall(html)) >= 2)


def search_request(endpoint: str, page: int, referer: str) -> Request:
    url = f"{endpoint}?page={page}&_pageSize={PAGE_SIZE}&_isAgg=true&_isJson=true&_template=index"
    return Request(url, referer=referer, ajax=True)


def search_entry(html: str, base: str) -> Entry | None:
    match = _SEARCH.search(html)
    if match is None:
        return None
    endpoint = normalise_url(match.group(1), base)
    if endpoint is None:
        return None
    cursor = Cursor(search_request(endpoint, 1, base), NAME, extra=(("endpoint", endpoint),))
    return Entry(cursor, "ucap-search")


def page_count(html: str) -> int | None:
    match = _PAGE_COUNT.search(html)
    return int(next(g for g in match.groups() if g)) if match else None


def list_page_url(url: str, page: int) -> str:
    """1-based page ``page`` of a static list: ``list.shtml``, ``list_2.shtml`` …"""
    name = urlsplit(url).path.rsplit("/", 1)[-1] or "list.shtml"
    match = _LIST_NAME.match(name)
    stem, ext = (match.group("stem"), match.group("ext")) if match else ("list", "shtml")
    return urljoin(url, f"{stem}.{ext}" if page == 1 else f"{stem}_{page}.{ext}")


def parse_column(html: str, cursor: Cursor) -> Listing:
    base = cursor.request.url
    entry = search_entry(html, base)
    if entry is not None:
        # the JSON list is the whole column; the page's own rows (if any) are page 1 of it
        return Listing(links=extract_links(html, base), entries=[entry], family=NAME)
    listing = static.parse(html, cursor, NAME)
    if listing.next is not None:
        return listing
    count = page_count(html)
    current = cursor.page + 1
    if count is not None and current < count:
        url = list_page_url(base, current + 1)
        listing.next = Cursor(Request(url, referer=base), NAME, cursor.page + 1, count)
    return listing


def parse_search(data: Any, cursor: Cursor) -> Listing:
    body = data.get("data") if isinstance(data, dict) else None
    if not isinstance(body, dict):
        return Listing(family=NAME)
    results = body.get("results")
    results = results if isinstance(results, list) else []
    base = cursor.request.url
    links: list[Link] = []
    for item in results[:MAX_RECORDS]:
        if not isinstance(item, dict):
            continue
        url = normalise_url(as_str(item.get("url")), base)
        title = re.sub(r"<[^>]+>", "", as_str(item.get("title")))  # search highlights
        if url and title:
            date = as_str(item.get("publishedTimeStr"))[:10] or None
            links.append(Link(url=url, title=title, date=date))
    total = as_int(body.get("total"))
    page = cursor.page + 1  # our own count: a hostile "page" field must not steer paging
    rows = as_int(body.get("rows"), len(results)) or len(results) or PAGE_SIZE
    if not results or total is None or page * rows >= total:
        return Listing(links=links, family=NAME)
    endpoint = cursor.get("endpoint") or base.split("?", 1)[0]
    pages = -(-total // rows)
    referer = cursor.request.referer or base
    nxt = Cursor(search_request(endpoint, page + 1, referer), NAME, page, pages, extra=cursor.extra)
    return Listing(links=links, next=nxt, family=NAME)


def parse(html: str, cursor: Cursor) -> Listing:
    if cursor.get("endpoint"):
        return parse_search(load_json(html), cursor)
    return parse_column(html, cursor)


def entries(html: str, base: str) -> list[Entry]:
    return []
