"""``portals check``: probe portals politely and say what the crawler would find there —
the CMS family, the 年报 column, how many reports it lists, or why there is none.

A probe is a crawl that reads listing pages only (no report page is fetched), with a
fresh state in a temporary directory (nothing remembered, nothing written to the data
directory) and a budget of requests and seconds per portal.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.crawl.config import Politeness, PortalConfig
from pipeline.crawl.engine import crawl_async
from pipeline.crawl.sink import Fetched, Resource
from pipeline.crawl.state import State
from pipeline.crawl.summary import PortalSummary

#: Requests one probe may make (robots.txt included): root, hub, tree, a few list pages.
MAX_REQUESTS = 30
#: Seconds one probe may take (at the default 1 s between requests to one host).
MAX_SECONDS = 90.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    portal: str
    family: str  # the family that listed the reports, else the one the pages carried
    entry: str | None  # the 年报 column (its first list request)
    how: str  # how it was found: link-text, gkmlpt-tree, lonsun-type3, slug-probe ...
    reports: int  # distinct report links listed
    listing_pages: int
    requests: int
    complete: bool  # False: a budget stopped the probe before the lists' end
    why: str | None  # why no report was found

    def line(self) -> str:
        family = self.family or "unknown"
        budget = "" if self.complete else " (budget hit: more pages not read)"
        if self.reports:
            return (
                f"{self.portal}: family {family}, 年报 column {self.entry} ({self.how}), "
                f"reports listed {self.reports}{budget}, listing pages {self.listing_pages}, "
                f"requests {self.requests}"
            )
        return (
            f"{self.portal}: family {family}, no reports: {self.why}, "
            f"listing pages {self.listing_pages}, requests {self.requests}"
        )


class MemorySink:
    """Keeps listing bodies in memory for the probe's 304 replays; takes nothing."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}

    async def open(self, portals: list[PortalConfig], summaries: dict[str, PortalSummary]) -> None:
        return None

    async def keep(self, doc: Fetched) -> str:
        sha = hashlib.sha256(doc.body).hexdigest()
        self.bodies[sha] = doc.body
        return sha

    def kept(self, sha256: str) -> bytes | None:
        return self.bodies.get(sha256)

    async def take(self, doc: Fetched, summary: PortalSummary) -> None:
        return None

    async def settle(self, portal: PortalConfig) -> list[Resource]:
        return []

    async def close(self) -> None:
        return None


def why_none(summary: PortalSummary) -> str:
    """One line on why a probe listed no report."""
    if summary.reasons:
        reason, _ = summary.reasons.most_common(1)[0]
        if summary.blocked:
            return reason
        if not summary.listing_pages:
            return f"nothing readable ({reason})"
    if not summary.completed:
        return "budget hit before a 年报 list was found"
    if not summary.listing_pages:
        return "no page could be read"
    return "no 年报 column found (link text, family entries and slug folders tried)"


def result_of(summary: PortalSummary) -> CheckResult:
    return CheckResult(
        portal=summary.name,
        family=summary.family,
        entry=summary.entries[0] if summary.entries else None,
        how=summary.how,
        reports=summary.reports_listed,
        listing_pages=summary.listing_pages,
        requests=summary.requests,
        complete=summary.completed,
        why=None if summary.reports_listed else why_none(summary),
    )


def check_portals(
    portals: list[PortalConfig],
    *,
    max_requests: int = MAX_REQUESTS,
    max_seconds: float = MAX_SECONDS,
    politeness_override: Politeness | None = None,
) -> list[CheckResult]:
    """Probe every portal (concurrently, politely per host) and say what was found."""
    with tempfile.TemporaryDirectory(prefix="ogi-check-") as tmp:
        state = State(Path(tmp))
        try:
            summary = asyncio.run(
                crawl_async(
                    portals,
                    state,
                    MemorySink(),
                    max_pages=max_requests,
                    politeness_override=politeness_override,
                    list_only=True,
                    max_seconds=max_seconds,
                )
            )
        finally:
            state.close()
    return [result_of(s) for s in summary.portals]
