"""Re-run the current extractor over the raw archive (no network) and re-stage.

Bodies come from :mod:`pipeline.archive`: every staged report is re-extracted from the
body it was staged from, plus archived report pages that were never staged (a better
extractor may now find their tables). Extraction runs on all cores; staging is one batch,
so a crash before its end leaves the staged data as it was.
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import load
from pipeline.archive import list_bodies, read_body
from pipeline.datadir import WriterLock
from pipeline.datasets import FACTS_SCHEMA, as_printed, to_pandas
from pipeline.extract import extract_document
from pipeline.model import Report
from pipeline.stage import (
    StageItem,
    bucket_of,
    facts_table,
    remove_reports,
    report_id_for,
    stage_reports,
)
from pipeline.stage.store import bucket_path

#: Figures compared between the old and the new extraction.
FIGURE = ["table", "row", "column", "value", "amount", "semantic"]


@dataclass(frozen=True, slots=True)
class Job:
    url: str
    sha256: str
    content_type: str | None
    fetched_at: datetime | None
    previous: dict[str, object] | None  # the staged reports row, if any


@dataclass(slots=True)
class Outcome:
    examined: int = 0
    staged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # report_id -> differences
    added: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)


def _version_key(version: str) -> tuple:
    parts = []
    for piece in version.replace("-", ".").split("."):
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return tuple(parts)


def older_than(version: str | None, since: str) -> bool:
    """True when ``version`` (a staged extractor version) is older than ``since``."""
    if not version:
        return True
    return _version_key(version) < _version_key(since)


def plan(data_dir: Path, since: str | None = None) -> list[Job]:
    """What to re-extract: staged reports (filtered by ``since``) and unstaged report pages."""
    with warnings.catch_warnings():  # an archive with nothing staged yet is fine here
        warnings.simplefilter("ignore", load.EmptyDataWarning)
        staged = load.reports(data_dir=data_dir)
    jobs: dict[str, Job] = {}
    for row in staged.to_dict("records"):
        if since is not None and not older_than(row.get("extractor_version"), since):
            continue
        jobs[row["url"]] = Job(
            url=row["url"],
            sha256=row["sha256"],
            content_type=_text(row.get("content_type")),
            fetched_at=_when(row.get("fetched_at")),
            previous=row,
        )
    staged_urls = set(staged["url"]) if not staged.empty else set()
    latest: dict[str, Job] = {}
    for body in list_bodies(data_dir, kinds=("report",)):
        if body.url in staged_urls:
            if body.url in jobs and jobs[body.url].content_type is None:
                job = jobs[body.url]
                if job.sha256 == body.sha256:
                    jobs[body.url] = Job(
                        job.url, job.sha256, body.content_type, job.fetched_at, job.previous
                    )
            continue
        latest[body.url] = Job(body.url, body.sha256, body.content_type, body.fetched_at, None)
    jobs.update(latest)
    return list(jobs.values())


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _when(value: object) -> datetime | None:
    if value is None or (not isinstance(value, datetime) and pd.isna(value)):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _extract(data_dir: str, job: Job) -> Report:
    body = read_body(Path(data_dir), job.sha256)
    return extract_document(body, source=job.url, content_type=job.content_type)


def _carry_context(report: Report, previous: dict[str, object] | None) -> Report:
    """Keep what the crawler took from the listing (title, year, agency, date) when the
    page itself does not print it."""
    if previous is None:
        return report
    meta = report.meta
    meta.title = meta.title or _text(previous.get("title"))
    meta.agency = meta.agency or _text(previous.get("agency"))
    year = previous.get("report_year")
    if meta.report_year is None and year is not None and not pd.isna(year):
        meta.report_year = int(year)  # type: ignore[call-overload]
    published = previous.get("published")
    if not meta.published and published is not None and not pd.isna(published):
        meta.published = str(published)[:10]
    return report


class OldFacts:
    """The staged figures of the reports being re-extracted (and of no other), typed Arrow.

    Read file by file from the bucket each report lives in, keeping only ``FIGURE``
    columns (categorical keys stay dictionary-encoded), so memory follows the reports
    re-extracted, not the whole dataset.
    """

    def __init__(self, data_dir: Path, jobs: list[Job]) -> None:
        wanted: dict[Path, set[str]] = defaultdict(set)
        for job in jobs:
            if job.previous is None:
                continue
            year = job.previous.get("report_year")
            year = None if year is None or pd.isna(year) else int(year)  # type: ignore[call-overload]
            rid = str(job.previous["report_id"])  # as staged (ids made by older versions too)
            wanted[bucket_path(data_dir, "facts", year, bucket_of(rid))].add(rid)
        self.tables: list[pa.Table] = []
        self.where: dict[str, tuple[int, int, int]] = {}  # rid -> (table, offset, length)
        for path, ids in wanted.items():
            if not path.exists():
                continue
            table = pq.read_table(path, columns=["report_id", *FIGURE])
            rids = table.column("report_id").cast(pa.string())
            keep = pc.is_in(rids, value_set=pa.array(sorted(ids), type=pa.string()))
            table, rids = table.filter(keep), rids.filter(keep)
            order = pc.sort_indices(rids)
            table = table.take(order).drop_columns(["report_id"])
            sorted_ids = rids.take(order).to_numpy(zero_copy_only=False)
            if not len(sorted_ids):
                continue
            starts = [0, *(np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1).tolist()]
            ends = [*starts[1:], len(sorted_ids)]
            for begin, stop in zip(starts, ends, strict=True):
                self.where[str(sorted_ids[begin])] = (len(self.tables), begin, stop - begin)
            self.tables.append(table)

    def of(self, report_id: str) -> pa.Table:
        found = self.where.get(report_id)
        if found is None:
            return _FIGURES.empty_table()
        index, offset, length = found
        return self.tables[index].slice(offset, length)


#: The compared columns as plain typed Arrow (keys decoded, figures as staged).
_FIGURES = pa.schema(
    [
        pa.field(n, FACTS_SCHEMA.field(n).type.value_type)
        if pa.types.is_dictionary(FACTS_SCHEMA.field(n).type)
        else pa.field(n, FACTS_SCHEMA.field(n).type)
        for n in FIGURE
    ]
)


def figures(table: pa.Table) -> pa.Table:
    """``table``'s figures in one canonical order and schema, for an exact comparison."""
    table = table.select(FIGURE).cast(_FIGURES)
    return table.sort_by([(n, "ascending") for n in ("table", "row", "column", "semantic")])


def new_figures(report: Report) -> pa.Table:
    """The figures of a new extraction, converted exactly as staging converts them."""
    item = StageItem(report=report, url="", region=None, region_code=None, fetched_at=None)
    return figures(facts_table([item]))


def differences(old: pd.DataFrame, new: pd.DataFrame, limit: int = 5) -> list[str]:
    """Human-readable differences between two extractions of one report."""

    def keyed(frame: pd.DataFrame) -> dict[str, tuple[object, str]]:
        return {
            f"{t}/{r}/{c}": (v if not pd.isna(v) else (as_printed(a) if not pd.isna(a) else s), s)
            for t, r, c, v, a, s in zip(
                frame["table"],
                frame["row"],
                frame["column"],
                frame["value"],
                frame["amount"],
                frame["semantic"],
                strict=True,
            )
        }

    before, after = keyed(old), keyed(new)
    lines = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            was = before.get(key, ("absent", ""))[0]
            now = after.get(key, ("absent", ""))[0]
            lines.append(f"{key}: {was} -> {now}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return lines


def run(
    data_dir: Path,
    *,
    since: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Re-extract and re-stage; returns what changed.

    Holds the writer lock throughout (a crawl staging the same reports meanwhile would race
    with it): raises :class:`~pipeline.errors.LockedError` when a crawl is running.
    """
    with WriterLock(Path(data_dir)):
        return _run(Path(data_dir), since=since, workers=workers, progress=progress)


def _run(
    data_dir: Path,
    *,
    since: str | None,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> Outcome:
    jobs = plan(data_dir, since)
    outcome = Outcome()
    old_facts = OldFacts(data_dir, jobs)
    changed: list[tuple[str, str, pa.Table]] = []
    superseded: set[str] = set()  # staged ids that are no longer any report's id
    now = datetime.now(UTC)

    def items() -> Iterator[StageItem]:
        for job, result in _results(data_dir, jobs, workers, progress):
            outcome.examined += 1
            if isinstance(result, BaseException):
                outcome.failed.append((job.url, f"{type(result).__name__}: {result}"))
                continue
            report = _carry_context(result, job.previous)
            if job.previous is None and not report.fact_list:
                continue  # still no tables: nothing to stage
            rid = report_id_for(job.url)
            outcome.titles[rid] = report.meta.title or job.url
            if job.previous is None:
                outcome.added.append(rid)
            else:
                old_rid = str(job.previous["report_id"])
                if old_rid != rid:  # an id from before URLs were canonical: migrated
                    superseded.add(old_rid)
                new = new_figures(report)
                if not new.equals(figures(old_facts.of(old_rid))):
                    changed.append((rid, old_rid, new))
            outcome.staged += 1
            previous = job.previous or {}
            yield StageItem(
                report=report,
                url=job.url,
                region=_text(previous.get("region")),
                region_code=_text(previous.get("region_code")),
                fetched_at=job.fetched_at,
                content_type=job.content_type,
                extracted_at=now,
                page_url=_text(previous.get("page_url")),
            )

    stage_reports(data_dir, items(), now=now)
    staged = set(outcome.titles)
    if superseded - staged:
        remove_reports(data_dir, superseded - staged)
    for rid, old_rid, new in changed:
        old = to_pandas(figures(old_facts.of(old_rid)))
        outcome.changed[rid] = differences(old, to_pandas(new))
    return outcome


def _results(
    data_dir: Path,
    jobs: list[Job],
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> Iterator[tuple[Job, Report | BaseException]]:
    """Extraction results in job order, computed on ``workers`` processes."""
    total = len(jobs)
    workers = workers or os.cpu_count() or 1
    if progress:
        progress(0, total)
    if workers <= 1 or total <= 1:
        for done, job in enumerate(jobs, 1):
            try:
                yield job, _extract(str(data_dir), job)
            except Exception as exc:  # one bad body must not stop the run
                yield job, exc
            if progress:
                progress(done, total)
        return
    window = workers * 4  # bounded number of results in flight
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: list[tuple[Job, Future[Report]]] = []
        queue = iter(jobs)
        done = 0
        for job in queue:
            pending.append((job, pool.submit(_extract, str(data_dir), job)))
            if len(pending) >= window:
                break
        while pending:
            job, future = pending.pop(0)
            try:
                result: Report | BaseException = future.result()
            except Exception as exc:
                result = exc
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(_extract, str(data_dir), nxt)))
            done += 1
            if progress:
                progress(done, total)
            yield job, result
