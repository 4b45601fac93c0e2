"""What one crawl did, per portal: the counts the summary line and the commands print."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class PortalSummary:
    name: str
    run_id: int = 0
    resumed: bool = False
    completed: bool = False
    listing_pages: int = 0
    reports_new: int = 0
    reports_changed: int = 0
    reports_unchanged: int = 0
    reports_resumed: int = 0  # finished by an interrupted run, not fetched again
    retried: int = 0  # extracted and staged again from the archive (earlier error or kill)
    attachments: int = 0
    blocked: int = 0
    disallowed: int = 0
    failed: int = 0
    extract_errors: int = 0
    stage_errors: int = 0
    requests: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    # what the crawl learnt of the portal
    family: str = ""  # the CMS family whose list gave the reports (else the one sniffed)
    entries: list[str] = field(default_factory=list)  # 年报 entries that listed reports
    how: str = ""  # how the first entry was found: remembered, link-text, gkmlpt-tree ...
    reports_listed: int = 0  # distinct report links on the listing pages
    capped: int = 0  # listing chains cut at the page cap
    region_mismatches: int = 0  # report pages whose 索引号 names another region

    @property
    def fetched(self) -> int:
        """Answers that count as reaching the portal (200 or 304) or earlier work kept."""
        return (
            self.listing_pages
            + self.reports_new
            + self.reports_changed
            + self.reports_unchanged
            + self.reports_resumed
        )

    def line(self) -> str:
        reasons = ", ".join(f"{r} ×{n}" for r, n in self.reasons.most_common(5))
        text = (
            f"{self.name}: listing pages {self.listing_pages}, reports new {self.reports_new}"
            f" / changed {self.reports_changed} / unchanged {self.reports_unchanged}"
            f" / resumed {self.reports_resumed}, attachments {self.attachments},"
            f" blocked {self.blocked}, disallowed {self.disallowed}, failed {self.failed},"
            f" extraction errors {self.extract_errors}, staging errors {self.stage_errors},"
            f" retried from archive {self.retried},"
            f" requests {self.requests}"
        )
        if self.family:
            text += f", family {self.family}" + (f" ({self.how})" if self.how else "")
        text += f", reports listed {self.reports_listed}"
        if self.capped:
            text += f", listing page cap hit {self.capped}"
        if self.region_mismatches:
            text += f", 索引号 region mismatches {self.region_mismatches}"
        if not self.completed:
            text += " (incomplete: resumes next run)"
        return text + (f" [{reasons}]" if reasons else "")


@dataclass(slots=True)
class CrawlSummary:
    portals: list[PortalSummary]
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.portals)

    @property
    def fetched(self) -> int:
        return sum(p.fetched for p in self.portals)

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.portals)
