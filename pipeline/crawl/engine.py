"""The crawl of one or more portals: discover listing pages, follow pagination, fetch
reports and attachments, hand every body to the sink, and keep the state for the next run."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pipeline.crawl.blocks import is_site_root, is_soft_404
from pipeline.crawl.config import Politeness, PortalConfig
from pipeline.crawl.fetch import Fetcher, Outcome
from pipeline.crawl.links import Link, attachment_links, column_links, hub_links, report_links
from pipeline.crawl.listing import Cursor, Request, parse_listing
from pipeline.crawl.progress import Progress
from pipeline.crawl.sink import Fetched, Sink
from pipeline.crawl.state import FINAL_STATUSES, State, UrlRow, now
from pipeline.crawl.summary import CrawlSummary, PortalSummary
from pipeline.encoding import decode as decode_html
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
}


@dataclass(frozen=True, slots=True)
class Job:
    kind: str  # listing | report | attachment
    request: Request
    cursor: Cursor | None = None
    depth: int = 0  # listing discovery depth: 0 = start URL
    link: Link | None = None
    parent: str | None = None


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
    ) -> None:
        self.portal = portal
        self.sink = sink
        self.fetcher = fetcher
        self.state = state
        self.politeness = politeness
        self.max_pages = max_pages
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

    # ------------------------------------------------------------------ driver

    async def run(self) -> PortalSummary:
        started = time.monotonic()
        self.run_id, resumed = self.state.open_run(self.portal.name)
        self.summary.run_id, self.summary.resumed = self.run_id, resumed
        log.info(
            "event=portal_start portal=%s run=%s resumed=%s", self.portal.name, self.run_id, resumed
        )
        for url in self.portal.start_urls:
            self._enqueue(Job("listing", Request(url), Cursor(Request(url), self.portal.family)))
        workers = max(1, self.politeness.per_host * max(1, len(self.portal.hosts)))
        tasks = [asyncio.create_task(self._worker()) for _ in range(workers)]
        try:
            await self.queue.join()
        finally:  # also when the crawl is cancelled: no worker outlives its portal's run
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.summary.seconds = time.monotonic() - started
        if not self.budget_hit:
            self.state.finish_run(self.portal.name, self.run_id)
            self.summary.completed = True
        log.info("event=portal_done %s", self.summary.line())
        return self.summary

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

    async def _handle(self, job: Job) -> None:
        key = job.request.key
        previous = self.state.get(self.portal.name, key)
        if previous and previous.run_id == self.run_id and previous.status in FINAL_STATUSES:
            self._resume(job, previous)
            return
        if self.budget_hit or (self.max_pages is not None and self.fetches >= self.max_pages):
            self.budget_hit = True
            raise _Budget
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
                self._listing_from_archive(job, previous.sha256, previous.content_type, outcome.url)
            elif job.kind == "report":
                self.summary.reports_unchanged += 1
                self._report_children_from_archive(
                    job, previous.sha256, previous.content_type, outcome.url
                )
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

    def _resume(self, job: Job, row: UrlRow) -> None:
        """This run already finished ``job``: redo only what needs no network."""
        if row.status != "ok" or not row.sha256:
            return
        page_url = row.final_url or job.request.url
        if job.kind == "listing":
            self.summary.listing_pages += 1
            self._listing_from_archive(job, row.sha256, row.content_type, page_url)
        elif job.kind == "report":
            self.summary.reports_resumed += 1
            self._report_children_from_archive(job, row.sha256, row.content_type, page_url)

    # ------------------------------------------------------------------ listings

    async def _listing(
        self, job: Job, outcome: Outcome, fetched_at: datetime, previous: UrlRow | None
    ) -> None:
        html = decode_html(outcome.body, outcome.content_type)
        if is_soft_404(outcome.http_status or 0, html) or (
            job.depth > 0 and is_site_root(outcome.url) and not is_site_root(job.request.url)
        ):
            outcome.status, outcome.reason = "not_found", "soft 404 / redirect to the home page"
            self._record_failure(job, outcome)
            return
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
        self._follow_listing(job, html, outcome.url)

    def _listing_from_archive(
        self, job: Job, sha: str, content_type: str | None, page_url: str
    ) -> None:
        body = self.sink.kept(sha)
        if body is None:
            log.warning("event=archive_missing url=%s sha256=%s", job.request.url, sha)
            return
        self._follow_listing(job, decode_html(body, content_type), page_url)

    def _follow_listing(self, job: Job, html: str, page_url: str) -> None:
        cursor = job.cursor or Cursor(job.request, self.portal.family)
        if page_url != cursor.request.url and cursor.request.method == "GET":
            cursor = replace(cursor, request=replace(cursor.request, url=page_url))
        listing = parse_listing(html, cursor)
        reports = report_links(listing.links, self.pattern)
        new = 0
        nxt_url = listing.next.request.url if listing.next else None
        for link in listing.links:
            if link.url == nxt_url or _PAGER_TEXT.match(link.title):
                continue
            if link.url not in self.listed:
                self.listed.add(link.url)
                new += 1
        for link in reports:
            if not self.portal.allows(link.url):
                continue
            self._enqueue(
                Job(
                    "report", Request(link.url, referer=page_url), link=link, parent=job.request.key
                )
            )
        if job.depth <= 1 and not reports:
            # discovery: a 政府信息公开 page links to the 年报 column by its text
            targets = column_links(listing.links)
            if job.depth == 0 and not reports and not targets:
                targets = hub_links(listing.links)
            for link in targets:
                if self.portal.allows(link.url) and link.url != page_url:
                    self.state.verify_root(self.portal.name, link.url, "link-text")
                    self._enqueue(
                        Job(
                            "listing",
                            Request(link.url, referer=page_url),
                            Cursor(Request(link.url), self.portal.family),
                            depth=job.depth + 1,
                        )
                    )
        if listing.next is None:
            return
        if job.cursor is not None and job.cursor.page > 0 and new == 0:
            log.info(
                "event=pagination_stop portal=%s url=%s reason=no-new-links",
                self.portal.name,
                page_url,
            )
            return
        nxt = listing.next
        if self.portal.allows(nxt.request.url):
            self._enqueue(Job("listing", nxt.request, nxt, depth=job.depth))

    # ------------------------------------------------------------------ documents

    async def _document(
        self, job: Job, outcome: Outcome, fetched_at: datetime, previous: UrlRow | None
    ) -> None:
        attachments: list[str] = []
        if job.kind == "report" and looks_like_html(outcome.body, outcome.content_type):
            html = decode_html(outcome.body, outcome.content_type)
            attachments = self._enqueue_attachments(job, html, outcome.url)
        doc = self._fetched(job, outcome, fetched_at, attachments)
        sha = await self.sink.keep(doc)
        change = _change(previous, sha)
        if job.kind == "report":
            counter = {"new": "reports_new", "changed": "reports_changed"}.get(
                change, "reports_unchanged"
            )
            setattr(self.summary, counter, getattr(self.summary, counter) + 1)
        else:
            self.summary.attachments += 1
        extra = UNPROCESSED if change != "unchanged" else {}
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
        if change != "unchanged":
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
            self._enqueue(
                Job(
                    "attachment",
                    Request(url, referer=page_url),
                    parent=job.request.key,
                    link=job.link,
                )
            )
        return found

    def _report_children_from_archive(
        self, job: Job, sha: str, content_type: str | None, page_url: str
    ) -> None:
        body = self.sink.kept(sha)
        if body is not None and looks_like_html(body, content_type):
            self._enqueue_attachments(job, decode_html(body, content_type), page_url)

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
) -> CrawlSummary:
    """Crawl ``portals``, recording in ``state`` and handing every body to ``sink``.

    The caller holds the data directory's writer lock and closes ``state``. When ``stop``
    gets a result (a reason such as ``"SIGTERM"``) before the crawl ends, the crawl is
    cancelled where it is and the summary so far is returned, ``interrupted`` set to that
    reason: every finished URL is already in the state, so the next run resumes.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    started_at = now()
    # concurrency and user_agent are crawl-wide ([defaults] only), the same in every portal
    fetcher = Fetcher(politeness_override or (portals[0].politeness if portals else Politeness()))
    display = Progress(progress)
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
