"""Listing pages of the CMS families (TRS, Hanweb, static 下一页 paging): the links on a
page and the request for the next page. Pure functions of the page text."""

from __future__ import annotations

import html as htmlmod
import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline.crawl.links import HREF_RE, Link, extract_links, normalise_url

_TRS_ARTICLE = re.compile(r"/t\d{8}_\d+\.s?html?\b")
_COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*['\"]?(\d+)")


def sniff_family(html: str) -> str:
    if "<datastore>" in html or "dataproxy.jsp" in html:
        return "hanweb"
    if "createPageHTML(" in html or _COUNT_PAGE.search(html) or _TRS_ARTICLE.search(html):
        return "trs"
    return "static"


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
    page: int = 0  # 0-based
    total_pages: int | None = None
    # hanweb dataproxy
    proxy_url: str | None = None
    proxy_params: tuple[tuple[str, str], ...] = ()
    per_page: int | None = None
    total_records: int | None = None
    start: int = 1


@dataclass(slots=True)
class Listing:
    links: list[Link] = field(default_factory=list)
    next: Cursor | None = None


# TRS ---------------------------------------------------------------------------------

_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*(?:,\s*['\"]([\w\-]+)['\"]"
    r"\s*,\s*['\"](\w+)['\"])?"
)
_CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*['\"]?(\d+)")
_TRS_PAGE_URL = re.compile(r"^(?P<prefix>[\w\-]+?)(?:_(?P<n>\d+))?\.(?P<ext>s?html?)$")


def trs_pages(html: str) -> tuple[int | None, str | None, str | None]:
    """(page count, file prefix, extension) from ``createPageHTML``/``countPage``."""
    match = _CREATE_PAGE.search(html)
    if match:
        return int(match.group(1)), match.group(3), match.group(4)
    match = _COUNT_PAGE.search(html)
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


# Hanweb --------------------------------------------------------------------------------

_DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.S | re.I)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.S | re.I)
_TOTAL_RECORDS = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)|<totalrecord>\s*(\d+)", re.I)
_PER_PAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)", re.I)
_PROXY_URL = re.compile(r"""proxyUrl\s*[:=]\s*['"]([^'"]+)['"]""")
_UNIT_ID = re.compile(r"unitid\s*[:=]\s*['\"]?(\d+)", re.I)
_COLUMN_ID = re.compile(r"columnid\s*[:=]\s*['\"]?(\d+)", re.I)
_WEB_ID = re.compile(r"webid\s*[:=]\s*['\"]?(\d+)", re.I)


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
    stores = _DATASTORE.findall(html)
    if not stores and "dataproxy.jsp" not in html:
        return None
    found = [r for s in stores for r in _RECORD.findall(s)]
    records = "\n".join(found)
    proxy_url: str | None = None
    params: list[tuple[str, str]] = []
    nextgroup = _NEXTGROUP.search(html)
    href = None
    if nextgroup:
        match = HREF_RE.search(nextgroup.group(1))
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


# Plain "下一页" -----------------------------------------------------------------------

_NEXT_TEXT = re.compile(r"^(下一页|下页|后一页|next|›|>|&gt;)$", re.IGNORECASE)


def next_page_link(html: str, base_url: str) -> str | None:
    tree = HTMLParser(html)
    for anchor in tree.css("a[href]"):
        text = " ".join(anchor.text(separator=" ").split())
        classes = (anchor.attributes.get("class") or "").split()
        if _NEXT_TEXT.match(text) or "next" in classes:
            url = normalise_url(anchor.attributes.get("href") or "", base_url)
            if url and url != base_url:
                return url
    return None


# Dispatch -------------------------------------------------------------------------------


def parse_listing(html: str, cursor: Cursor) -> Listing:
    """Links on one listing page and the cursor for the next page (if any)."""
    base = cursor.request.url
    family = cursor.family if cursor.family != "auto" else sniff_family(html)
    if family == "hanweb":
        store = hanweb_datastore(html, base)
        if store is not None:
            links = extract_links(store.records_html, base) if store.records_html else []
            if not store.records_html or cursor.proxy_url is None:
                # the column page itself: its ordinary links count too
                links += extract_links(html, base)
            proxy_url = cursor.proxy_url or store.proxy_url
            if proxy_url is None:
                return Listing(links=links)
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
                return Listing(links=links)
            nxt = Cursor(
                request=Request(url=""),
                family="hanweb",
                page=cursor.page + 1,
                proxy_url=proxy_url,
                proxy_params=cursor.proxy_params or store.proxy_params,
                per_page=per_page,
                total_records=total,
                start=start,
            )
            nxt = replace(nxt, request=hanweb_request(nxt, start, referer))
            return Listing(links=links, next=nxt)
        family = "static"
    links = extract_links(html, base)
    if family == "trs":
        count, prefix, ext = trs_pages(html)
        if count is not None:
            match = _CURRENT_PAGE.search(html)
            current = cursor.page if cursor.page else (int(match.group(1)) if match else 0)
            if current + 1 < count:
                url = trs_page_url(base, current + 1, prefix, ext)
                return Listing(
                    links=links,
                    next=Cursor(Request(url, referer=base), "trs", current + 1, count),
                )
            return Listing(links=links)
    nxt_url = next_page_link(html, base)
    if nxt_url:
        return Listing(
            links=links, next=Cursor(Request(nxt_url, referer=base), family, cursor.page + 1)
        )
    return Listing(links=links)
