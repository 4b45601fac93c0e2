"""Guangdong 政府信息公开目录平台 (gkmlpt), on every Guangdong province, city and county site.

Contract (reference portal-families.md §4.1): ``{prefix}/gkmlpt/index`` is a Vue page whose
``window._CONFIG`` holds ``SID`` and the category ``TREE`` (nodes ``id, name, children,
jump_url``); the 年报 node's articles come from ``GET {prefix}/gkmlpt/api/all/{id}?page=N&sid=SID``
as JSON ``{"classify", "total", "offset", "articles": [...]}``, page 1-based, until
``offset + len(articles) >= total``; a page past the end may answer 404 or an empty list.
Articles with ``type == "url"`` jump to other sites and are skipped.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

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
from pipeline.crawl.links import Link, extract_links, is_column_label, normalise_url

NAME = "gkmlpt"

_GKMLPT_LINK = re.compile(r"""["'(]((?:https?://[^"'\s/]+)?(/[\w\-/]*?)?/gkmlpt/)""")
_CONFIG = re.compile(r"window\._CONFIG\s*=")
_SID = re.compile(r"""\bSID\s*["']?\s*:\s*["']?(\w+)""")
_TREE = re.compile(r"""\bTREE\s*["']?\s*:\s*\[""")
_ANNUAL = re.compile(r"/gkmlpt/annualreport#(\d+)")
_NODE = re.compile(r""""id"\s*:\s*(\d+)\s*,\s*"name"\s*:\s*"([^"]*)\"""")


def sniff(html: str, url: str) -> bool:
    return "/gkmlpt/" in url or "/gkmlpt/" in html


def prefix_of(url: str) -> str:
    """``http://host/dept`` for ``http://host/dept/gkmlpt/index``: sub-sites of
    departments and towns sit under a path prefix on the district host."""
    parts = urlsplit(url)
    path = parts.path
    cut = path.find("/gkmlpt/")
    prefix = path[:cut] if cut >= 0 else ""
    return f"{parts.scheme}://{parts.netloc}{prefix}"


def api_request(prefix: str, classify_id: str, sid: str | None, page: int, referer: str) -> Request:
    query: dict[str, str | int] = {"page": page}
    if sid:
        query["sid"] = sid
    return Request(
        f"{prefix}/gkmlpt/api/all/{classify_id}?{urlencode(query)}", referer=referer, ajax=True
    )


def _balanced(text: str, start: int) -> str | None:
    """The JSON array starting at ``text[start] == '['`` (string-aware bracket matching)."""
    depth, in_str, escape = 0, False, False
    for i in range(start, min(len(text), start + 2_000_000)):
        ch = text[i]
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


def tree_nodes(html: str) -> list[dict[str, Any]]:
    """Every node of ``window._CONFIG.TREE`` (flattened), or the id/name pairs a regex finds
    when the tree is not strict JSON."""
    match = _TREE.search(html)
    if match is None:
        return []
    raw = _balanced(html, match.end() - 1)
    nodes: list[dict[str, Any]] = []
    try:
        tree = json.loads(raw) if raw else None
    except ValueError:
        tree = None
    if isinstance(tree, list):
        stack = list(tree)
        while stack and len(nodes) < 5000:
            node = stack.pop(0)
            if isinstance(node, dict):
                nodes.append(node)
                children = node.get("children")
                if isinstance(children, list):
                    stack.extend(children)
        return nodes
    return [{"id": i, "name": n} for i, n in _NODE.findall(raw or "")]


def report_nodes(html: str) -> list[str]:
    """Ids of the 年报 categories: TREE nodes named like a 年报 column (jump nodes skipped),
    else the id of an ``annualreport#{id}`` link."""
    ids: list[str] = []
    for node in tree_nodes(html):
        name = as_str(node.get("name"))
        if as_str(node.get("jump_url")) or not is_column_label(name):
            continue
        node_id = as_int(node.get("id"))
        if node_id is not None and str(node_id) not in ids:
            ids.append(str(node_id))
    if not ids:
        ids = list(dict.fromkeys(_ANNUAL.findall(html)))
    return ids


def _entries(html: str, base: str) -> list[Entry]:
    if _CONFIG.search(html):
        sid_match = _SID.search(html)
        sid = sid_match.group(1) if sid_match else None
        prefix = prefix_of(base)
        return [
            Entry(
                Cursor(
                    api_request(prefix, node, sid, 1, base),
                    NAME,
                    extra=(("classify", node), ("sid", sid or ""), ("prefix", prefix)),
                ),
                how="gkmlpt-tree",
            )
            for node in report_nodes(html)
        ]
    # a portal page linking to the platform: its index is where the tree is
    out: list[Entry] = []
    for match in _GKMLPT_LINK.finditer(html):
        url = normalise_url(match.group(1) + "index", base)
        if url and all(e.cursor.request.url != url for e in out):
            out.append(Entry(Cursor(Request(url, referer=base), NAME), "gkmlpt-index", False))
        if len(out) >= 3:
            break
    return out


def entries(html: str, base: str) -> list[Entry]:
    """The 年报 list of a gkmlpt index page, or the index a portal page links to."""
    if "gkmlpt" not in html:
        return []
    return _entries(html, base)


def _date(value: Any) -> str | None:
    stamp = as_int(value)
    if stamp is None or not 0 < stamp < 4_102_444_800:
        return None
    return datetime.fromtimestamp(stamp, UTC).date().isoformat()


def parse_api(data: Any, cursor: Cursor) -> Listing:
    """One page of ``api/all/{id}``: its articles and the next page while ``offset +
    len(articles) < total``."""
    if not isinstance(data, dict):
        return Listing(family=NAME)
    articles = data.get("articles")
    articles = articles if isinstance(articles, list) else []
    base = cursor.request.url
    links: list[Link] = []
    for item in articles[:MAX_RECORDS]:
        if not isinstance(item, dict) or as_str(item.get("type")) == "url":
            continue  # external jump: the document lives on another site
        url = normalise_url(as_str(item.get("url")) or as_str(item.get("post_url")), base)
        title = as_str(item.get("title"))
        if url and title:
            date = _date(item.get("create_time")) or _date(item.get("date"))
            links.append(Link(url=url, title=title, date=date))
    total = as_int(data.get("total"))
    page = as_int(dict(_query(base)).get("page"), 1) or 1
    offset = as_int(data.get("offset"))
    if offset is None:
        offset = (page - 1) * len(articles)
    if not articles or total is None or offset + len(articles) >= total:
        return Listing(links=links, family=NAME)
    classify = cursor.get("classify") or ""
    prefix = cursor.get("prefix") or prefix_of(base)
    request = api_request(
        prefix, classify, cursor.get("sid"), page + 1, cursor.request.referer or base
    )
    per_page = max(len(articles), 1)
    pages = -(-total // per_page)
    nxt = Cursor(request, NAME, cursor.page + 1, pages, extra=cursor.extra)
    return Listing(links=links, next=nxt, family=NAME)


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def parse(html: str, cursor: Cursor) -> Listing:
    if "/gkmlpt/api/" in cursor.request.url:
        return parse_api(load_json(html), cursor)
    links = extract_links(html, cursor.request.url)
    return Listing(links=links, entries=_entries(html, cursor.request.url), family=NAME)
