"""The nightly flow: crawl -> raw archive -> extract -> stage, with retries from the archive.

:func:`nightly` holds the data directory's writer lock, crawls the portals with a
:class:`NightlySink`, which archives every body, extracts each new or changed report page
and attachment, and stages the reports in batches. A report whose extraction or staging
failed, or that a killed run left unstaged, is taken again from its archived body on the
next runs (no refetch), at most :data:`MAX_EXTRACT_ATTEMPTS` times per body.

SIGINT and SIGTERM stop the crawl cleanly: the state keeps every finished URL, the run
is recorded (:mod:`pipeline.flows.runs`: JSON summary and state counters) and the
summary returned with ``interrupted`` set; the next run resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from pipeline import archive
from pipeline.crawl import (
    CrawlSummary,
    Fetched,
    Politeness,
    PortalConfig,
    PortalSummary,
    Resource,
    State,
    UrlRow,
    crawl_async,
)
from pipeline.crawl.links import Link, attachment_links
from pipeline.datadir import WriterLock
from pipeline.encoding import decode as decode_html
from pipeline.errors import PipelineError
from pipeline.extract import extract_document
from pipeline.flows import runs
from pipeline.flows.bounded import BoundedExtractor
from pipeline.flows.pictures import picture_urls
from pipeline.model import Finding, Report
from pipeline.sniff import looks_like_html
from pipeline.stage import BATCH_SIZE, StageItem, compact, stage_reports
from pipeline.titles import title_agency, title_year

log = logging.getLogger("pipeline.flows.nightly")

#: Statuses of a document whose tables could not be read (no figure, and a finding saying why).
UNREADABLE = ("image_only", "unreadable")

#: extractions of one body, across runs, before a failing extraction or staging is left alone
MAX_EXTRACT_ATTEMPTS = 3

#: Documents being extracted at once beside the crawl (each holds its body in memory); a
#: portal whose report arrives when all are taken waits for one to finish.
MAX_IN_EXTRACTION = 8

#: Image-only pages of one portal whose pictured tables are fetched and read by OCR in one
#: run (each may take its OCR budget); the others keep their wish for the next runs.
MAX_PICTURED_PAGES = 10
#: ... and over all portals: OCR takes seconds a page on the extraction workers, and a
#: first night may meet thousands of such pages.
MAX_PICTURED_PAGES_PER_RUN = 200
#: Fetch statuses of a picture that will not pass by asking again.
GONE = ("not_found", "offsite", "disallowed")

Extractor = Callable[..., Report]  # extract_document(content, *, source, content_type)
Stager = Callable[[Path, list[StageItem]], object]  # stage_reports(data_dir, items)


def nightly(
    portals: list[PortalConfig],
    data_dir: Path,
    *,
    max_pages: int | None = None,
    politeness_override: Politeness | None = None,
    progress: bool = False,
    extract: Extractor | None = None,
    stage: Stager = stage_reports,
    exit_code: Callable[[CrawlSummary], int] | None = None,
    summary_json: Path | None = None,
    max_seconds: float | None = None,
) -> CrawlSummary:
    """Crawl ``portals`` into ``data_dir``: archive, extract and stage what is new.

    Raises :class:`~pipeline.errors.LockedError` if another writer holds the data
    directory. ``extract`` and ``stage`` are the extractor and the staging call (tests
    pass failing ones); by default every document is extracted in a worker process,
    bounded in time and memory (:class:`~pipeline.flows.bounded.BoundedExtractor`). The
    run is recorded before the lock is released: in the state
    and in ``runs/`` (and at ``summary_json``), with the exit code ``exit_code`` gives
    for the summary (the command's; None when there is no command); ``max_seconds``
    bounds each portal's crawl in time (the rest waits for the next run, as with
    ``max_pages``).
    """
    data_dir = Path(data_dir)
    with WriterLock(data_dir), BoundedExtractor() as bounded:
        state = State(data_dir)
        try:
            crawl_id = state.start_crawl(datetime.now(UTC))
            sink = NightlySink(data_dir, state, extract=extract or bounded, stage=stage)
            try:
                summary = asyncio.run(
                    _crawl_until_signalled(
                        portals,
                        state,
                        sink,
                        max_pages=max_pages,
                        politeness_override=politeness_override,
                        progress=progress,
                        max_seconds=max_seconds,
                    )
                )
            finally:
                sink.shutdown()
            summary.record = runs.record(
                state,
                crawl_id,
                data_dir,
                summary,
                exit_code=exit_code(summary) if exit_code else None,
                also=summary_json,
            )
            return summary
        finally:
            state.close()
            compact(data_dir)  # publish the night's writes to the plain Parquet files


async def _crawl_until_signalled(
    portals: list[PortalConfig],
    state: State,
    sink: NightlySink,
    *,
    max_pages: int | None,
    politeness_override: Politeness | None,
    progress: bool,
    max_seconds: float | None,
) -> CrawlSummary:
    """The crawl, stopped cleanly by the first SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[str] = loop.create_future()
    with _stop_on_signals(loop, stop):
        return await crawl_async(
            portals,
            state,
            sink,
            max_pages=max_pages,
            politeness_override=politeness_override,
            progress=progress,
            stop=stop,
            max_seconds=max_seconds,
        )


@contextlib.contextmanager
def _stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Future[str]) -> Iterator[None]:
    """While the crawl runs, SIGINT and SIGTERM resolve ``stop`` with the signal's name;
    a second signal does what it did before (Ctrl-C twice: stop at once). Handlers can
    only be set in the main thread: elsewhere (a demo in a thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, object] = {}

    def resolve(name: str) -> None:  # in the event loop, not in the signal handler
        if not stop.done():
            log.warning("event=signal signal=%s: stopping the crawl, saving the state", name)
            stop.set_result(name)

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.done():
            before = previous.get(signum)
            if callable(before):
                before(signum, frame)
            raise KeyboardInterrupt
        loop.call_soon_threadsafe(resolve, signal.Signals(signum).name)

    for sig in (signal.SIGINT.value, signal.SIGTERM.value):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)  # type: ignore[arg-type]


class NightlySink:
    """Archives every body; extracts new or changed reports and stages them in batches.

    A report row stays ``pending`` in the crawl state until its batch is written; a later
    run stages what an interrupted one left pending, and retries failed ones.
    """

    def __init__(
        self,
        data_dir: Path,
        state: State,
        *,
        extract: Extractor = extract_document,
        stage: Stager = stage_reports,
        batch: int = BATCH_SIZE,
    ) -> None:
        self.data_dir = data_dir
        self.state = state
        self.extract = extract
        self.stage = stage
        self.batch = batch
        self.portals: dict[str, PortalConfig] = {}
        self.buffer: list[tuple[PortalSummary, str, StageItem]] = []
        self.lock = asyncio.Lock()
        self.slots = asyncio.Semaphore(MAX_IN_EXTRACTION)
        self.threads = ThreadPoolExecutor(MAX_IN_EXTRACTION + 1, thread_name_prefix="ogi-sink")
        self.working: dict[tuple[str, str], asyncio.Task[None]] = {}  # (portal, key) -> task
        self.summaries: dict[str, PortalSummary] = {}
        self.asked: set[tuple[str, str]] = set()  # (portal, page key): pictures asked for
        self.read: set[tuple[str, str]] = set()  # ... and read with them, in this run

    # ------------------------------------------------------------------ the Sink protocol

    async def open(self, portals: list[PortalConfig], summaries: dict[str, PortalSummary]) -> None:
        self.portals.update((p.name, p) for p in portals)
        self.summaries = summaries
        await self.retry(summaries)

    async def keep(self, doc: Fetched) -> str:
        fetched_at = doc.fetched_at or datetime.now(UTC)
        return await asyncio.to_thread(
            archive.write_body,
            self.data_dir,
            doc.body,
            url=doc.url,
            kind=doc.kind,
            content_type=doc.content_type,
            fetched_at=fetched_at,
            http_status=doc.http_status,
            headers=dict(doc.headers),
        )

    def kept(self, sha256: str) -> bytes | None:
        try:
            return archive.read_body(self.data_dir, sha256)
        except PipelineError:
            return None

    async def take(self, doc: Fetched, summary: PortalSummary) -> None:
        """Extract ``doc`` beside the crawl: the portal's next request need not wait for
        it (its host's delay is spent fetching, not extracting); at most
        :data:`MAX_IN_EXTRACTION` documents at once."""
        await self.slots.acquire()
        key = (doc.portal.name, doc.key)
        task = asyncio.create_task(self._take(doc, summary))
        self.working[key] = task
        task.add_done_callback(lambda t: self._finished(key, t))

    async def _take(self, doc: Fetched, summary: PortalSummary) -> None:
        try:
            page = self.working.get((doc.portal.name, doc.parent or ""))
            if doc.kind == "attachment" and page is not None:
                await asyncio.wait([page])  # compared with the page's figures once they are in
            await self._process(doc, summary, attempts=1)
        except Exception as exc:  # a bug must not end the crawl: the body is retried next run
            log.exception("event=internal_error url=%s", doc.url)
            summary.extract_errors += 1
            summary.reasons[f"internal error: {type(exc).__name__}"] += 1

    def _finished(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        self.slots.release()
        if self.working.get(key) is task:
            del self.working[key]

    async def settle(self, portal: PortalConfig) -> list[Resource]:
        """Once the portal's pages are extracted: the pictures of its image-only pages'
        tables to fetch; asked again after they are in, each such page is read again with
        its pictures (OCR, the figures the identities prove)."""
        mine = [t for (name, _), t in self.working.items() if name == portal.name]
        if mine:
            await asyncio.wait(mine)
        summary = self.summaries.get(portal.name) or PortalSummary(name=portal.name)
        wanted: list[Resource] = []
        for row in self.state.wanting(portal.name)[:MAX_PICTURED_PAGES]:
            pictures: dict[str, str] = json.loads(row.resources or "{}")
            key = (portal.name, row.key)
            if key in self.read:
                continue  # read in this run already; a wish it kept is for the next
            if key in self.asked:
                self.read.add(key)
                await self._read_pictures(portal, row, pictures, summary)
            elif len(self.asked) < MAX_PICTURED_PAGES_PER_RUN:
                self.asked.add(key)
                page_url = row.final_url or row.url
                wanted += [Resource(url, row.key, page_url) for url in pictures.values()]
        return wanted

    async def _read_pictures(
        self, portal: PortalConfig, row: UrlRow, pictures: dict[str, str], summary: PortalSummary
    ) -> None:
        """Extract an image-only page again with the pictures fetched for it (one of the
        documents in extraction at once). Its wish is spent once that is done (an
        unchanged page is not read again), unless a picture failed in a way that may pass
        (a timeout, a 5xx, a host left for later) and the page has attempts left; a run
        stopped before keeps it for the next."""
        fetched = {src: self.state.get(portal.name, url) for src, url in pictures.items()}
        transient = any(r is None or r.status not in (*GONE, "ok") for r in fetched.values())
        shas = {src: r.sha256 for src, r in fetched.items() if r and r.status == "ok" and r.sha256}
        images, page = await asyncio.to_thread(self._bodies, shas, row.sha256 or "")
        attempts = row.extract_attempts + 1
        if images and page is not None:
            async with self.slots:
                doc = _archived(portal, row, page)
                await self._process(doc, summary, attempts=attempts, images=images)
        else:  # nothing to read yet: the try counts all the same
            log.info("event=pictures_missing portal=%s url=%s", portal.name, row.url)
            self.state.update(portal.name, row.key, extract_attempts=attempts)
        keep = transient and attempts < MAX_EXTRACT_ATTEMPTS
        self.state.update(portal.name, row.key, resources=row.resources if keep else None)

    def _bodies(self, shas: dict[str, str], page: str) -> tuple[dict[str, bytes], bytes | None]:
        """The archived bodies of the pictures (by ``src``) and of the page."""
        images = {src: body for src, sha in shas.items() if (body := self.kept(sha)) is not None}
        return images, self.kept(page)

    async def close(self) -> None:
        while self.working:
            await asyncio.wait(list(self.working.values()))
        await self.flush()

    def shutdown(self) -> None:
        """Let the sink's threads go (after the crawl, stopped or not)."""
        self.threads.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ extraction

    async def _process(
        self,
        doc: Fetched,
        summary: PortalSummary,
        *,
        attempts: int,
        images: dict[str, bytes] | None = None,
    ) -> None:
        """Extract ``doc`` (with the pictures of its tables when given), record the
        outcome in the state, queue it for staging."""
        name = doc.portal.name
        try:
            report = await self._extracted(doc, images)
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("event=extract_error url=%s error=%s", doc.url, message)
            summary.extract_errors += 1
            self.state.update(
                name,
                doc.key,
                extract_status="error",
                extract_error=message,
                stage_status=None,
                extract_attempts=attempts,
            )
            return
        page = self.state.get(name, doc.parent) if doc.kind == "attachment" and doc.parent else None
        if page is not None and page.extract_status in ("ok", "partial"):
            # the page's figures are staged: this file is the official copy, compared with them
            await self._compare(doc, report, page, summary, attempts=attempts)
            return
        unreadable = report.meta.status in UNREADABLE
        outcome = extract_outcome(report)
        if (
            not report.fact_list
            and not report.pre2019_list
            and not unreadable
            and (doc.kind == "attachment" or doc.attachments)
        ):
            # the figures, if any, are in an attachment (or this attachment is something else)
            self.state.update(
                name,
                doc.key,
                extract_status="no_tables",
                extract_error=None,
                stage_status=None,
                extract_attempts=attempts,
                tables_in_attachment=int(doc.kind == "report"),
            )
            return
        staged = self.state.get(name, doc.key)
        if staged is not None and _rank(outcome) < _rank(staged.staged_status):
            # an error page, a JS challenge, a cut or garbled body answered for a good
            # report: the good version stays staged, this body stays in the archive
            wish = _pictures(doc, report) if images is None else None
            if wish is None:
                summary.suspicious += 1
                figures = len(report.fact_list) + len(report.pre2019_list)
                message = (
                    f"suspicious change: this version reads {outcome} ({figures} figures); "
                    f"the staged {staged.staged_status} version is kept"
                )
                log.warning("event=suspicious_change url=%s %s", doc.url, message)
            else:  # a new version printed as pictures: it is read once they are fetched
                message = (
                    f"its tables are pictures: the staged {staged.staged_status} version "
                    "is kept until they are read"
                )
            self.state.update(
                name,
                doc.key,
                extract_status=outcome,
                extract_error=message,
                stage_status="kept_previous",
                extract_attempts=attempts,
                resources=wish,
            )
            return
        self.state.update(
            name,
            doc.key,
            extract_status=outcome,
            # an unreadable document is staged all the same (the reports dataset counts
            # it); the reason is kept for the run's summary
            extract_error=_unreadable_reason(report) if unreadable else None,
            stage_status="pending",
            extract_attempts=attempts,
            resources=_pictures(doc, report) if images is None else None,
        )
        item = StageItem(
            report=report,
            url=doc.url,
            region=doc.portal.region,
            region_code=doc.portal.region_code,
            fetched_at=doc.fetched_at,
            content_type=doc.content_type,
            page_url=page.final_url or page.url if page is not None else None,
        )
        await self.add(summary, doc.key, item)

    async def _compare(
        self,
        doc: Fetched,
        official: Report,
        page: UrlRow,
        summary: PortalSummary,
        *,
        attempts: int,
    ) -> None:
        """Both the page and its attached file carry the tables: the page's figures stay
        staged, with a finding for every figure the file prints otherwise."""
        self.state.update(
            doc.portal.name,
            doc.key,
            extract_status=official.meta.status,
            extract_error=None,
            stage_status="compared",
            extract_attempts=attempts,
        )
        body = self.kept(page.sha256 or "")
        if body is None or not official.fact_list:
            return
        url = page.final_url or page.url
        link = Link(page.url, page.title, page.listed_date) if page.title else None
        shown = replace(doc, key=page.key, kind="report", url=url, body=body, link=link)
        shown = replace(shown, content_type=page.content_type, parent=None, attachments=())
        report = await self._extracted(shown)
        report.finding_list.extend(disagreements(report, official, doc.url))
        item = StageItem(
            report=report,
            url=url,
            region=doc.portal.region,
            region_code=doc.portal.region_code,
            fetched_at=datetime.fromisoformat(page.fetched_at) if page.fetched_at else None,
            content_type=page.content_type,
        )
        await self.add(summary, page.key, item)

    async def _extracted(self, doc: Fetched, images: dict[str, bytes] | None = None) -> Report:
        """:meth:`_extract_report` in the sink's own threads: a thread waiting for an
        extraction worker never holds up the archive writes of the crawl."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.threads, self._extract_report, doc, images)

    def _extract_report(self, doc: Fetched, images: dict[str, bytes] | None = None) -> Report:
        """Run the extractor and fill the metadata it left empty from the listing link."""
        given = {"images": images} if images else {}
        report = self.extract(doc.body, source=doc.url, content_type=doc.content_type, **given)
        if doc.link is not None:
            meta = report.meta
            meta.title = meta.title or doc.link.title
            meta.report_year = meta.report_year or title_year(doc.link.title)
            meta.agency = meta.agency or title_agency(doc.link.title)
            meta.published = meta.published or doc.link.date
        return report

    # ------------------------------------------------------------------ staging

    async def add(self, summary: PortalSummary, key: str, item: StageItem) -> None:
        self.buffer.append((summary, key, item))
        # one flush at a time: adds that arrive while a batch is written wait for the next
        # batch instead of queueing flushes of a few reports each
        if len(self.buffer) >= self.batch and not self.lock.locked():
            await self.flush()

    async def flush(self) -> None:
        async with self.lock:
            entries, self.buffer = self.buffer, []
            if not entries:
                return
            try:
                await asyncio.to_thread(self.stage, self.data_dir, [e[2] for e in entries])
                done = entries
            except Exception:
                log.warning("event=stage_batch_error items=%s: staging one by one", len(entries))
                done = []
                for entry in entries:  # isolate the report that breaks the batch
                    try:
                        await asyncio.to_thread(self.stage, self.data_dir, [entry[2]])
                        done.append(entry)
                    except Exception as exc:
                        message = f"staging: {type(exc).__name__}: {exc}"[:500]
                        log.warning("event=stage_error key=%s error=%s", entry[1], message)
                        entry[0].stage_errors += 1
                        self.state.mark_stage(entry[0].name, entry[1], "error", message)
            for summary, key, _item in done:
                self.state.mark_stage(summary.name, key, "staged", None)
            log.info("event=staged reports=%s", len(done))

    # ------------------------------------------------------------------ retries

    async def retry(self, summaries: dict[str, PortalSummary]) -> int:
        """Extract again from the archive and stage the reports of the portals that an
        interrupted crawl left unprocessed or pending, or whose extraction or staging
        failed (each body at most :data:`MAX_EXTRACT_ATTEMPTS` times): no network."""
        rows = self.state.to_restage(list(self.portals), MAX_EXTRACT_ATTEMPTS)
        for row in rows:
            summary = summaries.get(row.portal) or PortalSummary(name=row.portal)
            summary.retried += 1
            url = row.final_url or row.url
            try:
                body = archive.read_body(self.data_dir, row.sha256 or "")
            except PipelineError as exc:
                message = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("event=extract_error url=%s error=%s", url, message)
                summary.extract_errors += 1
                self.state.update(
                    row.portal,
                    row.key,
                    extract_status="error",
                    extract_error=message,
                    stage_status=None,
                    extract_attempts=row.extract_attempts + 1,
                )
                continue
            doc = _archived(self.portals[row.portal], row, body)
            await self._process(doc, summary, attempts=row.extract_attempts + 1)
        await self.flush()
        if rows:
            log.info("event=stage_recovered reports=%s", len(rows))
        return len(rows)


def _archived(portal: PortalConfig, row: UrlRow, body: bytes) -> Fetched:
    """A document as the state and the archive keep it, to extract again (no network)."""
    url = row.final_url or row.url
    attachments: tuple[str, ...] = ()
    if row.kind == "report" and looks_like_html(body, row.content_type):
        html = decode_html(body, row.content_type)
        attachments = tuple(u for u in attachment_links(html, url) if portal.allows(u))
    return Fetched(
        portal=portal,
        key=row.key,
        kind=row.kind,
        url=url,
        body=body,
        content_type=row.content_type,
        fetched_at=datetime.fromisoformat(row.fetched_at) if row.fetched_at else None,
        link=Link(row.url, row.title, row.listed_date) if row.title else None,
        parent=row.parent,
        attachments=attachments,
    )


def _pictures(doc: Fetched, report: Report) -> str | None:
    """An image-only report page's pictured tables to fetch, as JSON {src: URL}: on the
    portal's origins, at most the few the extractor names; None when there are none."""
    if doc.kind != "report" or report.meta.status != "image_only":
        return None
    pictures = picture_urls(doc.url, report.table_images, doc.portal.allows)
    return json.dumps(pictures, ensure_ascii=False) if pictures else None


def disagreements(page: Report, official: Report, official_url: str) -> list[Finding]:
    """Findings comparing every figure both documents print as a number: one
    ``attachment_disagrees`` warning per figure that differs, and one
    ``attachment_compared`` summary (pass when they all agree)."""
    theirs = {f.key: f.number for f in official.fact_list if f.number is not None}
    compared = disagree = 0
    found: list[Finding] = []
    for fact in page.fact_list:
        if fact.number is None or fact.key not in theirs:
            continue
        compared += 1
        if theirs[fact.key] != fact.number:
            disagree += 1
            found.append(
                Finding(
                    check="attachment_disagrees",
                    status="warning",
                    table=fact.table,
                    row=fact.row,
                    column=fact.column,
                    expected=float(theirs[fact.key]),  # type: ignore[arg-type]
                    printed=float(fact.number),
                    message=f"the page prints {fact.number}, its attached file "
                    f"{theirs[fact.key]} ({official_url})",
                )
            )
    summary = Finding(
        check="attachment_compared",
        status="fail" if disagree else "pass",
        message=f"{compared} figures compared with the attached {official.meta.document_format} "
        f"file {official_url}: {disagree} disagree",
    )
    return [summary, *found]


_RANKS = {"ok": 2, "partial": 1, "pre2019": 1}


def _rank(status: str | None) -> int:
    """How much of a report a status says was read: ok > partial and pre2019 > anything
    else (a pre-2019 report whose new version lost its 统计表 reads worse)."""
    return _RANKS.get(status or "", 0)


def extract_outcome(report: Report) -> str:
    """What the crawl state records of an extraction: the report's status, but
    ``pre2019`` for a report with no national table whose pre-2019 统计表 was read (its
    figures are staged: it needs no attention)."""
    if report.meta.status == "no_tables" and report.pre2019_list:
        return "pre2019"
    return report.meta.status


def _unreadable_reason(report: Report) -> str:
    """``image_only``, ``unreadable: converter_missing`` ... for the crawl summary."""
    why = next((f.check for f in report.finding_list if f.status == "warning"), None)
    status = report.meta.status
    return status if why in (None, status) else f"{status}: {why}"
