"""The crawl of one or more portals: workers take each portal's jobs (fetch, then hand the
answer to :mod:`pipeline.crawl.discovery` for listing pages or to
:mod:`pipeline.crawl.documents` for reports and attachments) within its budgets, and a
stop ends the crawl where it is, the state kept for the next run."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import replace
from typing import Any, NoReturn

from pipeline.crawl.browser import BrowserTier
from pipeline.crawl.config import Politeness, PortalConfig
from pipeline.crawl.discovery import Discovery
from pipeline.crawl.documents import Documents
from pipeline.crawl.fetch import Fetcher, Outcome
from pipeline.crawl.listing import Request
from pipeline.crawl.portal_run import Job
from pipeline.crawl.progress import Progress
from pipeline.crawl.sink import Resource, Sink
from pipeline.crawl.state import FINAL_STATUSES, State, UrlRow, now
from pipeline.crawl.summary import CrawlSummary, PortalSummary

log = logging.getLogger("pipeline.crawl")

#: Rounds of resources a sink may ask for at the end of a portal's crawl (pictures of the
#: tables, then nothing: one round is what the nightly flow needs).
MAX_SETTLE_ROUNDS = 3


class _Budget(Exception):
    pass


class PortalCrawl(Discovery, Documents):
    """One portal's crawl: workers take its jobs until the queue is done, phase by phase
    (:meth:`Discovery._phases`), then the resources the sink asks for."""

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
