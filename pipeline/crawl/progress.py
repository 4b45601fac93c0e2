"""A one-line progress display of the crawl on a terminal."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotation only: the engine imports this module
    from pipeline.crawl.engine import PortalCrawl


class Progress:
    """A one-line progress display on a terminal (nothing when stderr is not a tty)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = 0.0

    def update(self, crawl: PortalCrawl) -> None:
        if not self.enabled:
            return
        loop_time = asyncio.get_running_loop().time()
        if loop_time - self.last < 0.2:
            return
        self.last = loop_time
        s = crawl.summary
        reports = s.reports_new + s.reports_changed + s.reports_unchanged + s.reports_resumed
        sys.stderr.write(
            f"\r{crawl.portal.name}: listings {s.listing_pages} reports {reports} "
            f"queued {crawl.queue.qsize()} failed {s.failed + s.blocked}   "
        )
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
