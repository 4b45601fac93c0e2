"""Hanweb (大汉) JCMS columns: the first records embedded in a ``<datastore>``, the rest
from ``/module/web/jpage/dataproxy.jsp`` (POST, ``startrecord/endrecord/perpage``)."""

from __future__ import annotations

import html as htmlmod
import re
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from pipeline.crawl.families.base import Cursor, Listing, Request, between
from pipeline.crawl.links import HREF_RE, extract_links

NAME = "hanweb"

# Opening and closing tags, read by ``between`` (linear where ``(.*?)`` is not).
_DATASTORE = (re.compile(r"<datastore>", re.I), re.compile(r"</datastore>", re.I))
_RECORD = (re.compile(r"<record>\s*<!\[CDATA\[", re.I), re.compile(r"\]\]>\s*</record>", re.I))
_NEXTGROUP = (re.compile(r"<nextgroup>\s*<!\[CDATA\[", re.I), re.compile(r"\]\]>"))
_TOTAL_RECORDS = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)|<totalrecord>\s*(\d+)", re.I)
_PER_PAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)", re.I)
_PROXY_URL = re.compile(r"""proxyUrl\s*[:=]\s*['"]([^'"]+)['"]""")
_UNIT_ID = re.compile(r"unitid\s*[:=]\s*['\"]?(\d+)", re.I)
_COLUMN_ID = re.compile(r"columnid\s*[:=]\s*['\"]?(\d+)", re.I)
_WEB_ID = re.compile(r"webid\s*[:=]\s*['\"]?(\d+)", re.I)


def sniff(html: str, url: str) -> bool:
    return "<datastore>" in html or "dataproxy.jsp" in html


@dataclass(frozen=True, slots=True)
class Datastore:
    records_html: str
    proxy_url: str | None
    proxy_params: tuple[tuple[str, str], ...]
    total_records: int | None
    per_page: int | None
    record_count: int = 0


def hanweb_datastore(html: str, base_url: str) -> Datastore | None:
    """Records, proxy URL/params and totals of a Hanweb jpage page or dataproxy answer."""
    stores = between(html, *_DATASTORE)
    if not stores and "dataproxy.jsp" not in html:
        return None
    found = [r for s in stores for r in between(s, *_RECORD)]
    records = "\n".join(found)
    proxy_url: str | None = None
    params: list[tuple[str, str]] = []
    nextgroup = between(html, *_NEXTGROUP)[:1]
    href = None
    if nextgroup:
        match = HREF_RE.search(nextgroup[0])
        href = htmlmod.unescape(match.group(1)) if match else None
    if href is None:
        match = _PROXY_URL.search(html)
        href = match.group(1) if match else None
    if href:
        parts = urlsplit(urljoin(base_url, href))
        proxy_url = f"{parts.scheme}://{parts.netloc}{parts.path}"
        seen: set[str] = set()
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in seen or key in ("page", "startrecord", "endrecord", "perpage"):
                continue
            seen.add(key)
            params.append((key, value))
        names = {k for k, _ in params}
        for key, pattern in (("unitid", _UNIT_ID), ("columnid", _COLUMN_ID), ("webid", _WEB_ID)):
            if key not in names and (m := pattern.search(html)):
                params.append((key, m.group(1)))
    total = None
    match = _TOTAL_RECORDS.search(html)
    if match:
        total = int(match.group(1) or match.group(2))
    per_page = None
    match = _PER_PAGE.search(html)
    if match:
        per_page = int(match.group(1))
    return Datastore(records, proxy_url, tuple(params), total, per_page, len(found))


def hanweb_request(cursor: Cursor, start: int, referer: str) -> Request:
    """The dataproxy request for the window starting at record ``start`` (1-based).

    Sends both ``page`` and ``startrecord/endrecord/perpage``: installs differ in which
    they honour.
    """
    per_page = cursor.per_page or 15
    window = per_page * 3
    end = start + window - 1
    page = (start - 1) // per_page + 1
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": per_page})
    data = (("col", "1"), *[(k, v) for k, v in cursor.proxy_params if k != "col"])
    data = (*data, ("page", str(page)))
    assert cursor.proxy_url is not None
    return Request(
        url=f"{cursor.proxy_url}?{query}", method="POST", data=data, referer=referer, ajax=True
    )


def parse(html: str, cursor: Cursor) -> Listing | None:
    """``None`` when the page carries no datastore (the caller reads it as static)."""
    base = cursor.request.url
    store = hanweb_datastore(html, base)
    if store is None:
        return None
    links = extract_links(store.records_html, base) if store.records_html else []
    if not store.records_html or cursor.proxy_url is None:
        # the column page itself: its ordinary links count too
        links += extract_links(html, base)
    proxy_url = cursor.proxy_url or store.proxy_url
    if proxy_url is None:
        return Listing(links=links, family=NAME)
    per_page = cursor.per_page or store.per_page or 15
    total = store.total_records or cursor.total_records
    if cursor.proxy_url is None:
        # page 1 was embedded in the column page; the proxy starts after it
        start = store.record_count + 1
        referer = base
    else:
        start = cursor.start + per_page * 3
        referer = cursor.request.referer or base
    if total is not None and start > total:
        return Listing(links=links, family=NAME)
    nxt = Cursor(
        request=Request(url=""),
        family=NAME,
        page=cursor.page + 1,
        proxy_url=proxy_url,
        proxy_params=cursor.proxy_params or store.proxy_params,
        per_page=per_page,
        total_records=total,
        start=start,
    )
    nxt = replace(nxt, request=hanweb_request(nxt, start, referer))
    return Listing(links=links, next=nxt, family=NAME)
