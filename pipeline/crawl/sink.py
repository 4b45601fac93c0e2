"""What the crawler hands on, and to whom: a :class:`Sink` keeps the bodies it fetches and
takes every new or changed report and attachment. The crawler knows nothing of what the
sink does with them (the nightly flow archives, extracts and stages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pipeline.crawl.config import PortalConfig
from pipeline.crawl.links import Link
from pipeline.crawl.summary import PortalSummary


@dataclass(frozen=True, slots=True)
class Fetched:
    """One body the crawler fetched."""

    portal: PortalConfig
    key: str  # the request key of its row in the crawl state
    kind: str  # listing | report | attachment | resource
    url: str  # where it was fetched from, after redirects
    body: bytes
    content_type: str | None
    fetched_at: datetime | None  # None: not known (a body archived by an old version)
    http_status: int | None = None  # the answer's status (200; None: not from HTTP)
    headers: tuple[tuple[str, str], ...] = ()  # the answer's headers, as received
    link: Link | None = None  # the listing link that led to it (title, date)
    parent: str | None = None  # an attachment's report page (its request key)
    attachments: tuple[str, ...] = ()  # on a report page: its attachment URLs


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource of a report page that the sink asks the crawler for once the portal's
    pages are in (the nightly flow: the pictures that print a page's tables)."""

    url: str
    parent: str  # the report page's request key
    referer: str  # the report page's URL


class Sink(Protocol):
    """Where fetched documents go; every method is called from the crawl's event loop."""

    async def open(self, portals: list[PortalConfig], summaries: dict[str, PortalSummary]) -> None:
        """Before the first request: a chance to finish what an earlier run left."""

    async def keep(self, doc: Fetched) -> str:
        """Keep ``doc``'s body; returns its SHA-256 (recorded in the crawl state)."""

    def kept(self, sha256: str) -> bytes | None:
        """A body kept earlier (an unchanged page answered 304), ``None`` if it is lost."""

    async def take(self, doc: Fetched, summary: PortalSummary) -> None:
        """A new or changed report page or attachment, after its state row is written."""

    async def settle(self, portal: PortalConfig) -> list[Resource]:
        """After the portal's queue ran dry: resources of its pages to fetch (politely,
        within its budget and origins) before its crawl ends; asked again once they are
        in, until it wants none. The sink reads them from the state and its archive."""

    async def close(self) -> None:
        """After the last request of the run."""
