"""One portal's run: its queue of jobs, what it has met so far, and how each job's
outcome is written to the crawl state. :mod:`pipeline.crawl.discovery` (listing pages)
and :mod:`pipeline.crawl.documents` (reports, attachments) build on it;
:mod:`pipeline.crawl.engine` drives the jobs."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.crawl.browser import BrowserTier
from pipeline.crawl.config import Politeness, PortalConfig
from pipeline.crawl.fetch import Fetcher, Outcome
from pipeline.crawl.links import (
    Link,
)
from pipeline.crawl.listing import Cursor, Request
from pipeline.crawl.progress import Progress
from pipeline.crawl.sink import Fetched, Sink
from pipeline.crawl.state import State, UrlRow
from pipeline.crawl.summary import PortalSummary
from pipeline.encoding import decode
from pipeline.html_depth import cap_nesting
from pipeline.titles import title_agency, title_year

log = logging.getLogger("pipeline.crawl")

#: State columns of a body that the sink has yet to take (reset whenever the body changes).
UNPROCESSED = {
    "extract_status": None,
    "extract_error": None,
    "stage_status": None,
    "extract_attempts": 0,
    "tables_in_attachment": 0,
    "resources": None,
}


@dataclass(frozen=True, slots=True)
class Job:
    kind: str  # listing | report | attachment | resource (asked for by the sink)
    request: Request
    cursor: Cursor | None = None
    depth: int = 0  # listing discovery depth: 0 = start URL
    link: Link | None = None
    parent: str | None = None
    entry: str | None = None  # the key of the 年报 entry (start of the list) it comes from
    column: bool = False  # reached as a 年报 column: its year sub-columns are followed
    probe: bool = False  # a guess (slug folder): a 404 is an answer, not a failure
    how: str = "start-url"  # how the listing was found


@dataclass(slots=True)
class EntryInfo:
    """One 年报 entry met in this run and what it listed."""

    cursor: Cursor
    how: str
    remembered: bool = False
    rediscovered: bool = False  # remembered, and found again by this run's discovery
    reports: set[str] = field(default_factory=set)
    families: Counter[str] = field(default_factory=Counter)  # of the pages that listed reports

    @property
    def family(self) -> str:
        """The family that listed its reports (a specific one over ``static``)."""
        specific = [f for f, _ in self.families.most_common() if f != "static"]
        return specific[0] if specific else "static"


class PortalRun:
    """The state of one portal's run shared by its phases (no network here)."""

    def __init__(
        self,
        portal: PortalConfig,
        fetcher: Fetcher,
        state: State,
        sink: Sink,
        politeness: Politeness,
        max_pages: int | None,
        progress: Progress,
        *,
        list_only: bool = False,
        max_seconds: float | None = None,
        browser: BrowserTier | None = None,
    ) -> None:
        self.portal = portal
        self.browser = browser  # the crawl's browser tier, used when portal.browser is set
        self.rendered = 0  # listing pages rendered by the browser in this run
        self.list_only = list_only  # `portals check`: list reports, fetch none
        # the portal's budgets for this run: its config's, or the command's when smaller
        self.max_seconds = min(max_seconds or math.inf, politeness.max_seconds)
        self.deadline: float | None = None
        self.sink = sink
        self.fetcher = fetcher
        self.state = state
        self.politeness = politeness
        self.max_pages = min(max_pages or politeness.max_requests, politeness.max_requests)
        self.progress = progress
        self.pattern = re.compile(portal.link_pattern) if portal.link_pattern else None
        self.summary = PortalSummary(name=portal.name)
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.seen: set[str] = set()  # request keys queued in this run
        self.listed: set[str] = set()  # link URLs met on listing pages in this run
        self.fetches = 0
        self.done = 0  # jobs handled in this run (the progress bar's position)
        self.budget_hit = False
        self.run_id = 0
        self.entries: dict[str, EntryInfo] = {}
        self.report_urls: set[str] = set()
        self.sniffed: Counter[str] = Counter()  # families of the listing pages read
        self.visited: list[str] = []  # listing pages read (bases for slug probes)

    def _enqueue(self, job: Job) -> None:
        if job.request.key in self.seen:
            return
        self.seen.add(job.request.key)
        self.queue.put_nowait(job)

    def _fetched(
        self, job: Job, outcome: Outcome, fetched_at: datetime, attachments: list[str] | None = None
    ) -> Fetched:
        return Fetched(
            portal=self.portal,
            key=job.request.key,
            kind=job.kind,
            url=outcome.url,
            body=outcome.body,
            content_type=outcome.content_type,
            fetched_at=fetched_at,
            http_status=outcome.http_status,
            headers=tuple(outcome.headers.items()),
            link=job.link,
            parent=job.parent,
            attachments=tuple(attachments or ()),
        )

    def _record(
        self,
        job: Job,
        outcome: Outcome,
        *,
        status: str,
        change: str | None,
        sha: str | None,
        fetched_at: datetime,
        previous: UrlRow | None,
        **extra: object,
    ) -> None:
        values: dict[str, object] = {
            "status": status,
            "change": change,
            "http_status": outcome.http_status,
            "attempts": outcome.attempts,
            "last_error": outcome.reason,
            "final_url": outcome.url,
            "parent": job.parent,
            "fetched_at": fetched_at.isoformat(),
        }
        if sha is not None:
            values["sha256"] = sha
        self.summary.outcomes["not_modified" if outcome.status == "not_modified" else "ok"] += 1
        if outcome.status == "ok":
            values["etag"] = outcome.headers.get("etag")
            values["last_modified"] = outcome.headers.get("last-modified")
            values["content_type"] = outcome.content_type
        values.update(_listing_values(job))
        values.update(extra)
        self.state.record(
            self.portal.name, job.request.key, job.request.url, job.kind, self.run_id, **values
        )

    def _record_failure(self, job: Job, outcome: Outcome) -> None:
        reason = outcome.reason or outcome.status
        values: dict[str, object] = {
            "status": outcome.status,
            "http_status": outcome.http_status,
            "attempts": outcome.attempts,
            "last_error": reason,
            "final_url": outcome.url,
            "parent": job.parent,
        }
        values.update(_listing_values(job))
        self.state.record(
            self.portal.name, job.request.key, job.request.url, job.kind, self.run_id, **values
        )
        past_end = (
            outcome.status == "not_found"
            and job.request.ajax
            and job.cursor is not None
            and job.cursor.page > 0
        )
        if (job.probe and outcome.status in ("not_found", "failed")) or past_end:
            # a slug guess that is not there, or a list API answering 404 past its last
            # page (gkmlpt does): answers, not failures
            log.info(
                "event=%s portal=%s url=%s status=%s",
                "probe_miss" if job.probe else "pagination_end",
                self.portal.name,
                job.request.url,
                outcome.http_status,
            )
            return
        if outcome.status == "blocked":
            self.summary.blocked += 1
        elif outcome.status == "disallowed":
            self.summary.disallowed += 1
        else:
            self.summary.failed += 1
        if self._listing_lost(job, outcome.status):
            self.summary.listing_failed += 1
        self.summary.outcomes[outcome.status] += 1
        self.summary.reasons[f"{outcome.status}: {_short(reason)}"] += 1
        log.warning(
            "event=%s portal=%s kind=%s url=%s reason=%s",
            outcome.status,
            self.portal.name,
            job.kind,
            job.request.url,
            reason,
        )

    def _count_failure(self, job: Job, reason: str) -> None:
        self.summary.failed += 1
        if self._listing_lost(job, "failed"):
            self.summary.listing_failed += 1
        self.summary.outcomes["error"] += 1
        self.summary.reasons[reason] += 1

    def _listing_lost(self, job: Job, status: str) -> bool:
        """A listing page whose loss makes the portal ``failed``: any listing page that
        could not be fetched, and a start URL that is gone (404/410, soft 404). A dead
        link met while discovering the 年报 column is not: portals are full of them."""
        if job.kind != "listing":
            return False
        return status == "failed" or (
            status == "not_found" and job.request.url in self.portal.start_urls
        )


def _listing_values(job: Job) -> dict[str, object]:
    """What the listing said of a report (or of a report's attachment): title, year,
    agency, date; kept so that a later re-extraction from the archive has them too."""
    if job.link is None or job.kind == "listing":
        return {}
    title = job.link.title
    return {
        "title": title,
        "report_year": title_year(title),
        "agency": title_agency(title),
        "listed_date": job.link.date,
    }


def decode_html(body: bytes, content_type: str | None) -> str:
    """The page as text, nested no deeper than a parser can read in linear time
    (:mod:`pipeline.html_depth`); every parser of the crawl reads this text."""
    html, removed = cap_nesting(decode(body, content_type))
    if removed:
        log.warning("event=nesting_capped tags_removed=%d", removed)
    return html


def _short(reason: str) -> str:
    reason = reason.split(" http", 1)[0] if reason.startswith("off the") else reason
    return reason[:80]


def body_change(previous: UrlRow | None, sha: str) -> str:
    if previous is None or not previous.sha256:
        return "new"
    return "unchanged" if previous.sha256 == sha else "changed"
