"""The CMS families: per family, pure functions from a page (HTML or JSON text) and a
:class:`~pipeline.crawl.families.base.Cursor` to its links, the next page's request and
the 年报 entries it points to. :func:`parse_page` picks the family; the engine fetches.

Order matters: a page is read by the first family whose fingerprint it carries, most
specific first, and every family may add the 年报 entries it sees on any page.
"""

from __future__ import annotations

from types import ModuleType

from pipeline.crawl.families import (
    gkmlpt,
    hanweb,
    hanweb_xxgk,
    jpaas,
    lonsun,
    pclist,
    static,
    trs,
    ucap,
)
from pipeline.crawl.families.base import (
    MAX_ENTRIES,
    MAX_LISTING_PAGES,
    Cursor,
    Entry,
    Listing,
    Request,
)

#: Families in sniffing order; ``static`` reads whatever no other family claims.
REGISTRY: tuple[ModuleType, ...] = (
    gkmlpt,
    jpaas,
    hanweb,
    hanweb_xxgk,
    lonsun,
    ucap,
    pclist,
    trs,
    static,
)
BY_NAME = {m.NAME: m for m in REGISTRY}
NAMES: tuple[str, ...] = tuple(BY_NAME)
#: Families that point to 年报 entries from pages of any family (a portal root on one
#: CMS linking to a catalogue platform on another).
DISCOVERERS: tuple[ModuleType, ...] = (gkmlpt, hanweb_xxgk, lonsun)

__all__ = [
    "MAX_ENTRIES",
    "MAX_LISTING_PAGES",
    "NAMES",
    "Cursor",
    "Entry",
    "Listing",
    "Request",
    "parse_page",
    "sniff_family",
]


def sniff_family(html: str, url: str = "") -> str:
    """The family whose fingerprint the page carries first (``static`` when none)."""
    for module in REGISTRY:
        if module.sniff(html, url):
            return str(module.NAME)
    return static.NAME


def parse_page(html: str, cursor: Cursor) -> Listing:
    """Links on one listing page, the cursor for its next page, the 年报 entries it points
    to; paging stops at :data:`MAX_LISTING_PAGES` with ``capped`` saying so."""
    url = cursor.request.url
    name = cursor.family if cursor.family in BY_NAME else sniff_family(html, url)
    listing: Listing | None = BY_NAME[name].parse(html, cursor)
    if listing is None:  # a Hanweb column without its datastore reads as a static page
        listing = static.parse(html, cursor)
    known = {e.cursor.request.key for e in listing.entries}
    for module in DISCOVERERS:
        if listing.family == module.NAME or cursor.request.ajax:
            continue  # list answers (JSON, fragments) point to no other platform
        for entry in module.entries(html, url):
            if entry.cursor.request.key not in known:
                known.add(entry.cursor.request.key)
                listing.entries.append(entry)
    del listing.entries[MAX_ENTRIES:]
    nxt = listing.next
    if nxt is not None and nxt.page >= MAX_LISTING_PAGES:
        listing.next = None
        listing.capped = f"listing page cap {MAX_LISTING_PAGES} hit"
    return listing
