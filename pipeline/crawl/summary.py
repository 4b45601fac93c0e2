"""What one crawl did, per portal: the counts the summary line, the JSON summary and the
exit code are made of.

A portal's :attr:`PortalSummary.outcome` is one of:

* ``ok``: the run completed and reached the portal;
* ``failed``: a listing page could not be fetched (timeout, connection error, 5xx after
  the retries, too many redirects), a start URL answered 404/410 or a soft 404, or the
  run completed without fetching a single listing page;
* ``blocked``: an anti-bot challenge answered a request of the portal;
* ``incomplete``: stopped by ``--max-pages`` (resumes on the next run);
* ``interrupted``: stopped by SIGINT/SIGTERM (resumes on the next run).

Failed report pages or attachments do not make a portal ``failed``: they are counted
(``failed``) and fetched again on the next run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

#: Portal outcomes that make the run a partial failure.
FAILED_OUTCOMES = ("failed", "blocked")

#: The integer counters of a portal, in the order the JSON summary lists them.
COUNTERS = (
    "listing_pages",
    "listing_failed",
    "reports_new",
    "reports_changed",
    "reports_unchanged",
    "reports_resumed",
    "retried",
    "attachments",
    "resources",
    "blocked",
    "disallowed",
    "failed",
    "extract_errors",
    "stage_errors",
    "suspicious",
    "requests",
)


@dataclass(slots=True)
class PortalSummary:
    name: str
    run_id: int = 0
    resumed: bool = False
    completed: bool = False
    interrupted: bool = False  # stopped by a signal before it completed
    listing_pages: int = 0
    listing_failed: int = 0  # listing pages that make the portal ``failed`` (see above)
    reports_new: int = 0
    reports_changed: int = 0
    reports_unchanged: int = 0
    reports_resumed: int = 0  # finished by an interrupted run, not fetched again
    retried: int = 0  # extracted and staged again from the archive (earlier error or kill)
    attachments: int = 0
    resources: int = 0  # fetched because the sink asked (the pictures of a page's tables)
    blocked: int = 0
    disallowed: int = 0
    failed: int = 0
    extract_errors: int = 0
    stage_errors: int = 0
    requests: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    #: fetches of this run by outcome: ok, not_modified, failed, blocked, not_found, ...
    outcomes: Counter[str] = field(default_factory=Counter)
    #: documents of this run whose figures could not be read, by reason: ``no_tables``,
    #: ``error``, ``image_only``, ``unreadable: <why>`` (the flow fills it from the state)
    unreadable: Counter[str] = field(default_factory=Counter)
    # what the crawl learnt of the portal
    family: str = ""  # the CMS family whose list gave the reports (else the one sniffed)
    entries: list[str] = field(default_factory=list)  # 年报 entries that listed reports
    how: str = ""  # how the first entry was found: remembered, link-text, gkmlpt-tree ...
    reports_listed: int = 0  # distinct report links on the listing pages
    capped: int = 0  # listing chains cut at the page cap
    region_mismatches: int = 0  # report pages whose 索引号 names another region
    #: changed report bodies that read worse than the staged version (kept staged)
    suspicious: int = 0

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

    @property
    def outcome(self) -> str:
        """``ok``, ``failed``, ``blocked``, ``incomplete`` or ``interrupted`` (module doc)."""
        if self.blocked:
            return "blocked"
        if self.listing_failed or (self.completed and self.listing_pages == 0):
            return "failed"
        if self.completed:
            return "ok"
        return "interrupted" if self.interrupted else "incomplete"

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
        if self.resources:
            text += f", resources asked by the sink {self.resources}"
        if self.suspicious:
            text += f", suspicious changes {self.suspicious} (staged versions kept)"
        if self.unreadable:
            text += ", unreadable documents " + ", ".join(
                f"{r} ×{n}" for r, n in self.unreadable.most_common(5)
            )
        if self.interrupted and not self.completed:
            text += " (interrupted: resumes next run)"
        elif not self.completed:
            text += " (incomplete: resumes next run)"
        if self.outcome in FAILED_OUTCOMES:
            text += f" [{self.outcome.upper()}]"
        return text + (f" [{reasons}]" if reasons else "")

    def counters(self) -> dict[str, int]:
        """Every count of this portal, flat: the integer counters, ``outcome:<status>``,
        ``reason:<reason>`` and ``unreadable:<extract status>``."""
        flat = {name: int(getattr(self, name)) for name in COUNTERS}
        for prefix, counter in (
            ("outcome", self.outcomes),
            ("reason", self.reasons),
            ("unreadable", self.unreadable),
        ):
            flat.update((f"{prefix}:{key}", int(n)) for key, n in counter.items())
        return flat

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "run_id": self.run_id,
            "resumed": self.resumed,
            "completed": self.completed,
            "seconds": round(self.seconds, 3),
            "reports": {
                "new": self.reports_new,
                "changed": self.reports_changed,
                "unchanged": self.reports_unchanged,
                "resumed": self.reports_resumed,
            },
            "counts": {name: int(getattr(self, name)) for name in COUNTERS},
            "outcomes": dict(sorted(self.outcomes.items())),
            "reasons": dict(self.reasons.most_common()),
            "unreadable": {
                "no_tables": self.unreadable.get("no_tables", 0),
                "error": self.unreadable.get("error", 0),
                **dict(sorted(self.unreadable.items())),
            },
        }


@dataclass(slots=True)
class CrawlSummary:
    portals: list[PortalSummary]
    seconds: float = 0.0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: the signal that stopped the run ("SIGTERM", "SIGINT"), None when it ran to its end
    interrupted: str | None = None
    #: where the JSON summary of the run was written (set by the flow that records it)
    record: Path | None = None

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.portals)

    @property
    def fetched(self) -> int:
        return sum(p.fetched for p in self.portals)

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.portals)

    @property
    def verdict(self) -> str:
        """``interrupted``, ``nothing_fetched``, ``partial`` (a portal failed or was
        blocked) or ``ok``: what the exit code of ``crawl`` says."""
        if self.interrupted:
            return "interrupted"
        if self.fetched == 0:
            return "nothing_fetched"
        if any(p.outcome in FAILED_OUTCOMES for p in self.portals):
            return "partial"
        return "ok"

    def totals(self) -> dict[str, int]:
        """Run totals: the counters summed over the portals, and portals per outcome."""
        out = {name: int(self.total(name)) for name in COUNTERS}
        out["portals"] = len(self.portals)
        for outcome in ("ok", "failed", "blocked", "incomplete", "interrupted"):
            out[f"portals_{outcome}"] = sum(p.outcome == outcome for p in self.portals)
        reasons = sorted({r for p in self.portals for r in p.unreadable} | {"no_tables", "error"})
        for reason in reasons:
            out[f"unreadable_{reason}"] = sum(p.unreadable.get(reason, 0) for p in self.portals)
        return out
