"""Links on portal pages: their titles and dates, and which lead to reports, 年报 columns,
政府信息公开 hubs and attachments. Pure functions of the page text."""

from __future__ import annotations

import html as htmlmod
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from pipeline.dates import iso_date
from pipeline.titles import is_report_title
from pipeline.urls import canonical_url

COLUMN_TEXT = re.compile(
    r"^(政府)?(信息)?公开(工作)?(年报|年度报告)$|^(政府)?信息公开年度报告$|^年报$|^年度报告$"
)
HUB_TEXT = re.compile(r"^(政府|法定)?信息公开(平台|专栏|目录)?$|^政务公开$|^政府信息公开$")
#: Labels of a 年报 node in a catalogue tree (gkmlpt TREE, Hanweb xxgk tree.jsp): a few
#: more wordings than a navigation link uses, still never a single report's title.
COLUMN_LABEL = re.compile(
    r"^(政府)?(信息)?公开(工作)?(年报|年度报告)(专栏)?$|^(政府)?信息公开(工作)?年度报告$"
    r"|^(政务|政府)?(信息)?公开年报$|^年度报告$|^年报$|^(工作)?年报专栏$"
)
#: A sub-column per year inside a 年报 column (``2023年``, ``2023``, ``2023年度``, ``2023年报``).
YEAR_TEXT = re.compile(r"^((?:19|20)\d{2})\s*(年度?|年报|年度报告)?$")


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    title: str
    date: str | None = None


_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "#", "data:")


def normalise_url(href: str, base: str) -> str | None:
    href = htmlmod.unescape(href).strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    url, _ = urldefrag(urljoin(base, href))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    # gkmlpt mobile twins (mpost_) are the same document as post_; a session id or a
    # tracking parameter must not make one page a new URL every night
    return canonical_url(re.sub(r"/mpost_(\d+)\.html$", r"/post_\1.html", url))


def extract_links(html: str, base_url: str) -> list[Link]:
    """Every ``<a href>`` with its title (``title=`` preferred) and a nearby date: the
    date printed in the closest of its three nearest containers that holds no other link."""
    tree = HTMLParser(html)
    anchors = tree.css("a[href]")
    shared = _shared_containers(anchors)
    links: list[Link] = []
    urls: dict[str, str | None] = {}  # href -> URL: a page repeats its links
    for anchor in anchors:
        href = anchor.attributes.get("href") or ""
        if href not in urls:
            urls[href] = normalise_url(href, base_url)
        url = urls[href]
        if url is None:
            continue
        text = " ".join(anchor.text(separator=" ").split())
        title = (anchor.attributes.get("title") or "").strip()
        title = title or text
        date = None
        node = anchor.parent
        for _ in range(3):
            if node is None or node.mem_id in shared:
                break
            date = iso_date(node.text(separator=" "))
            if date:
                break
            node = node.parent
        links.append(Link(url=url, title=title, date=date))
    return links


def _shared_containers(anchors: list[Node]) -> set[int]:
    """Ids (``mem_id``) of the elements that hold two or more of ``anchors``.

    Each anchor climbs its ancestors until it meets one already known to be shared: an
    element goes from unseen to held-by-one to shared once, so the work is linear in the
    page (asking every container for its links is quadratic on a list of 20,000 links).
    """
    holder: dict[int, int] = {}  # element -> the one anchor seen inside it so far
    shared: set[int] = set()
    for anchor in anchors:
        node = anchor.parent
        while node is not None and node.mem_id not in shared:
            first = holder.setdefault(node.mem_id, anchor.mem_id)
            if first != anchor.mem_id:
                shared.add(node.mem_id)
            node = node.parent
    return shared


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


def is_column_label(label: str) -> bool:
    """True for the label of a 年报 node in a catalogue tree (not a report title)."""
    return bool(COLUMN_LABEL.match(re.sub(r"\s+", "", label)))


def year_links(links: list[Link]) -> list[Link]:
    """Links to one sub-column per year (text ``2023年``), as 年报 columns often have."""
    return [lk for lk in links if YEAR_TEXT.match(lk.title.strip())]


def hub_links(links: list[Link]) -> list[Link]:
    """Links to a 政府信息公开 page, from which the 年报 column is found."""
    return [lk for lk in links if HUB_TEXT.match(lk.title.strip())]


_ATTACHMENT_EXT = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".ofd", ".zip")
#: ``href=`` in any case, spelled out: with re.IGNORECASE, Python's re tries the pattern
#: at every character; a set of two letters first is searched 25% faster (same matches).
HREF_RE = re.compile(r"""[hH][rR][eE][fF]\s*=\s*\\?["']([^"'\\]+)\\?["']""")


# gkmlpt's window._CONFIG.DETAIL and other JSON carry attachments as "url": "..." strings
_JSON_URL_RE = re.compile(
    r"""\\?["'](?:url|path|href|file|fileUrl|file_url|link|download_url)\\?["']\s*:\s*"""
    r"""\\?["']((?:https?:)?[^"'\s]+?)\\?["']""",
    re.IGNORECASE,
)
#: What every match of _JSON_URL_RE contains (a quoted key, a colon, a quote): a page
#: without it, as most report pages are, skips the slower search. Searched from the colon
#: (a literal is found quickly; a quote starts every attribute value), the quote before
#: it checked by :func:`_json_pair`: 0.13 ms a page instead of 0.39 ms.
_COLON_QUOTE = re.compile(r""":\s*\\?["']""")
_IFRAME_RE = re.compile(r"""<iframe\b[^<>]*?\ssrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


_JS_REDIRECT = re.compile(
    r"""(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*["']([^"']+)["']"""
    r"""|location\.replace\(\s*["']([^"']+)["']"""
    r"""|<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*url\s*=\s*['"]?([^"'>\s]+)""",
    re.IGNORECASE,
)


def page_redirect(html: str, base_url: str) -> str | None:
    """Where a small page sends the browser by script or ``<meta refresh>`` (county roots
    often do: ``location.href='/zwgk/index.shtml'``)."""
    if len(html) > 8192:
        return None
    match = _JS_REDIRECT.search(html)
    if match is None:
        return None
    url = normalise_url(next(g for g in match.groups() if g), base_url)
    return url if url != base_url else None


def iframe_links(html: str, base_url: str) -> list[str]:
    """``<iframe src>`` targets: some columns are shells whose list lives in an iframe."""
    out: dict[str, None] = {}  # ordered and de-duplicated in linear time
    for src in dict.fromkeys(_IFRAME_RE.findall(html)):
        url = normalise_url(src, base_url)
        if url and url != base_url:
            out[url] = None
    return list(out)


def is_attachment_url(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith(_ATTACHMENT_EXT) or "downfile.jsp" in path


def attachment_links(html: str, base_url: str) -> list[str]:
    """Attachment URLs on a report page, including those only written by a script
    (TRS ``var file_appendix='<a href=…>'``)."""
    out: dict[str, None] = {}  # ordered and de-duplicated in linear time
    found = HREF_RE.findall(html)
    if _json_pair(html):
        found += [u.replace("\\/", "/") for u in _JSON_URL_RE.findall(html)]
    for href in dict.fromkeys(found):
        if not _may_be_attachment(href):
            continue
        url = normalise_url(href, base_url)
        if url and is_attachment_url(url):
            out[url] = None
    return list(out)


#: What an attachment's href contains before it is normalised: part of its extension or
#: ``downfile``, or an escape (``%2E``, ``&#46;``) that may spell one. Most links of a
#: report page (navigation, other pages) have none, and skip the normalisation (w3lib),
#: which was most of the search's time.
_ATTACHMENT_HINTS = ("pdf", "doc", "wps", "xls", ".et", "ofd", "zip", "downfile", "%", "&")


def _may_be_attachment(href: str) -> bool:
    low = href.lower()
    return any(hint in low for hint in _ATTACHMENT_HINTS)


def _json_pair(html: str) -> bool:
    """Whether ``html`` has a quote, white space, a colon, white space, a quote (``"url":
    "``): each colon followed by a quote is checked for a quote before it (the white space
    walked back over lies between two colons, so the page is read about twice at most)."""
    for match in _COLON_QUOTE.finditer(html):
        before = match.start() - 1
        while before >= 0 and html[before].isspace():
            before -= 1
        if before >= 0 and html[before] in "\"'":
            return True
    return False
