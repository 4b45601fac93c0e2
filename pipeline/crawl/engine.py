"""The crawl: discover listing pages, follow pagination, fetch reports and attachments,
archive every body, extract and stage reports, and keep the state for the next run."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.archive import ArchiveError, read_body, write_body
from pipeline.crawl.config import Politeness, PortalConfig
from pipeline.crawl.fetch import Fetcher, Outcome
from pipeline.crawl.parse import (
    Cursor,
    Link,
    Request,
    attachment_links,
    column_links,
    hub_links,
    is_site_root,
    is_soft_404,
    parse_listing,
    report_links,
    title_agency,
    title_year,
)
from pipeline.crawl.state import FINAL_STATUSES, CrawlLock, State, now
from pipeline.encoding import decode as decode_html

log = logging.getLogger("pipeline.crawl")

_PAGER_TEXT = re.compile(
    r"^\s*(\d+|下一页|上一页|下页|上页|首页|尾页|末页|next|prev|[<>›‹«»]+)?\s*$", re.IGNORECASE
)


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


STAGE_BATCH = 500  # reports per staging write; a killed run re-stages its pending ones
#: extractions of one body, across runs, before a failing extraction or staging is left alone
MAX_EXTRACT_ATTEMPTS = 3


def _stage_batch(data_dir: Path, items: list[Any]) -> None:
    """Stage extracted reports in one write (``pipeline.stage.stage_reports``)."""
    from pipeline.stage import stage_reports

    stage_reports(data_dir, items)


def _stage_item(report: Any, **fields: Any) -> Any:
    from pipeline.stage import StageItem

    return StageItem(report=report, **fields)


def _extract_report(body: bytes, url: str, content_type: str | None, link: Link | None) -> Any:
    """Run the extractor and fill the metadata it left empty from the listing link."""
    from pipeline.extract import extract_document

    report = extract_document(body, source=url, content_type=content_type)
    if link is not None:
        meta = report.meta
        meta.title = meta.title or link.title
        meta.report_year = meta.report_year or title_year(link.title)
        meta.agency = meta.agency or title_agency(link.title)
        meta.published = meta.published or link.date
    return report


def _extracted(report: Any, kind: str, attachments: bool) -> tuple[dict[str, Any], bool]:
    """State columns for a successfully extracted document, and whether to stage it."""
    if not report.fact_list and (kind == "attachment" or attachments):
        values: dict[str, Any] = {"extract_status": "no_tables", "extract_error": None}
        if kind == "report":
            values["tables_in_attachment"] = 1
        return {**values, "stage_status": None}, False
    return {
        "extract_status": report.meta.status,
        "extract_error": None,
        "stage_status": "pending",
    }, True


class Stager:
    """Stages extracted reports in batches; rows stay ``pending`` in the state until their
    batch is written, and a later run stages what an interrupted one left pending."""

    def __init__(self, data_dir: Path, state: State, batch: int = STAGE_BATCH) -> None:
        self.data_dir = data_dir
        self.state = state
        self.batch = batch
        self.buffer: list[tuple[PortalSummary, str, Any]] = []
        self.lock = asyncio.Lock()

    async def add(self, summary: PortalSummary, key: str, item: Any) -> None:
        self.buffer.append((summary, key, item))
        if len(self.buffer) >= self.batch:
            await self.flush()

    async def flush(self) -> None:
        async with self.lock:
            entries, self.buffer = self.buffer, []
            if not entries:
                return
            try:
                await asyncio.to_thread(_stage_batch, self.data_dir, [e[2] for e in entries])
                done = entries
            except Exception:
                log.warning("event=stage_batch_error items=%s: staging one by one", len(entries))
                done = []
                for entry in entries:  # isolate the report that breaks the batch
                    try:
                        await asyncio.to_thread(_stage_batch, self.data_dir, [entry[2]])
                        done.append(entry)
                    except Exception as exc:
                        message = f"staging: {type(exc).__name__}: {exc}"[:500]
                        log.warning("event=stage_error key=%s error=%s", entry[1], message)
                        entry[0].stage_errors += 1
                        self.state.mark_stage(entry[0].name, entry[1], "error", message)
            for summary, key, _item in done:
                self.state.mark_stage(summary.name, key, "staged", None)
            log.info("event=staged reports=%s", len(done))

    async def recover(
        self, portals: list[PortalConfig], summaries: dict[str, PortalSummary]
    ) -> int:
        """Extract again from the archive and stage the reports of ``portals`` that an
        interrupted crawl left pending, or whose extraction or staging failed (each body
        at most :data:`MAX_EXTRACT_ATTEMPTS` times): no network needed."""
        by_name = {p.name: p for p in portals}
        rows = self.state.to_restage(list(by_name), MAX_EXTRACT_ATTEMPTS)
        for row in rows:
            portal = by_name[row.portal]
            summary = summaries.get(row.portal) or PortalSummary(name=row.portal)
            summary.retried += 1
            attempts = row.extract_attempts + 1
            url = row.final_url or row.url
            link = Link(row.url, row.title, row.listed_date) if row.title else None
            try:
                body = read_body(self.data_dir, row.sha256 or "")
                report = await asyncio.to_thread(_extract_report, body, url, row.content_type, link)
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("event=extract_error url=%s error=%s", url, message)
                summary.extract_errors += 1
                self.state.update(
                    row.portal,
                    row.key,
                    extract_status="error",
                    extract_error=message,
                    stage_status=None,
                    extract_attempts=attempts,
                )
                continue
            attachments = False
            if row.kind == "report" and not report.fact_list and _is_html(body, row.content_type):
                html = decode_html(body, row.content_type)
                attachments = any(portal.allows(u) for u in attachment_links(html, url))
            values, stage = _extracted(report, row.kind, attachments)
            self.state.update(row.portal, row.key, extract_attempts=attempts, **values)
            if stage:
                item = _stage_item(
                    report,
                    url=url,
                    region=portal.region,
                    region_code=portal.region_code,
                    fetched_at=datetime.fromisoformat(row.fetched_at) if row.fetched_at else None,
                    content_type=row.content_type,
                )
                await self.add(summary, row.key, item)
        await self.flush()
        if rows:
            log.info("event=stage_recovered reports=%s", len(rows))
        return len(rows)


class PortalCrawl:
    def __init__(
        self,
        portal: PortalConfig,
        data_dir: Path,
        fetcher: Fetcher,
        state: State,
        politeness: Politeness,
        max_pages: int | None,
        progress: _Progress,
        stager: Stager,
    ) -> None:
        self.stager = stager
        self.portal = portal
        self.data_dir = data_dir
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
        self.budget_hit = False
        self.run_id = 0

    # ------------------------------------------------------------------ driver

    async def run(self) -> PortalSummary:
        self.run_id, resumed = self.state.open_run(self.portal.name)
        self.summary.run_id, self.summary.resumed = self.run_id, resumed
        log.info(
            "event=portal_start portal=%s run=%s resumed=%s", self.portal.name, self.run_id, resumed
        )
        for url in self.portal.start_urls:
            self._enqueue(Job("listing", Request(url), Cursor(Request(url), self.portal.family)))
        workers = max(1, self.politeness.per_host * max(1, len(self.portal.hosts)))
        tasks = [asyncio.create_task(self._worker()) for _ in range(workers)]
        await self.queue.join()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
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
                self._count_failure(f"internal error: {type(exc).__name__}")
            finally:
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

    def _resume(self, job: Job, row: Any) -> None:
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
        self, job: Job, outcome: Outcome, fetched_at: datetime, previous: Any
    ) -> None:
        html = decode_html(outcome.body, outcome.content_type)
        if is_soft_404(outcome.http_status or 0, html) or (
            job.depth > 0 and is_site_root(outcome.url) and not is_site_root(job.request.url)
        ):
            outcome.status, outcome.reason = "not_found", "soft 404 / redirect to the home page"
            self._record_failure(job, outcome)
            return
        sha = await self._archive(job, outcome, fetched_at)
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
        try:
            body = read_body(self.data_dir, sha)
        except ArchiveError as exc:
            log.warning("event=archive_missing url=%s error=%s", job.request.url, exc)
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
        self, job: Job, outcome: Outcome, fetched_at: datetime, previous: Any
    ) -> None:
        sha = await self._archive(job, outcome, fetched_at)
        change = _change(previous, sha)
        extra: dict[str, Any] = {}
        item = None
        if job.kind == "report":
            html = (
                decode_html(outcome.body, outcome.content_type)
                if _is_html(outcome.body, outcome.content_type)
                else ""
            )
            attachments = self._enqueue_attachments(job, html, outcome.url)
            if change != "unchanged":
                extra, item = await self._extract(job, outcome, fetched_at, attachments)
            counter = {"new": "reports_new", "changed": "reports_changed"}.get(
                change, "reports_unchanged"
            )
            setattr(self.summary, counter, getattr(self.summary, counter) + 1)
        else:
            self.summary.attachments += 1
            if change != "unchanged":
                extra, item = await self._extract(job, outcome, fetched_at, [])
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
        if item is not None:
            await self.stager.add(self.summary, job.request.key, item)
        log.info(
            "event=%s portal=%s url=%s status=%s change=%s bytes=%s",
            job.kind,
            self.portal.name,
            outcome.url,
            outcome.http_status,
            change,
            len(outcome.body),
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
        try:
            body = read_body(self.data_dir, sha)
        except ArchiveError:
            return
        self._enqueue_attachments(job, decode_html(body, content_type), page_url)

    async def _extract(
        self, job: Job, outcome: Outcome, fetched_at: datetime, attachments: list[str]
    ) -> tuple[dict[str, Any], Any]:
        """Extract one fetched document: (state columns, item to stage or None).

        Extraction errors are recorded in the state, never raised.
        """
        try:
            report = await asyncio.to_thread(
                _extract_report, outcome.body, outcome.url, outcome.content_type, job.link
            )
        except Exception as exc:
            self.summary.extract_errors += 1
            message = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("event=extract_error url=%s error=%s", outcome.url, message)
            values: dict[str, Any] = {
                "extract_status": "error",
                "extract_error": message,
                "stage_status": None,
            }
            return {**values, "extract_attempts": 1}, None
        values, stage = _extracted(report, job.kind, bool(attachments))
        if not stage:
            return {**values, "extract_attempts": 1}, None
        item = _stage_item(
            report,
            url=outcome.url,
            region=self.portal.region,
            region_code=self.portal.region_code,
            fetched_at=fetched_at,
            content_type=outcome.content_type,
        )
        return {**values, "extract_attempts": 1}, item

    # ------------------------------------------------------------------ bookkeeping

    async def _archive(self, job: Job, outcome: Outcome, fetched_at: datetime) -> str:
        return await asyncio.to_thread(
            write_body,
            self.data_dir,
            outcome.body,
            url=outcome.url,
            kind=job.kind,
            content_type=outcome.content_type,
            fetched_at=fetched_at,
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
        previous: Any,
        **extra: Any,
    ) -> None:
        values: dict[str, Any] = {
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
        values: dict[str, Any] = {
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
        self.summary.reasons[f"{outcome.status}: {_short(reason)}"] += 1
        log.warning(
            "event=%s portal=%s kind=%s url=%s reason=%s",
            outcome.status,
            self.portal.name,
            job.kind,
            job.request.url,
            reason,
        )

    def _count_failure(self, reason: str) -> None:
        self.summary.failed += 1
        self.summary.reasons[reason] += 1


def _listing_values(job: Job) -> dict[str, Any]:
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


def _change(previous: Any, sha: str) -> str:
    if previous is None or not previous.sha256:
        return "new"
    return "unchanged" if previous.sha256 == sha else "changed"


def _is_html(body: bytes, content_type: str | None) -> bool:
    ctype = (content_type or "").lower()
    if "html" in ctype or "xml" in ctype:
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<meta", b"<div"))


class _Progress:
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


async def crawl_async(
    portals: list[PortalConfig],
    data_dir: Path,
    *,
    max_pages: int | None = None,
    politeness_override: Politeness | None = None,
    progress: bool = False,
) -> CrawlSummary:
    data_dir = Path(data_dir)
    loop = asyncio.get_running_loop()
    started = loop.time()
    # concurrency and user_agent are crawl-wide ([defaults] only), the same in every portal
    fetcher = Fetcher(politeness_override or (portals[0].politeness if portals else Politeness()))
    state = State(data_dir)
    display = _Progress(progress)
    stager = Stager(data_dir, state)
    try:
        crawls = [
            PortalCrawl(
                portal,
                data_dir,
                fetcher,
                state,
                politeness_override or portal.politeness,
                max_pages,
                display,
                stager,
            )
            for portal in portals
        ]
        await stager.recover(portals, {c.portal.name: c.summary for c in crawls})
        summaries = await asyncio.gather(*(c.run() for c in crawls))
        await stager.flush()
    finally:
        display.done()
        await fetcher.close()
        state.close()
    return CrawlSummary(list(summaries), seconds=loop.time() - started)


def crawl(
    portals: list[PortalConfig],
    data_dir: Path,
    *,
    max_pages: int | None = None,
    politeness_override: Politeness | None = None,
    progress: bool = False,
) -> CrawlSummary:
    """Crawl ``portals`` into ``data_dir`` (holding its lock); see the module docstring.

    Raises :class:`~pipeline.crawl.state.CrawlLocked` if another crawl holds the lock.
    """
    with CrawlLock(Path(data_dir)):
        return asyncio.run(
            crawl_async(
                portals,
                data_dir,
                max_pages=max_pages,
                politeness_override=politeness_override,
                progress=progress,
            )
        )
