"""AnHui LonSun (安徽龙讯) ``/public/column/{organId}`` platform, reference portal-families.md §4.6.

The vendor's own URL builder addresses an organ's 公开年报 as ``{prefix}/public/column/{organId}
?type=3&action=list`` (``PublicTypeEnum`` 3 = 公开年报); an organ id comes from the portal's
信息公开 links (``/public/column/{organId}?type=4&catId=…&action=list``), one per department.
The list page prints ``pageCount:N``; later pages come from ``/site/label/8888?IsAjax=1&
dataType=html&labelName=publicInfoList&siteId=…&pageSize=…&pageIndex=N&action=list&organId=…
&type=3&catId=&file=…`` (``siteId``/``file`` copied from the page). Reports are
``/public/{organId}/{contentId}.html``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from pipeline.crawl.families import static
from pipeline.crawl.families.base import MAX_ENTRIES, Cursor, Entry, Listing, Request
from pipeline.crawl.links import extract_links, normalise_url

NAME = "lonsun"

_COLUMN = re.compile(r"""["']((?:https?://[^\s"'/]+)?(/[\w\-/]*?)?/public/column/(\d+))[?"'#]""")
_PAGE_COUNT = re.compile(r"""\bpageCount\s*["']?\s*[:=]\s*["']?(\d+)""")
_SITE_ID = re.compile(r"""\bsiteId\s*["']?\s*[:=]\s*["']?(\d+)""")
_PAGE_SIZE = re.compile(r"""\bpageSize\s*["']?\s*[:=]\s*["']?(\d+)""")
_FILE = re.compile(r"""\bfile\s*["']?\s*[:=]\s*["']([^"']+)["']""")
_LABEL = "/site/label/8888"


def sniff(html: str, url: str) -> bool:
    return "/public/column/" in url or "/public/column/" in html or _LABEL in html


def is_report_list(url: str) -> bool:
    query = dict(parse_qsl(urlsplit(url).query))
    return query.get("type") == "3" or (_LABEL in url and query.get("type") == "3")


def entries(html: str, base: str) -> list[Entry]:
    """``?type=3&action=list`` for every organ the page links to (the county government
    first, as its 信息公开 links come first), unless the page is a 年报 list already."""
    if "/public/column/" not in html or is_report_list(base) or _LABEL in base:
        return []
    out: list[Entry] = []
    for match in _COLUMN.finditer(html):
        url = normalise_url(match.group(1) + "?type=3&action=list", base)
        if url and all(e.cursor.request.url != url for e in out):
            out.append(Entry(Cursor(Request(url, referer=base), NAME), "lonsun-type3"))
        if len(out) >= MAX_ENTRIES:
            break
    return out


def page_params(html: str) -> dict[str, str] | None:
    """``siteId``, ``pageSize`` and ``file`` of a type=3 list page (``None`` without siteId)."""
    site = _SITE_ID.search(html)
    if site is None:
        return None
    size = _PAGE_SIZE.search(html)
    file = _FILE.search(html)
    return {
        "site": site.group(1),
        "size": size.group(1) if size else "15",
        "file": file.group(1) if file else "",
    }


def label_request(column_url: str, params: dict[str, str], page: int) -> Request:
    """The AJAX request for 1-based page ``page`` of the type=3 list at ``column_url``."""
    parts = urlsplit(column_url)
    organ = re.search(r"/public/column/(\d+)", parts.path)
    query = dict(parse_qsl(parts.query))
    prefix = parts.path[: parts.path.find("/public/column/")] if organ else ""
    values = {
        "IsAjax": "1",
        "dataType": "html",
        "labelName": "publicInfoList",
        "siteId": params["site"],
        "pageSize": params["size"],
        "pageIndex": str(page),
        "action": "list",
        "organId": organ.group(1) if organ else query.get("organId", ""),
        "type": query.get("type", "3"),
        "catId": query.get("catId", ""),
        "file": params["file"],
    }
    url = f"{parts.scheme}://{parts.netloc}{prefix}{_LABEL}?{urlencode(values)}"
    return Request(url, referer=column_url, ajax=True)


def parse(html: str, cursor: Cursor) -> Listing:
    base = cursor.request.url
    if not is_report_list(base):
        return Listing(links=extract_links(html, base), entries=entries(html, base), family=NAME)
    on_column = _LABEL not in base
    links = extract_links(html, base)
    count_match = _PAGE_COUNT.search(html)
    count = int(count_match.group(1)) if count_match else cursor.total_pages
    if on_column:
        params = page_params(html)
        if params is None or count is None:
            return static.parse(html, cursor, NAME)  # no AJAX pager named: plain 下一页
        column = base
    else:
        # the AJAX answers repeat neither siteId nor file: they ride in the cursor
        params = {k: cursor.get(k) or "" for k in ("site", "size", "file")}
        column = cursor.get("column") or base
    current = cursor.page + 1
    if count is None or current >= count or not links:
        return Listing(links=links, family=NAME)
    request = label_request(column, params, current + 1)
    extra = (("column", column), *sorted(params.items()))
    return Listing(
        links=links, next=Cursor(request, NAME, cursor.page + 1, count, extra=extra), family=NAME
    )
