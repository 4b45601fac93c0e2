"""Hanweb JCMS / JPAAS (集约化) columns (reference portal-families.md §4.3, portals.md §2.3).

The column page renders page 1 and a ``<div class="pagination" count="…" rows="…"
queryData="{'webId':…,'pageId':…,'tagId':…,'tplSetId':…}">``; later pages come from ``GET
/api-gateway/jpaas-publish-server/front/page/build/unit?…&paramJson={"pageNo":N,"pageSize":R}``
(X-Requested-With, Referer = the column) as ``{"success":true,"data":{"html":"<li>…"}}``.
A bare ``pageNo`` is ignored by the server (always page 1): the page must be in
``paramJson``. A ``tagId`` that answers 模板内容数据为空 is retried once with an empty tagId.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from pipeline.crawl.families.base import Cursor, Listing, Request, as_int, load_json
from pipeline.crawl.links import extract_links

NAME = "jpaas"
API = "/api-gateway/jpaas-publish-server/front/page/build/unit"

_QUERY_DATA = re.compile(r"\bqueryData\s*=\s*", re.I)
_DIV = re.compile(r"<div\b", re.I)
_MAX_TAG = 4000  # characters from a tag's start to its queryData attribute
_ATTR = re.compile(r"""\b(count|rows)\s*=\s*["']?(\d+)""", re.I)
_PAIR = re.compile(r"""['"](\w+)['"]\s*:\s*['"]([^'"]*)['"]""")
_EMPTY_TEMPLATE = "模板内容数据为空"


def sniff(html: str, url: str) -> bool:
    return "jpaas-publish-server" in html or "jpaas-publish-server" in url or "queryData=" in html


def pagination(html: str) -> tuple[dict[str, str], int | None, int | None]:
    """(queryData, record count, rows per page) of the column's pagination div."""
    found = _pagination_div(html)
    if found is None:
        return {}, None, None
    tag, value = found
    query = dict(_PAIR.findall(value.replace("&quot;", '"')))
    attrs = {k.lower(): int(v) for k, v in _ATTR.findall(tag)}
    return query, attrs.get("count"), attrs.get("rows")


def _pagination_div(html: str) -> tuple[str, str] | None:
    """(the tag, its queryData value unquoted) of the first ``<div ... queryData="...">``.

    Scanned by hand, not by one regex: ``<div\\b[^>]*queryData`` rescans the rest of the
    page from every ``<div`` (quadratic on a page of 20,000 unclosed ``<div class='``).
    """
    for match in _QUERY_DATA.finditer(html):
        start = html.rfind("<", max(0, match.start() - _MAX_TAG), match.start())
        if start < 0 or not _DIV.match(html, start) or ">" in html[start : match.start()]:
            continue
        quote = html[match.end() : match.end() + 1]
        if quote not in ('"', "'"):
            continue
        close = html.find(quote, match.end() + 1)
        end = html.find(">", close + 1) if close >= 0 else -1
        if end < 0:
            return None  # no later value or tag is closed either
        return html[start : end + 1], html[match.end() + 1 : close]
    return None


def api_request(column_url: str, query: dict[str, str], page: int, rows: int) -> Request:
    parts = urlsplit(column_url)
    params = {
        "parseType": "bulidstatic",  # sic: the platform's spelling
        "webId": query.get("webId", ""),
        "tplSetId": query.get("tplSetId", ""),
        "pageType": "column",
        "tagId": query.get("tagId", ""),
        "editType": "null",
        "pageId": query.get("pageId", ""),
        "paramJson": json.dumps({"pageNo": page, "pageSize": rows}, separators=(",", ":")),
    }
    url = f"{parts.scheme}://{parts.netloc}{API}?{urlencode(params)}"
    return Request(url, referer=column_url, ajax=True)


def _cursor(column: str, query: dict[str, str], page: int, rows: int, pages: int | None) -> Cursor:
    extra = (("column", column), ("rows", str(rows)), *sorted(query.items()))
    return Cursor(api_request(column, query, page, rows), NAME, page - 1, pages, extra=extra)


def parse_column(html: str, cursor: Cursor) -> Listing:
    base = cursor.request.url
    links = extract_links(html, base)
    query, count, rows = pagination(html)
    if not query or not count or not rows:
        return Listing(links=links, family=NAME)
    pages = -(-count // rows)
    if pages <= 1:
        return Listing(links=links, family=NAME)
    return Listing(links=links, next=_cursor(base, query, 2, rows, pages), family=NAME)


def parse_api(data: Any, cursor: Cursor) -> Listing:
    column = cursor.get("column") or cursor.request.referer or cursor.request.url
    query = {k: v for k, v in cursor.extra if k not in ("column", "rows", "retried")}
    rows = as_int(cursor.get("rows"), 15) or 15
    page = cursor.page + 1
    html = ""
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        html = str(data["data"].get("html") or "")
    failed = not isinstance(data, dict) or data.get("success") is False
    empty = failed or _EMPTY_TEMPLATE in html or not html.strip()
    if empty and query.get("tagId") and cursor.get("retried") is None:
        # the configured tagId lost its template: the platform answers for an empty one
        retry = _cursor(column, {**query, "tagId": ""}, page, rows, cursor.total_pages)
        return Listing(next=replace(retry, extra=(*retry.extra, ("retried", "1"))), family=NAME)
    links = extract_links(html, column) if html else []
    pages = cursor.total_pages
    _, count, per = pagination(html)
    if count and per:
        pages = -(-count // per)
    if not links or pages is None or page >= pages:
        return Listing(links=links, family=NAME)
    nxt = _cursor(column, query, page + 1, rows, pages)
    if cursor.get("retried"):
        nxt = replace(nxt, extra=(*nxt.extra, ("retried", "1")))
    return Listing(links=links, next=nxt, family=NAME)


def parse(html: str, cursor: Cursor) -> Listing:
    if API in cursor.request.url:
        return parse_api(load_json(html), cursor)
    return parse_column(html, cursor)
