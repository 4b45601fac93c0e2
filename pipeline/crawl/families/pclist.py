"""The ``…/pc/list.html`` platform (自贡, 云南, 江西 萍乡, 河南), reference portal-families.md §4.9.

Columns ``/{site}/{col}/pc/list.html``, articles ``/{site}/c{col}/pc/content/content_{id}.html``
[reference]. The pager is not documented: we assume static pages ``list_2.html``,
``list_3.html`` … with the count printed as 共N页 or a ``pageCount``/``totalPage`` variable,
and follow a 下一页 link first when there is one.
"""

from __future__ import annotations

import re

from pipeline.crawl.families import static
from pipeline.crawl.families.base import Cursor, Listing, Request
from pipeline.crawl.families.ucap import list_page_url, page_count

NAME = "pclist"

_FINGERPRINT = re.compile(r"/pc/list(?:_\d+)?\.html|/pc/content/content_\d+\.html")


def sniff(html: str, url: str) -> bool:
    return bool(_FINGERPRINT.search(url) or _FINGERPRINT.search(html))


def parse(html: str, cursor: Cursor) -> Listing:
    listing = static.parse(html, cursor, NAME)
    if listing.next is not None or "/pc/list" not in cursor.request.url:
        return listing
    count = page_count(html)
    current = cursor.page + 1
    if count is not None and current < count:
        url = list_page_url(cursor.request.url, current + 1)
        base = cursor.request.url
        listing.next = Cursor(Request(url, referer=base), NAME, cursor.page + 1, count)
    return listing
