"""Re-run the current extractor over the raw archive (no network) and re-stage.

Bodies come from :mod:`pipeline.archive`: every staged report is re-extracted from the
body it was staged from, plus archived report pages that were never staged (a better
extractor may now find their tables). The work runs on all cores in tasks of
:data:`TASK_SIZE` reports: a worker extracts them, compares their figures with the staged
ones (sent with the task, as plain Arrow) and writes their rows itself into one pending
staging write; it returns only a small summary, never a Report. The parent commits the
write when every task is done (a crash before leaves the staged data as it was), then
compacts.
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import load
from pipeline.archive import list_bodies, read_body
from pipeline.datadir import WriterLock
from pipeline.datasets import (
    DATASETS,
    Snapshot,
    as_printed,
    bucket_of,
    rows_of,
    snapshot,
    to_pandas,
)
from pipeline.extract import extract_document
from pipeline.flows.pictures import archived_pictures
from pipeline.model import Report
from pipeline.stage import (
    StageItem,
    compact,
    facts_table,
    pre2019_table,
    remove_reports,
    report_id_for,
    staging,
    write_chunk,
)

#: Reports per task sent to a worker: big enough that a task's overhead is small, small
#: enough that the workers stay busy to the end.
TASK_SIZE = 32

#: Figures compared between the old and the new extraction, per dataset.
FIGURE = ["table", "row", "column", "value", "amount", "semantic"]
PRE2019_FIGURE = ["position", "label", "period", "unit", "value", "amount", "semantic", "key"]
COMPARED = {"facts": FIGURE, "pre2019": PRE2019_FIGURE}
#: The order figures are compared in.
_ORDERS = {"facts": ("table", "row", "column", "semantic"), "pre2019": ("position",)}


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
    #: staged reports whose new reading found no figure at all (an image-only page
    #: without its pictures, OCR or a converter missing here, a budget hit): kept as staged
    kept: dict[str, str] = field(default_factory=dict)  # report_id -> why

    def merge(self, other: Outcome) -> None:
        self.examined += other.examined
        self.staged += other.staged
        self.failed += other.failed
        self.changed.update(other.changed)
        self.added += other.added
        self.titles.update(other.titles)
        self.kept.update(other.kept)


@dataclass(frozen=True, slots=True)
class Task:
    """What a worker needs for a few reports: the jobs, their staged figures (plain Arrow:
    report_id + FIGURE, sorted; ``old_pre2019`` the same of their pre-2019 figures) and
    where to write their rows."""

    data_dir: str
    directory: str  # the pending write's hidden directory
    seq: int
    chunk: int
    jobs: tuple[Job, ...]
    old: pa.Table
    now: datetime
    old_pre2019: pa.Table | None = None


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


def _extract(data_dir: str, job: Job, generation: object = None) -> Report:
    """The report of ``job``'s body; a page whose tables are pictures is read again with
    the pictures the nightly crawl archived for it (OCR), when there are any."""
    body = read_body(Path(data_dir), job.sha256)
    report = extract_document(body, source=job.url, content_type=job.content_type)
    if report.table_images:
        images = archived_pictures(Path(data_dir), job.url, report.table_images, generation)
        if images:
            return extract_document(
                body, source=job.url, content_type=job.content_type, images=images
            )
    return report


def _lost_everything(report: Report, previous: dict[str, object] | None) -> bool:
    """A new reading with no figure at all where the staged one has some: never staged
    over it (a missing tool, budget or picture here must not wipe what was read)."""
    staged = _text((previous or {}).get("status"))
    return staged in ("ok", "partial") and report.meta.status in ("image_only", "unreadable")


def _why(report: Report) -> str:
    warnings = [f.check for f in report.finding_list if f.status == "warning"]
    return ", ".join(dict.fromkeys(warnings)) or "no figure read"


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
    """The staged figures of some reports (and of no other), grouped by report, with the
    keys still dictionary-encoded; :meth:`take` gives a task its reports' figures as a small
    plain table in canonical order (dictionaries and slices would pickle whole). ``dataset``:
    ``facts``, or ``pre2019`` for the figures of pre-2019 statistics tables."""

    def __init__(
        self, snap: Snapshot, year: int | None, ids: Iterable[str], dataset: str = "facts"
    ) -> None:
        self.dataset = dataset
        table = rows_of(snap, dataset, year, ids, ["report_id", *COMPARED[dataset]])
        rids = table.column("report_id").cast(pa.string())
        order = pc.sort_indices(rids)
        self.table = table.take(order)
        sorted_ids = rids.take(order).to_numpy(zero_copy_only=False)
        self.where: dict[str, tuple[int, int]] = {}
        if len(sorted_ids):
            starts = [0, *(np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1).tolist()]
            ends = [*starts[1:], len(sorted_ids)]
            for begin, stop in zip(starts, ends, strict=True):
                self.where[str(sorted_ids[begin])] = (begin, stop - begin)

    def take(self, ids: Iterable[str]) -> pa.Table:
        spans = [self.where[i] for i in ids if i in self.where]
        rows = [np.arange(b, b + n) for b, n in spans]
        index = pa.array(np.concatenate(rows) if rows else np.array([], dtype=np.int64))
        plain = _plain_figures(self.table.take(index), self.dataset)  # small: sorted decoded
        order = _ORDERS[self.dataset]
        return plain.sort_by([("report_id", "ascending"), *((n, "ascending") for n in order)])


def _plain_figures(table: pa.Table, dataset: str = "facts") -> pa.Table:
    return table.cast(pa.schema([pa.field("report_id", pa.string()), *_figures_schema(dataset)]))


def _figures_schema(dataset: str) -> pa.Schema:
    """The compared columns as plain typed Arrow (keys decoded, figures as staged)."""
    schema = DATASETS[dataset]
    return pa.schema(
        [
            pa.field(n, schema.field(n).type.value_type)
            if pa.types.is_dictionary(schema.field(n).type)
            else pa.field(n, schema.field(n).type)
            for n in COMPARED[dataset]
        ]
    )


def figures(table: pa.Table, dataset: str = "facts") -> pa.Table:
    """``table``'s figures in one canonical order and schema, for an exact comparison."""
    table = table.select(COMPARED[dataset]).cast(_figures_schema(dataset))
    return table.sort_by([(n, "ascending") for n in _ORDERS[dataset]])


def new_figures(report: Report, dataset: str = "facts") -> pa.Table:
    """The figures of a new extraction, converted exactly as staging converts them."""
    item = StageItem(report=report, url="", region=None, region_code=None, fetched_at=None)
    convert = pre2019_table if dataset == "pre2019" else facts_table
    return figures(convert([item]), dataset)


def _pre2019_keyed(frame: pd.DataFrame) -> dict[str, tuple[object, str]]:
    """Pre-2019 figures by ``pre2019/<label> [<period>]``: (figure or semantic, semantic)."""
    return {
        f"pre2019/{label} [{period}]": (
            v if not pd.isna(v) else (as_printed(a) if not pd.isna(a) else s),
            s,
        )
        for label, period, v, a, s in zip(
            frame["label"],
            frame["period"],
            frame["value"],
            frame["amount"],
            frame["semantic"],
            strict=True,
        )
    }


def differences(old: pd.DataFrame, new: pd.DataFrame, limit: int = 5) -> list[str]:
    """Human-readable differences between two extractions of one report (of ``facts``, or
    of ``pre2019`` figures: frames with a ``label`` column)."""

    def keyed(frame: pd.DataFrame) -> dict[str, tuple[object, str]]:
        if "label" in frame.columns:
            return _pre2019_keyed(frame)
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
    now = datetime.now(UTC)
    with staging(data_dir) as write:
        tasks = _tasks(data_dir, jobs, write.tmp, write.seq, write.next_chunk, now)
        for result in _results(tasks, len(jobs), workers, progress):
            outcome.merge(result)
    compact(data_dir, workers=workers)
    # reports staged under an id made before URLs were canonical now live under their
    # canonical id: the old copies go
    superseded = {_staged_id(j) for j in jobs if j.previous is not None} - set(outcome.titles)
    superseded -= {report_id_for(j.url) for j in jobs}
    if superseded:
        remove_reports(data_dir, superseded)
    return outcome


def _staged_id(job: Job) -> str:
    """The id the report is staged under (an older version may have made it otherwise)."""
    assert job.previous is not None
    return str(job.previous.get("report_id") or report_id_for(job.url))


def _year(job: Job) -> int | None:
    year = None if job.previous is None else job.previous.get("report_year")
    return None if year is None or pd.isna(year) else int(year)  # type: ignore[call-overload]


def _tasks(
    data_dir: Path,
    jobs: list[Job],
    directory: Path,
    seq: int,
    next_chunk: Callable[[], int],
    now: datetime,
) -> Iterator[Task]:
    """Tasks of :data:`TASK_SIZE` jobs, grouped by the staged year and bucket of their
    reports: each group's staged figures are read once, from its one bucket file, when its
    first task is due (so memory follows a bucket, not the dataset)."""
    groups: dict[tuple[bool, int, str], list[Job]] = defaultdict(list)
    for job in jobs:
        year = _year(job)
        staged = job.previous is not None
        rid = _staged_id(job) if staged else report_id_for(job.url)
        groups[(staged, -1 if year is None else year, bucket_of(rid))].append(job)
    empty = {d: _empty_figures(d) for d in COMPARED}
    snap = snapshot(data_dir)  # we hold the write lock: no compaction changes it meanwhile
    for (staged, year, _), group in sorted(groups.items()):
        ids = [_staged_id(j) if staged else report_id_for(j.url) for j in group]
        when = None if year == -1 else year
        old = OldFacts(snap, when, ids) if staged else None
        # a bucket file per year: none to read in the years after 2018, mostly
        older = OldFacts(snap, when, ids, "pre2019") if staged else None
        for start in range(0, len(group), TASK_SIZE):
            batch = tuple(group[start : start + TASK_SIZE])
            mine = ids[start : start + TASK_SIZE]
            yield Task(
                data_dir=str(data_dir),
                directory=str(directory),
                seq=seq,
                chunk=next_chunk(),
                jobs=batch,
                old=old.take(mine) if old is not None else empty["facts"],
                now=now,
                old_pre2019=older.take(mine) if older is not None else empty["pre2019"],
            )


def _empty_figures(dataset: str) -> pa.Table:
    schema = pa.schema([pa.field("report_id", pa.string()), *_figures_schema(dataset)])
    return schema.empty_table()


def run_task(task: Task) -> Outcome:
    """Extract, compare and write a task's reports (in a worker); returns the summary."""
    out = Outcome()
    old = _split(task.old)
    old_pre2019 = _split(task.old_pre2019) if task.old_pre2019 is not None else {}
    items: list[StageItem] = []
    for job in task.jobs:
        out.examined += 1
        try:
            report = _carry_context(_extract(task.data_dir, job, task.now), job.previous)
        except Exception as exc:  # one bad body must not stop the run
            out.failed.append((job.url, f"{type(exc).__name__}: {exc}"))
            continue
        if job.previous is None and not report.fact_list and not report.pre2019_list:
            continue  # still no tables: nothing to stage
        rid = report_id_for(job.url)
        if _lost_everything(report, job.previous):
            out.kept[rid] = f"now reads {report.meta.status}: {_why(report)}"
            out.titles[rid] = report.meta.title or job.url
            continue
        if job.previous is None:
            out.added.append(rid)
        else:
            lines = []
            for staged, dataset in ((old, "facts"), (old_pre2019, "pre2019")):
                new = new_figures(report, dataset)
                before = staged.get(_staged_id(job), new.slice(0, 0))
                if not new.equals(before):
                    lines += differences(to_pandas(before), to_pandas(new))
            if lines:
                out.changed[rid] = lines
        out.titles[rid] = report.meta.title or job.url
        previous = job.previous or {}
        items.append(
            StageItem(
                report=report,
                url=job.url,
                region=_text(previous.get("region")),
                region_code=_text(previous.get("region_code")),
                fetched_at=job.fetched_at,
                content_type=job.content_type,
                extracted_at=task.now,
                page_url=_text(previous.get("page_url")),
            )
        )
    _write(task, items, out)
    return out


def _write(task: Task, items: list[StageItem], out: Outcome) -> None:
    """Write the task's rows; a report that cannot be staged (a figure out of range) is
    reported failed, and the others are written all the same."""
    directory = Path(task.directory)
    try:
        write_chunk(directory, task.seq, task.chunk, items, task.now)
        out.staged += len(items)
        return
    except (ValueError, OverflowError, pa.ArrowException):
        for path in directory.glob(f"*_{task.seq}_*_{task.chunk}.parquet"):
            path.unlink()
    good = []
    for item in items:
        try:
            facts_table([item])
            good.append(item)
        except (ValueError, OverflowError, pa.ArrowException) as exc:
            out.failed.append((item.url, f"staging: {type(exc).__name__}: {exc}"))
            out.changed.pop(item.report_id, None)
            if item.report_id in out.added:
                out.added.remove(item.report_id)
    if good:
        write_chunk(directory, task.seq, task.chunk, good, task.now)
    out.staged += len(good)


def _split(table: pa.Table) -> dict[str, pa.Table]:
    """Figures per report_id (``table`` is sorted by report)."""
    if table.num_rows == 0:
        return {}
    rids = table.column("report_id").to_numpy(zero_copy_only=False)
    starts = [0, *(np.flatnonzero(rids[1:] != rids[:-1]) + 1).tolist()]
    ends = [*starts[1:], len(rids)]
    body = table.drop_columns(["report_id"])
    return {str(rids[b]): body.slice(b, e - b) for b, e in zip(starts, ends, strict=True)}


def _results(
    tasks: Iterator[Task],
    total: int,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> Iterator[Outcome]:
    """The tasks' summaries, computed on ``workers`` processes (in this one for 1)."""
    workers = workers or os.cpu_count() or 1
    done = 0
    if progress:
        progress(0, total)
    if workers <= 1 or total <= TASK_SIZE:
        for task in tasks:
            result = run_task(task)
            done += len(task.jobs)
            if progress:
                progress(done, total)
            yield result
        return
    window = workers * 3  # bounded number of tasks in flight
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, Future[Outcome]]] = deque()
        for task in tasks:
            pending.append((len(task.jobs), pool.submit(run_task, task)))
            while len(pending) >= window or (pending and pending[0][1].done()):
                size, future = pending.popleft()
                yield future.result()
                done += size
                if progress:
                    progress(done, total)
        while pending:
            size, future = pending.popleft()
            yield future.result()
            done += size
            if progress:
                progress(done, total)
