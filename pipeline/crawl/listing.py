"""Listing pages: the links on a page, the request for the next page and the 年报 entries
it points to. The families live in :mod:`pipeline.crawl.families` (one pure module each);
this module is the crawler's entry point to them and keeps the names other code imports."""

from __future__ import annotations

from pipeline.crawl.families import parse_page, sniff_family
from pipeline.crawl.families.base import Cursor, Entry, Listing, Request
from pipeline.crawl.families.hanweb import Datastore, hanweb_datastore, hanweb_request
from pipeline.crawl.families.static import next_page_link
from pipeline.crawl.families.trs import trs_page_url, trs_pages

__all__ = [
    "Cursor",
    "Datastore",
    "Entry",
    "Listing",
    "Request",
    "hanweb_datastore",
    "hanweb_request",
    "next_page_link",
    "parse_listing",
    "sniff_family",
    "trs_page_url",
    "trs_pages",
]


def parse_listing(html: str, cursor: Cursor) -> Listing:
    """Links on one listing page and the cursor for the next page (if any)."""
    return parse_page(html, cursor)
