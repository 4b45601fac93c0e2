"""Static pages paged by a 下一页 link (and the fallback for every page no family claims)."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline.crawl.families.base import Cursor, Listing, Request
from pipeline.crawl.links import extract_links, normalise_url

NAME = "static"

_NEXT_TEXT = re.compile(r"^(下一页|下页|后一页|next|›|>|&gt;)$", re.IGNORECASE)


def sniff(html: str, url: str) -> bool:
    return True


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


def parse(html: str, cursor: Cursor, family: str = NAME) -> Listing:
    base = cursor.request.url
    links = extract_links(html, base)
    nxt_url = next_page_link(html, base)
    nxt = None
    if nxt_url:
        nxt = Cursor(Request(nxt_url, referer=base), family, cursor.page + 1)
    return Listing(links=links, next=nxt, family=family)
