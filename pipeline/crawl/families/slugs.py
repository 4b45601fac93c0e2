"""Slug folders of static sites: when neither a family's entry nor a link's text leads to
the 年报 column, the usual folder names are tried (reference portals.md §0.2,
portal-families.md §3: ``zfxxgknb/ xxgknb/ gknb/ ndbg/``), under the site root and under
the 政府信息公开 pages the crawl met. Each is a guess: a 404 is an answer, not a failure."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

from pipeline.crawl.families.base import Cursor, Entry, Request

NAME = "slugs"
SLUGS = ("zfxxgknb/", "xxgknb/", "gknb/", "ndbg/")
#: Folder bases tried per portal (root, start URL's folder, hubs): 4 slugs each.
MAX_BASES = 3
#: Sibling portals' 年报 paths tried on this portal's host.
MAX_SIBLINGS = 3


def sibling_entries(cursors: Sequence[str], start_url: str) -> list[Entry]:
    """The paths where sibling portals (same prefecture) list their 年报 (their remembered
    entry cursors, as JSON), tried on this portal's host: GET entries only (a POST form or
    an API carries site-specific ids)."""
    origin = urljoin(start_url, "/")
    out: list[Entry] = []
    for text in cursors:
        cursor = Cursor.from_json(text)
        request = cursor.request
        if request.method != "GET" or request.ajax:
            continue
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        url = urljoin(origin, path)
        if path in ("", "/") or any(e.cursor.request.url == url for e in out):
            continue
        out.append(Entry(Cursor(Request(url), "auto"), "sibling-recipe", probe=True))
        if len(out) >= MAX_SIBLINGS:
            break
    return out


def folder(url: str) -> str:
    """The folder a page is in (``http://h/xxgk/index.html`` -> ``http://h/xxgk/``)."""
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path.rsplit("/", 1)[0] + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def probe_entries(pages: list[str]) -> list[Entry]:
    """Slug folders under the root of ``pages[0]``'s site and the folders of ``pages``."""
    bases: list[str] = []
    for page in pages:
        for base in (urljoin(page, "/"), folder(page)):
            if base not in bases:
                bases.append(base)
    out: list[Entry] = []
    for base in bases[:MAX_BASES]:
        for slug in SLUGS:
            url = urljoin(base, slug)
            out.append(Entry(Cursor(Request(url), "auto"), "slug-probe", probe=True))
    return out
