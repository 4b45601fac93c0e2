"""The crawl of one or more portals: discover listing pages, follow pagination, fetch
reports and attachments, hand every body to the sink, and keep the state for the next run."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NoReturn

from pipeline.crawl.blocks import is_js_shell, is_site_root, is_soft_404
from pipeline.crawl.browser import MAX_BROWSER_PAGES, BrowserTier
from pipeline.crawl.config import Politeness, PortalConfig
from pipeline.crawl.families import slugs
from pipeline.crawl.fetch import Fetcher, Outcome
from pipeline.crawl.links import (
    Link,
    attachment_links,
    column_links,
    hub_links,
    iframe_links,
    page_redirect,
    report_links,
    year_links,
)
from pipeline.crawl.listing import Cursor, Entry, Listing, Request, parse_listing
from pipeline.crawl.pagemeta import page_text, read_block, region_mismatch
from pipeline.crawl.progress import Progress
from pipeline.crawl.sink import Fetched, Resource, Sink
from pipeline.crawl.state import FINAL_STATUSES, State, UrlRow, now
from pipeline.crawl.summary import CrawlSummary, PortalSummary
from pipeline.encoding import decode
from pipeline.html_depth import cap_nesting
from pipeline.sniff import looks_like_html
from pipeline.titles import title_agency, title_year

log = logging.getLogger("pipeline.crawl")

_PAGER_TEXT = re.compile(
    r"^\s*(\d+|下一页|上一页|下页|上页|首页|尾页|末页|next|prev|[<>›‹«»]+)?\s*$", re.IGNORECASE
)

#: State columns of a body that the sink has yet to take (reset whenever the body changes).
UNPROCESSED = {
    "extract_status": None,
    "extract_error": None,
    "stage_status": None,
    "extract_attempts": 0,
    "tables_in_attachment": 0,
    "resources": None,
}


#: Listing pages deeper than this (start URL = 0) are not searched for more entries:
#: root -> 信息公开 hub -> catalogue tree -> 年报 list is the longest path the families need.
MAX_DISCOVERY_DEPTH = 2
#: Year sub-columns inside year sub-columns ... stop here.
MAX_DEPTH = 5
#: Days after which a portal is searched again even though its remembered 年报 entries
#: still work: a department may have opened its own 年报 list since.
REDISCOVER_DAYS = 30
#: Rounds of resources a sink may ask for at the end of a portal's crawl (pictures of the
#: tables, then nothing: one round is what the nightly flow needs).
MAX_SETTLE_ROUNDS = 3


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


class _Budget(Exception):
    pass


class PortalCrawl:
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

    # ------------------------------------------------------------------ driver

    async def run(self) -> PortalSummary:
        started = time.monotonic()
        self.run_id, resumed = self.state.open_run(self.portal.name)
        self.summary.run_id, self.summary.resumed = self.run_id, resumed
        log.info(
            "event=portal_start portal=%s run=%s resumed=%s", self.portal.name, self.run_id, resumed
        )
        loop = asyncio.get_running_loop()
        self.deadline = loop.time() + self.max_seconds
        workers = max(1, self.politeness.per_host * max(1, len(self.portal.hosts)))
        tasks = [asyncio.create_task(self._worker()) for _ in range(workers)]
        try:
            await self._phases(resumed)
            await self._settle()
        finally:  # also when the crawl is cancelled: no worker outlives its portal's run
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.summary.seconds = time.monotonic() - started
        self._conclude()
        if not self.budget_hit:
            self.state.finish_run(self.portal.name, self.run_id)
            self.summary.completed = True
        log.info("event=portal_done %s", self.summary.line())
        return self.summary

    async def _phases(self, resumed: bool) -> None:
        """Remembered 年报 entries first; discovery from the start URLs when there are none
        or one of them moved (404, or no report links any more); slug probes last."""
        # a resumed run replays from the start: what it finished costs no request
        recipes = [] if resumed else self.state.recipes(self.portal.name)
        if recipes:
            for recipe in recipes:
                cursor = Cursor.from_json(recipe.cursor)
                self.entries[recipe.entry] = EntryInfo(cursor, recipe.how, remembered=True)
                # a start URL keeps depth 0: the scheme that answered last time is tried first
                depth = 0 if cursor.request.url in self.portal.start_urls else 1
                self._enqueue(
                    Job(
                        "listing",
                        cursor.request,
                        cursor,
                        depth=depth,
                        entry=recipe.entry,
                        column=True,
                        how=recipe.how,
                    )
                )
            await self.queue.join()
            moved = [r for r in recipes if not self.entries[r.entry].reports]
            due = _older_than(max(r.found_at for r in recipes), REDISCOVER_DAYS)
            if (not moved and not due) or self.budget_hit:
                return
            for recipe in moved:
                log.info(
                    "event=entry_moved portal=%s entry=%s how=%s",
                    self.portal.name,
                    recipe.entry,
                    recipe.how,
                )
                self.summary.reasons["年报 entry moved: rediscovered"] += 1
                self.seen.discard(recipe.entry)  # a start URL is asked again in discovery
        for url in self.portal.start_urls:
            request = Request(url)
            info = self.entries.setdefault(
                request.key, EntryInfo(Cursor(request, self.portal.family), "start-url")
            )
            info.rediscovered = info.remembered
            self._enqueue(
                Job("listing", request, Cursor(request, self.portal.family), entry=request.key)
            )
        await self.queue.join()
        if self.report_urls or self.budget_hit or not self.visited:
            return  # found, out of budget, or nothing readable (down, gated): no guessing
        # nothing found by families or link text: the folders where sibling portals of the
        # prefecture keep theirs, then the usual slug folders
        bases = [*self.portal.start_urls, *self.visited[:2]]
        siblings = self.state.sibling_recipes(self.portal.name, self.portal.region_code)
        sibling = slugs.sibling_entries([r.cursor for r in siblings], bases[0])
        for probe in [*sibling, *slugs.probe_entries(bases)]:
            self._discover(probe, depth=0, referer=None)
        await self.queue.join()

    async def _settle(self) -> None:
        """Fetch the resources the sink asks for once the portal's pages are in, as any
        other request of the portal: politely, on its origins, within its budgets."""
        for _ in range(MAX_SETTLE_ROUNDS):
            if self.budget_hit or self.list_only:
                return
            try:
                wanted = await self.sink.settle(self.portal)
            except Exception as exc:  # a bug must not end the crawl of the other portals
                log.exception("event=internal_error portal=%s step=settle", self.portal.name)
                self.summary.reasons[f"internal error: {type(exc).__name__}"] += 1
                return
            if not wanted:
                return
            for resource in wanted:
                if self.portal.allows(resource.url):
                    self._enqueue(self._resource_job(resource))
            await self.queue.join()

    @staticmethod
    def _resource_job(resource: Resource) -> Job:
        request = Request(resource.url, referer=resource.referer)
        return Job("resource", request, parent=resource.parent)

    def _conclude(self) -> None:
        """Remember the entries that listed reports; forget remembered ones that did not."""
        summary = self.summary
        summary.reports_listed = len(self.report_urls)
        found = [(k, e) for k, e in self.entries.items() if e.reports]
        for key, info in found:
            summary.entries.append(info.cursor.request.url)
            self.state.remember(
                self.portal.name,
                key,
                family=info.family,
                how=info.how,
                cursor=info.cursor.to_json(),
                reports=len(info.reports),
                region_code=self.portal.region_code,
                discovered=info.rediscovered or not info.remembered,
            )
        if found:
            first = found[0][1]
            summary.family = first.family
            summary.how = "remembered" if first.remembered else first.how
        elif self.sniffed:
            summary.family = self.sniffed.most_common(1)[0][0]
        if self.budget_hit:
            return  # an incomplete run cannot tell a moved entry from an unvisited one
        for key, info in self.entries.items():
            if info.remembered and not info.reports:
                self.state.forget(self.portal.name, key)

    def _enqueue(self, job: Job) -> None:
        if job.request.key in self.seen:
            return
        self.seen.add(job.request.key)
        self.queue.put_nowait(job)

    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                await self._handle(job)
            except _Budget:
                self.budget_hit = True
            except Exception as exc:  # a bug must not kill the crawl of other URLs
                log.exception("event=internal_error url=%s", job.request.url)
                self._count_failure(job, f"internal error: {type(exc).__name__}")
            finally:
                self.done += 1
                self.queue.task_done()
                self.progress.update(self)

    # ------------------------------------------------------------------ jobs

    def _out_of_budget(self, reason: str) -> NoReturn:
        """Stop fetching for this run: the next run resumes where this one stopped."""
        self.budget_hit = True
        self.summary.reasons[f"{reason}: the rest is left for the next run"] += 1
        log.warning("event=budget_hit portal=%s reason=%s", self.portal.name, reason)
        raise _Budget

    async def _handle(self, job: Job) -> None:
        key = job.request.key
        previous = self.state.get(self.portal.name, key)
        if previous and previous.run_id == self.run_id and previous.status in FINAL_STATUSES:
            await self._resume(job, previous)
            return
        if self.budget_hit:
            raise _Budget
        if self.fetches >= self.max_pages:
            self._out_of_budget(f"request budget hit ({self.max_pages:,} requests)")
        if self.deadline is not None and asyncio.get_running_loop().time() > self.deadline:
            self._out_of_budget(f"time budget hit ({self.max_seconds:,.0f} s)")
        self.fetches += 1
        conditional = previous is not None and previous.status == "ok" and previous.sha256
        validators = {
            "etag": previous.etag if conditional and previous else None,
            "last_modified": previous.last_modified if conditional and previous else None,
        }
        request, other = job.request, None
        if job.kind == "listing" and job.depth == 0:
            # http-only hosts and broken TLS are common: the other scheme is tried once, and
            # tried first when only it answered last time
            other = _swap_scheme(request.url)
            if other and previous and previous.status == "ok" and previous.final_url == other:
                request, other = replace(request, url=other), request.url
        outcome = await self.fetcher.fetch(
            request, self.politeness, allowed=self.portal.allows, **validators
        )
        self.summary.requests += outcome.requests
        if other and _unreachable(outcome):
            log.info("event=scheme_swap portal=%s url=%s", self.portal.name, other)
            second = await self.fetcher.fetch(
                replace(job.request, url=other),
                self.politeness,
                allowed=self.portal.allows,
                **validators,
            )
            self.summary.requests += second.requests
            if second.status in ("ok", "not_modified"):
                outcome = second
        fetched_at = now()
        if outcome.status == "not_modified" and previous and previous.sha256:
            self._record(
                job,
                outcome,
                status="ok",
                change="unchanged",
                sha=previous.sha256,
                fetched_at=fetched_at,
                previous=previous,
            )
            if job.kind == "listing":
                self.summary.listing_pages += 1
                await self._listing_from_archive(
                    job, previous.sha256, previous.content_type, outcome.url
                )
            elif job.kind == "report":
                self.summary.reports_unchanged += 1
                self._report_children(job, previous, outcome.url)
            return
        if outcome.status == "not_modified":
            outcome.status, outcome.reason = "failed", "304 without an archived copy"
        if outcome.status != "ok":
            self._record_failure(job, outcome)
            return
        if job.kind == "listing":
            await self._listing(job, outcome, fetched_at, previous)
        else:
            await self._document(job, outcome, fetched_at, previous)

    async def _resume(self, job: Job, row: UrlRow) -> None:
        """This run already finished ``job``: redo only what needs no network."""
        if row.status != "ok" or not row.sha256:
            return
        page_url = row.final_url or job.request.url
        if job.kind == "listing":
            self.summary.listing_pages += 1
            await self._listing_from_archive(job, row.sha256, row.content_type, page_url)
        elif job.kind == "report":
            self.summary.reports_resumed += 1
            self._report_children(job, row, page_url)

    # ------------------------------------------------------------------ listings

    async def _listing(
        self, job: Job, outcome: Outcome, fetched_at: datetime, previous: UrlRow | None
    ) -> None:
        html = await asyncio.to_thread(decode_html, outcome.body, outcome.content_type)
        if is_soft_404(outcome.http_status or 0, html) or (
            (job.depth > 0 or job.probe)
            and is_site_root(outcome.url)
            and not is_site_root(job.request.url)
        ):
            outcome.status, outcome.reason = "not_found", "soft 404 / redirect to the home page"
            self._record_failure(job, outcome)
            return
        if (
            not job.request.ajax
            and is_js_shell(html)
            and not self._readable(job, html, outcome.url)
        ):
            # a list built by JavaScript, or a JS gate: plain HTTP reads nothing here
            rendered = await self._render(job, outcome)
            if rendered is None:
                return
            outcome, html = rendered
        sha = await self.sink.keep(self._fetched(job, outcome, fetched_at))
        change = _change(previous, sha)
        self._record(
            job,
            outcome,
            status="ok",
            change=change,
            sha=sha,
            fetched_at=fetched_at,
            previous=previous,
        )
        self.summary.listing_pages += 1
        log.info(
            "event=listing portal=%s url=%s status=%s change=%s",
            self.portal.name,
            outcome.url,
            outcome.http_status,
            change,
        )
        await self._follow_listing(job, html, outcome.url)

    async def _render(self, job: Job, outcome: Outcome) -> tuple[Outcome, str] | None:
        """A listing page that is only scripts, rendered by the browser tier when the
        portal asks for it (``browser = true``); None when it stays unread (recorded)."""
        if not self.portal.browser or self.browser is None:
            reason = "js-gate (no browser tier: set browser = true)"
        elif self.rendered >= MAX_BROWSER_PAGES:
            reason = f"js-gate (browser page cap {MAX_BROWSER_PAGES} hit)"
        else:
            self.rendered += 1
            self.fetches += 1  # one more page against --max-pages, whatever it loads
            request = replace(job.request, url=outcome.url)
            result = await self.browser.fetch(request, self.politeness, allowed=self.portal.allows)
            self.summary.requests += result.requests
            if result.status != "ok":
                if result.status != "blocked":  # failed, disallowed, deferred: as any fetch
                    self._record_failure(job, result)
                    return None
                reason = result.reason or "js-gate (browser)"
            else:
                html = decode_html(result.body, result.content_type)
                if not is_js_shell(html) or self._readable(job, html, result.url):
                    self.summary.reasons["note: listing pages rendered by the browser"] += 1
                    return result, html
                reason = "js-gate (scripts only, also in the browser)"
        outcome.status, outcome.reason = "blocked", reason
        self._record_failure(job, outcome)
        return None

    def _readable(self, job: Job, html: str, page_url: str) -> bool:
        """Whether a script-only page still gives something: a redirect, or what a family
        reads in its scripts (gkmlpt's ``window._CONFIG``)."""
        if page_redirect(html, page_url):
            return True
        cursor = job.cursor or Cursor(job.request, self.portal.family)
        listing = parse_listing(
            html, replace(cursor, request=replace(cursor.request, url=page_url))
        )
        return bool(listing.links or listing.entries or listing.next)

    async def _listing_from_archive(
        self, job: Job, sha: str, content_type: str | None, page_url: str
    ) -> None:
        body = await asyncio.to_thread(self.sink.kept, sha)
        if body is None:
            log.warning("event=archive_missing url=%s sha256=%s", job.request.url, sha)
            return
        html = await asyncio.to_thread(decode_html, body, content_type)
        await self._follow_listing(job, html, page_url)

    async def _follow_listing(self, job: Job, html: str, page_url: str) -> None:
        cursor = job.cursor or Cursor(job.request, self.portal.family)
        if page_url != cursor.request.url and cursor.request.method == "GET":
            cursor = replace(cursor, request=replace(cursor.request, url=page_url))
        # off the event loop: a large listing takes a while to read, and other portals'
        # requests must go out meanwhile
        listing = await asyncio.to_thread(parse_listing, html, cursor)
        if listing.family != "static":
            self.sniffed[listing.family] += 1
        if len(self.visited) < 10 and not job.request.ajax:
            self.visited.append(page_url)
        reports = [
            r for r in report_links(listing.links, self.pattern) if self.portal.allows(r.url)
        ]
        new = 0
        nxt_url = listing.next.request.url if listing.next else None
        for link in listing.links:
            if link.url == nxt_url or _PAGER_TEXT.match(link.title):
                continue
            if link.url not in self.listed:
                self.listed.add(link.url)
                new += 1
        self._count_reports(job, listing, reports)
        for link in reports:
            if self.list_only:
                continue
            self._enqueue(
                Job(
                    "report", Request(link.url, referer=page_url), link=link, parent=job.request.key
                )
            )
        self._follow_entries(job, listing, html, page_url, bool(reports))
        if listing.capped:
            self.summary.capped += 1
            self.summary.reasons[listing.capped] += 1
            log.warning(
                "event=pagination_cap portal=%s url=%s reason=%s",
                self.portal.name,
                page_url,
                listing.capped,
            )
        if listing.next is None:
            return
        nxt = listing.next
        retry = nxt.page == cursor.page  # the same page asked another way (JPAAS tagId)
        if job.cursor is not None and job.cursor.page > 0 and new == 0 and not retry:
            log.info(
                "event=pagination_stop portal=%s url=%s reason=no-new-links",
                self.portal.name,
                page_url,
            )
            return
        if self.portal.allows(nxt.request.url):
            self._enqueue(
                Job(
                    "listing",
                    nxt.request,
                    nxt,
                    depth=job.depth,
                    entry=job.entry,
                    column=job.column,
                    how=job.how,
                )
            )

    def _count_reports(self, job: Job, listing: Listing, reports: list[Link]) -> None:
        if not reports:
            return
        self.report_urls.update(r.url for r in reports)
        info = self.entries.get(job.entry or "")
        if info is not None:
            info.reports.update(r.url for r in reports)
            info.families[listing.family] += len(reports)

    def _follow_entries(
        self, job: Job, listing: Listing, html: str, page_url: str, has_reports: bool
    ) -> None:
        """Everything a listing page points to besides its next page: the continuations of
        its own list (a JSON search, year sub-columns, an iframe holding the list) and, on a
        page without reports, the 年报 columns and hubs it leads to."""
        child = job.depth + 1
        for entry in listing.entries:
            if entry.how == "ucap-search" and child <= MAX_DEPTH:
                self._continue(job, entry.cursor, entry.how)  # the column's own list
        years = year_links(listing.links)
        # a start URL may be the 年报 column itself: two or more bare-year links say so
        if job.column or has_reports or (job.depth == 0 and len(years) >= 2):
            for link in years:
                if child <= MAX_DEPTH and self.portal.allows(link.url) and link.url != page_url:
                    cursor = Cursor(Request(link.url, referer=page_url), self.portal.family)
                    self._continue(job, cursor, "year-subcolumn")
        if has_reports or job.depth > MAX_DISCOVERY_DEPTH or job.request.ajax:
            return
        for entry in listing.entries:
            if entry.how != "ucap-search":
                self._discover(entry, job.depth + 1, page_url)
        # discovery by text: a 政府信息公开 page links to the 年报 column
        targets = column_links(listing.links) if job.depth <= 1 else []
        for link in targets:
            if self.portal.allows(link.url) and link.url != page_url:
                self.state.verify_root(self.portal.name, link.url, "link-text")
                cursor = Cursor(Request(link.url), self.portal.family)
                self._discover(Entry(cursor, "link-text"), job.depth + 1, page_url)
        if job.depth == 0 and not targets:
            for link in hub_links(listing.links):
                if self.portal.allows(link.url) and link.url != page_url:
                    cursor = Cursor(Request(link.url), self.portal.family)
                    self._discover(Entry(cursor, "hub-link", column=False), 1, page_url)
        if targets or listing.entries:
            return
        # a shell whose list is in a same-portal iframe, or a page that moves by script
        frames = iframe_links(html, page_url)
        redirect = page_redirect(html, page_url) if not listing.links else None
        for url in [*frames, *([redirect] if redirect else [])]:
            if self.portal.allows(url):
                cursor = Cursor(Request(url, referer=page_url), self.portal.family)
                self._continue(job, cursor, "iframe" if url in frames else "redirect")

    def _continue(self, job: Job, cursor: Cursor, how: str) -> None:
        """A listing that belongs to the same 年报 entry as ``job``."""
        self._enqueue(
            Job(
                "listing",
                cursor.request,
                cursor,
                depth=job.depth + 1,
                entry=job.entry,
                column=job.column or how == "year-subcolumn",
                how=job.how,
            )
        )

    def _discover(self, entry: Entry, depth: int, referer: str | None) -> None:
        """A listing found by discovery: a 年报 entry of its own."""
        request = entry.cursor.request
        if not self.portal.allows(request.url):
            return
        if request.key in self.seen:
            if request.key in self.entries:  # a remembered entry met again by discovery
                self.entries[request.key].rediscovered = True
            return
        if referer and request.referer is None:
            request = replace(request, referer=referer)
        cursor = replace(entry.cursor, request=request)
        self.entries.setdefault(request.key, EntryInfo(cursor, entry.how)).rediscovered = True
        if entry.column and entry.how != "link-text":
            self.state.verify_root(self.portal.name, request.url, entry.how)
        self._enqueue(
            Job(
                "listing",
                request,
                cursor,
                depth=depth,
                entry=request.key,
                column=entry.column,
                probe=entry.probe,
                how=entry.how,
            )
        )

    # ------------------------------------------------------------------ documents

    async def _document(
        self, job: Job, outcome: Outcome, fetched_at: datetime, previous: UrlRow | None
    ) -> None:
        attachments: list[str] = []
        page: dict[str, object] = {}
        if job.kind == "report" and looks_like_html(outcome.body, outcome.content_type):
            html = decode_html(outcome.body, outcome.content_type)
            attachments = self._enqueue_attachments(job, html, outcome.url)
            page = self._page_meta(html, outcome.url)
        if job.kind == "report":  # kept, so that the page is not parsed again while unchanged
            page["attachments"] = json.dumps(attachments, ensure_ascii=False)
        doc = self._fetched(job, outcome, fetched_at, attachments)
        sha = await self.sink.keep(doc)
        change = _change(previous, sha)
        if job.kind == "report":
            counter = {"new": "reports_new", "changed": "reports_changed"}.get(
                change, "reports_unchanged"
            )
            setattr(self.summary, counter, getattr(self.summary, counter) + 1)
        elif job.kind == "resource":
            self.summary.resources += 1
        else:
            self.summary.attachments += 1
        extra = {**(UNPROCESSED if change != "unchanged" else {}), **page}
        self._record(
            job,
            outcome,
            status="ok",
            change=change,
            sha=sha,
            fetched_at=fetched_at,
            previous=previous,
            **extra,
        )
        if change != "unchanged" and job.kind != "resource":  # the sink reads those itself
            await self.sink.take(doc, self.summary)
        log.info(
            "event=%s portal=%s url=%s status=%s change=%s bytes=%s",
            job.kind,
            self.portal.name,
            outcome.url,
            outcome.http_status,
            change,
            len(outcome.body),
        )

    def _page_meta(self, html: str, url: str) -> dict[str, object]:
        """The report page's 索引号 / 发布机构 / dates for the state; a 索引号 naming another
        region than the portal's is counted and given as a reason (not a failure)."""
        meta = read_block(page_text(html))
        why = region_mismatch(meta.index_no, self.portal.region_code)
        if why:
            self.summary.region_mismatches += 1
            self.summary.reasons[f"note: {why}"] += 1
            log.info("event=region_mismatch portal=%s url=%s %s", self.portal.name, url, why)
        return {"index_no": meta.index_no, "page_agency": meta.agency, "page_date": meta.date}

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

    def _enqueue_attachments(self, job: Job, html: str, page_url: str) -> list[str]:
        if not html:
            return []
        found = [u for u in attachment_links(html, page_url) if self.portal.allows(u)]
        for url in found:
            self._enqueue_attachment(job, url, page_url)
        return found

    def _enqueue_attachment(self, job: Job, url: str, page_url: str) -> None:
        request = Request(url, referer=page_url)
        self._enqueue(Job("attachment", request, parent=job.request.key, link=job.link))

    def _report_children(self, job: Job, row: UrlRow, page_url: str) -> None:
        """The attachments of an unchanged report page: those found when its body was
        fetched at the same URL, else read again from its archived body."""
        if row.attachments is not None and (row.final_url or row.url) == page_url:
            for url in json.loads(row.attachments):
                if self.portal.allows(url):
                    self._enqueue_attachment(job, url, page_url)
            return
        body = self.sink.kept(row.sha256 or "")
        if body is not None and looks_like_html(body, row.content_type):
            self._enqueue_attachments(job, decode_html(body, row.content_type), page_url)

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


def _older_than(stamp: str, days: int) -> bool:
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return True
    return (now() - when).days >= days


def _short(reason: str) -> str:
    reason = reason.split(" http", 1)[0] if reason.startswith("off the") else reason
    return reason[:80]


def _swap_scheme(url: str) -> str | None:
    if url.startswith("https://"):
        return "http://" + url[len("https://") :]
    if url.startswith("http://"):
        return "https://" + url[len("http://") :]
    return None


def _unreachable(outcome: Outcome) -> bool:
    reason = (outcome.reason or "").lower()
    return outcome.status == "failed" and (
        reason.startswith(("connect-error", "connecterror")) or "ssl" in reason
    )


def _change(previous: UrlRow | None, sha: str) -> str:
    if previous is None or not previous.sha256:
        return "new"
    return "unchanged" if previous.sha256 == sha else "changed"


async def crawl_async(
    portals: list[PortalConfig],
    state: State,
    sink: Sink,
    *,
    max_pages: int | None = None,
    politeness_override: Politeness | None = None,
    progress: bool = False,
    stop: asyncio.Future[str] | None = None,
    list_only: bool = False,
    max_seconds: float | None = None,
) -> CrawlSummary:
    """Crawl ``portals``, recording in ``state`` and handing every body to ``sink``.

    ``list_only`` reads listings but fetches no report (a probe); ``max_seconds`` bounds
    each portal's crawl in time, as ``max_pages`` does in requests. The caller holds the
    data directory's writer lock and closes ``state``. When ``stop`` gets a result (a
    reason such as ``"SIGTERM"``) before the crawl ends, the crawl is cancelled where it is
    and the summary so far is returned, ``interrupted`` set to that reason: every finished
    URL is already in the state, so the next run resumes.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    started_at = now()
    # concurrency and user_agent are crawl-wide ([defaults] only), the same in every portal
    fetcher = Fetcher(politeness_override or (portals[0].politeness if portals else Politeness()))
    display = Progress(progress)
    # headless Chromium, started on the first page that needs it (portals with browser = true)
    browser = BrowserTier(fetcher) if any(p.browser for p in portals) else None
    try:
        crawls = [
            PortalCrawl(
                portal,
                fetcher,
                state,
                sink,
                politeness_override or portal.politeness,
                max_pages,
                display,
                list_only=list_only,
                max_seconds=max_seconds,
                browser=browser,
            )
            for portal in portals
        ]

        async def everything() -> None:
            await sink.open(portals, {c.portal.name: c.summary for c in crawls})
            await asyncio.gather(*(c.run() for c in crawls))
            await sink.close()

        reason = await _until_stopped(everything(), stop)
    finally:
        display.done()
        if browser is not None:
            await browser.close()
        await fetcher.close()
    summary = CrawlSummary(
        [c.summary for c in crawls],
        seconds=loop.time() - started,
        started_at=started_at,
        finished_at=now(),
        interrupted=reason,
    )
    if reason is not None:
        for portal_summary in summary.portals:
            portal_summary.interrupted = not portal_summary.completed
        log.warning("event=interrupted reason=%s", reason)
    return summary


async def _until_stopped(
    work: Coroutine[object, object, None], stop: asyncio.Future[str] | None
) -> str | None:
    """Run ``work`` to its end (None) or until ``stop`` is resolved: then cancel ``work``
    and return ``stop``'s result. Work left unstaged stays ``pending`` in the state and is
    staged on the next run, so a stop does not wait for a staging batch."""
    task = asyncio.ensure_future(work)
    if stop is None:
        await task
        return None
    waiting: set[asyncio.Future[Any]] = {task, stop}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raise what the crawl raised
        return None
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    return stop.result()
