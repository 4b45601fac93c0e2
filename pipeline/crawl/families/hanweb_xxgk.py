"""Hanweb 信息公开 module ``/module/xxgk/*.jsp`` (portal-families.md §4.2, portals.md §2.2).

A catalogue shell loads its tree from ``tree.jsp?standardXxgk=1&area=…`` (an iframe) and its
list from ``search.jsp`` (``loadDynamic('/module/xxgk/search.jsp?…', 'divN')``). Tree nodes
are ``funclick('{infotypeId}')`` + label; the 年报 node's list is ``POST search.jsp`` with the
form ``infotypeId, jdid, area, divid, sortfield, currpage=N`` (older installs) or ``GET
search.jsp?infotypeId=…&area=…&fbtime=…&currpage=N`` (the query-string variant). Rows are
``tr.tr_main_value_odd|even > td > a[title]`` or ``div.zfxxgk_list_con li > a + span``.
"""

from __future__ import annotations

import html as htmlmod
import re
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline.crawl.families.base import Cursor, Entry, Listing, Request
from pipeline.crawl.links import extract_links, is_column_label, normalise_url

NAME = "hanweb_xxgk"

_TREE_URL = re.compile(r"""["']([^"']*/module/xxgk/tree\.jsp[^"']*)["']""")
_SEARCH_URL = re.compile(r"""["']([^"']*/module/xxgk/search\.jsp\?[^"']*)["']""")
_FUNCLICK = re.compile(r"""funclick\(\s*['"]([\w\-]+)['"]""")
_JDID = re.compile(r"""\bjdid\s*[=:]\s*['"]?(\d+)""")
_TOTAL_PAGES = re.compile(r"共\s*(\d+)\s*页|/\s*(\d+)\s*页|totalpage\s*[=:]\s*['\"]?(\d+)", re.I)


def sniff(html: str, url: str) -> bool:
    return "/module/xxgk/" in url or "/module/xxgk/" in html or "vc_xxgkarea" in html


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in changes]
    query += list(changes.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _param(url: str, name: str) -> str:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)).get(name, "")


def shell_entries(html: str, base: str) -> list[Entry]:
    """From a catalogue shell: the tree (to find the 年报 node in) and, when the shell is the
    年报 column itself, the list it loads (a search.jsp URL naming an ``infotypeId``)."""
    out: list[Entry] = []
    for match in _SEARCH_URL.finditer(html):
        url = normalise_url(htmlmod.unescape(match.group(1)), base)
        if url and _param(url, "infotypeId"):
            url = _with_query(url, currpage="1")
            cursor = Cursor(Request(url, referer=base, ajax=True), NAME, extra=(("form", "get"),))
            out.append(Entry(cursor, "xxgk-search"))
            break
    for match in _TREE_URL.finditer(html):
        url = normalise_url(htmlmod.unescape(match.group(1)), base)
        if url:
            out.append(Entry(Cursor(Request(url, referer=base), NAME), "xxgk-tree", False))
            break
    return out


def tree_nodes(html: str) -> list[tuple[str, str]]:
    """(infotypeId, label) of every ``funclick`` node of a tree.jsp page."""
    tree = HTMLParser(html)
    out: list[tuple[str, str]] = []
    for node in tree.css("[onclick], a[href]"):
        attrs = node.attributes
        found = _FUNCLICK.search((attrs.get("onclick") or "") + " " + (attrs.get("href") or ""))
        if found:
            label = (attrs.get("title") or "").strip() or " ".join(node.text().split())
            out.append((found.group(1), label))
    return out


def tree_entries(html: str, base: str) -> list[Entry]:
    """The search.jsp POST for every 年报 node of a tree.jsp page."""
    area = _param(base, "area")
    divid = _param(base, "divid") or "div1"
    jdid_match = _JDID.search(html) or _JDID.search(base)
    jdid = jdid_match.group(1) if jdid_match else ""
    search = urljoin(base, "search.jsp")
    out: list[Entry] = []
    for infotype, label in tree_nodes(html):
        if not is_column_label(label):
            continue
        form = (
            ("infotypeId", infotype),
            ("jdid", jdid),
            ("area", area),
            ("divid", divid),
            ("standardXxgk", _param(base, "standardXxgk") or "1"),
            ("sortfield", "compaltedate:0"),
            ("currpage", "1"),
        )
        request = Request(search, method="POST", data=form, referer=base, ajax=True)
        out.append(Entry(Cursor(request, NAME, extra=(("form", "post"),)), "xxgk-tree"))
    return out


def entries(html: str, base: str) -> list[Entry]:
    if "/module/xxgk/" not in html and "/module/xxgk/" not in base:
        return []
    if "/module/xxgk/tree.jsp" in base:
        return tree_entries(html, base)
    if "/module/xxgk/search.jsp" in base:
        return []
    return shell_entries(html, base)


def total_pages(html: str) -> int | None:
    match = _TOTAL_PAGES.search(HTMLParser(html).text(separator=" ") if "<" in html else html)
    if match is None:
        return None
    return int(next(g for g in match.groups() if g))


def next_request(request: Request, page: int) -> Request:
    """The same search for 1-based page ``page`` (form field or query parameter)."""
    if request.method == "POST":
        data = tuple((k, str(page) if k == "currpage" else v) for k, v in request.data)
        if "currpage" not in dict(data):
            data = (*data, ("currpage", str(page)))
        return replace(request, data=data)
    return replace(request, url=_with_query(request.url, currpage=str(page)))


def parse_search(html: str, cursor: Cursor) -> Listing:
    """One search.jsp answer: its rows and the next page while pages remain."""
    base = cursor.request.url
    links = extract_links(html, base)
    current = cursor.page + 1  # currpage is 1-based
    count = total_pages(html) or cursor.total_pages
    rows = [lk for lk in links if "/module/xxgk/" not in lk.url]
    if not rows or (count is not None and current >= count):
        return Listing(links=links, family=NAME)
    nxt = Cursor(
        next_request(cursor.request, current + 1), NAME, cursor.page + 1, count, extra=cursor.extra
    )
    return Listing(links=links, next=nxt, family=NAME)


def parse(html: str, cursor: Cursor) -> Listing:
    base = cursor.request.url
    if "/module/xxgk/search.jsp" in base:
        return parse_search(html, cursor)
    return Listing(links=extract_links(html, base), entries=entries(html, base), family=NAME)
