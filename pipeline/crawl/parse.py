"""Pure parsing of portal pages: decoding, links, report titles, pagination, blocks.

No I/O here. The crawler knows nothing of report table layouts: it only finds the
report pages and their attachments; :mod:`pipeline.extract` reads the tables.
"""

from __future__ import annotations

import html as htmlmod
import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

# --------------------------------------------------------------------------- titles

REPORT_TITLE = re.compile(
    r"(政府)?信息公开(工作)?(年度)?(报告|年报)|政务公开(工作)?年度报告|公开年报"
)
LOOKALIKE_TITLE = re.compile(r"(网站|政务新媒体|新媒体).*(报表|报告)|工作报表")
COLUMN_TEXT = re.compile(
    r"^(政府)?(信息)?公开(工作)?(年报|年度报告)$|^(政府)?信息公开年度报告$|^年报$|^年度报告$"
)
HUB_TEXT = re.compile(r"^(政府|法定)?信息公开(平台|专栏|目录)?$|^政务公开$|^政府信息公开$")
_YEAR = re.compile(r"(20\d{2}|19\d{2})\s*年")
_REPORT_PHRASE = re.compile(
    r"(?:关于)?\s*(?:(?:20|19)\d{2}\s*年(?:度)?)?\s*的?\s*"
    r"(?:政府信息公开工作年度报告|政府信息公开年度报告|信息公开工作年度报告|政务公开工作年度报告"
    r"|信息公开年度报告|政府信息公开年报|信息公开年报|年度报告|年报)\s*$"
)


def is_report_title(title: str, pattern: re.Pattern[str] | None = None) -> bool:
    """True for 政府信息公开年度报告-like titles, False for look-alikes (网站年度工作报表)."""
    title = title.strip()
    if not title:
        return False
    if pattern is not None:
        return bool(pattern.search(title))
    return bool(REPORT_TITLE.search(title)) and not LOOKALIKE_TITLE.search(title)


def title_year(title: str) -> int | None:
    match = _YEAR.search(title)
    return int(match.group(1)) if match else None


def title_agency(title: str) -> str | None:
    """The publishing unit named in a report title, if any.

    ``鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告`` -> ``鄂尔多斯市人民政府办公室``;
    ``2022年度柯城区政府信息公开工作年度报告`` -> ``柯城区``.
    """
    text = re.sub(r"\s+", "", title)
    text = re.sub(r"^[【\[(（]?(?:19|20)\d{2}\s*年(?:度)?[】\])）]?", "", text)
    text = _REPORT_PHRASE.sub("", text)
    text = re.sub(r"(?:19|20)\d{2}\s*年(?:度)?$", "", text).strip("：:-—_ 　")
    return text or None


# --------------------------------------------------------------------------- links


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    title: str
    date: str | None = None


_DATE = re.compile(r"((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "#", "data:")


def normalise_url(href: str, base: str) -> str | None:
    href = htmlmod.unescape(href).strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    url, _ = urldefrag(urljoin(base, href))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    # gkmlpt mobile twins (mpost_) are the same document as post_
    return re.sub(r"/mpost_(\d+)\.html$", r"/post_\1.html", url)


def _iso_date(text: str) -> str | None:
    match = _DATE.search(text)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def extract_links(html: str, base_url: str) -> list[Link]:
    """Every ``<a href>`` with its title (``title=`` preferred) and a nearby date."""
    tree = HTMLParser(html)
    links: list[Link] = []
    for anchor in tree.css("a[href]"):
        url = normalise_url(anchor.attributes.get("href") or "", base_url)
        if url is None:
            continue
        text = " ".join(anchor.text(separator=" ").split())
        title = (anchor.attributes.get("title") or "").strip()
        title = title or text
        date = None
        node = anchor.parent
        for _ in range(3):
            if node is None or len(node.css("a[href]")) > 1:
                break
            date = _iso_date(node.text(separator=" "))
            if date:
                break
            node = node.parent
        links.append(Link(url=url, title=title, date=date))
    return links


def report_links(links: list[Link], pattern: re.Pattern[str] | None = None) -> list[Link]:
    seen: set[str] = set()
    out: list[Link] = []
    for link in links:
        if link.url in seen or not is_report_title(link.title, pattern):
            continue
        if COLUMN_TEXT.match(link.title.strip()):
            continue  # the column itself, not a report
        seen.add(link.url)
        out.append(link)
    return out


def column_links(links: list[Link]) -> list[Link]:
    """Links to a 年报 column (政府信息公开年报, 信息公开年报, 年报…): text without a year."""
    return [lk for lk in links if COLUMN_TEXT.match(lk.title.strip())]


def hub_links(links: list[Link]) -> list[Link]:
    """Links to a 政府信息公开 page, from which the 年报 column is found."""
    return [lk for lk in links if HUB_TEXT.match(lk.title.strip())]


_ATTACHMENT_EXT = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".ofd", ".zip")
_HREF_RE = re.compile(r"""href\s*=\s*\\?["']([^"'\\]+)\\?["']""", re.IGNORECASE)


def is_attachment_url(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith(_ATTACHMENT_EXT) or "downfile.jsp" in path


def attachment_links(html: str, base_url: str) -> list[str]:
    """Attachment URLs on a report page, including those only written by a script
    (TRS ``var file_appendix='<a href=…>'``)."""
    out: list[str] = []
    for href in _HREF_RE.findall(html):
        url = normalise_url(href, base_url)
        if url and is_attachment_url(url) and url not in out:
            out.append(url)
    return out


# --------------------------------------------------------------------------- families

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
        match = _HREF_RE.search(nextgroup.group(1))
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


# --------------------------------------------------------------------------- blocks

_RS_MARKERS = (b"$_ts", b"r='m'", b'r="m"')
_JSL_MARKERS = (b"__jsl_clearance", b"__jsluid")
_WAF_MARKERS = (
    "安全狗".encode(),
    "云锁".encode(),
    "访问被拦截".encode(),
    "网站防火墙".encode(),
    "您的访问被阻断".encode(),
    b"yunsuo_session",
    b"Attention Required! | Cloudflare",
    b"cf-chl-",
    b"Web Application Firewall",
)


def classify_block(status: int, headers: dict[str, str], body: bytes) -> str | None:
    """The anti-bot wall this answer comes from, or ``None`` for an ordinary answer."""
    head = body[:16384]
    cookies = headers.get("set-cookie", "")
    if status in (412, 202) and any(m in head for m in _RS_MARKERS):
        return "rs-challenge"
    if status == 412:
        return "challenge-412"
    if status == 521:
        return "jsl-challenge"
    # 加速乐 fronts whole sites: its header and cookie come with ordinary 200 and 304
    # answers too, so they mark a challenge only on a refusal (not on 404/410, 429, 5xx)
    behind_jsl = "x-via-jsl" in headers or "__jsluid" in cookies
    if behind_jsl and 400 <= status < 500 and status not in (404, 410, 429):
        return "jsl-challenge"
    if len(body) < 8192 and (
        any(m in head for m in _JSL_MARKERS) or (behind_jsl and b"document.cookie" in head)
    ):
        return "jsl-challenge"  # a small page whose script sets the clearance cookie
    if b"$_ts" in head and len(body) < 16384 and status != 200:
        return "rs-challenge"
    small_or_refused = status in (403, 405, 406, 418, 429, 493, 503) or len(body) < 16384
    if small_or_refused and any(m in head for m in _WAF_MARKERS):
        return "waf"
    if status == 200 and b"$_ts" in head and b"<script" in head and len(body) < 8192:
        return "rs-challenge"
    return None


_SOFT_404 = re.compile("找不到|页面不存在|不存在或已被删除|404 Not Found|页面未找到|无法找到该页")


def is_soft_404(status: int, html: str) -> bool:
    """An HTTP 200 error page (small body saying 页面不存在/找不到/404)."""
    return status == 200 and len(html) < 2048 and bool(_SOFT_404.search(html))


def is_site_root(url: str) -> bool:
    path = urlsplit(url).path
    return path in ("", "/", "/index.html", "/index.htm", "/index.shtml", "/index.jsp")
