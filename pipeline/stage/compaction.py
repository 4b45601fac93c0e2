"""Compaction: fold the pending writes into the published bucket files, off the hot path
(the end of a nightly crawl, of ``reextract`` and of ``extract --stage``, or
``python -m pipeline compact``), and removal of reports.

Plain Parquet readers list the published files, so compaction orders its renames for them:
a report that leaves a file (moved to another year, removed, or a duplicate a killed
writer of an older version left) leaves ``facts``, ``findings`` and ``pre2019`` before
``reports``; a report that arrives is written to ``reports`` before the others. Every file
is replaced in one rename. So a reader of a dataset never sees a report twice, and a
report's facts (and pre-2019 figures) are only there while its ``reports`` row is. Pending
writes are retired only once everything is published, oldest first: a compaction killed at
any moment is finished by the next one, which starts again from the same pending writes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline.datadir import parquet_dir
from pipeline.datasets import (
    CONTEXT,
    CROSS_YEAR_FILE,
    DATASETS,
    REPORT_ROWS,
    Commit,
    Snapshot,
    bucket_of,
    bucket_path,
    dataset_dir,
    full_schema,
    keep_context,
    open_dataset,
    partition_name,
    pending_root,
    pending_rows,
    snapshot,
)
from pipeline.stage.cross_year import agency_key
from pipeline.stage.pending import PendingWrite
from pipeline.stage.refresh import BATCH_SIZE, Mapper, refresh_after, refresh_locked
from pipeline.stage.store import (
    Replacement,
    compacting,
    discard,
    file_versions,
    fsync_dir,
    prepare,
    read_file,
    read_ids,
    remove_stale_temporaries,
    replace_all,
    without_ids,
    write_atomic,
    write_datapackage,
    write_lock,
)

Key = tuple[int | None, str]  # (report year, bucket)


@dataclass(frozen=True, slots=True)
class Compacted:
    """What a compaction did."""

    commits: int = 0  # pending writes folded in
    published: int = 0  # reports written into the published files
    taken_out: int = 0  # reports taken out of a published year (moved, removed, duplicate)
    files: int = 0  # published files rewritten


@dataclass(slots=True)
class Plan:
    """Which published files a compaction rewrites (pure data, from :func:`plan`)."""

    leave: dict[Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    arrive: dict[int | None, set[str]] = field(default_factory=lambda: defaultdict(set))
    old_keys: set[str] = field(default_factory=set)  # agencies the touched reports had

    @property
    def years(self) -> set[int | None]:
        return {y for y, _ in self.leave} | set(self.arrive)


def _year(value: int | None) -> int | None:
    return None if value in (None, 0) else value


def plan(live: pa.Table, places: pa.Table) -> Plan:
    """``live``: the newest pending version of each touched report (report_id, report_year,
    _removed); ``places``: where the published ``reports`` rows are (report_id, report_year,
    extracted_at, agency, region, region_code)."""
    out = Plan()
    kept = live.filter(pc.invert(live.column("_removed")))
    for rid, year in zip(
        kept.column("report_id").to_pylist(), kept.column("report_year").to_pylist(), strict=True
    ):
        out.arrive[_year(year)].add(rid)
    touched = places.join(
        live.select(["report_id", "report_year", "_removed"]),
        keys="report_id",
        join_type="inner",
        right_suffix="_live",
    )
    small = live.num_rows <= BATCH_SIZE
    for row in touched.to_pylist():
        if row["_removed"] or row["report_year"] != row["report_year_live"]:
            out.leave[(_year(row["report_year"]), bucket_of(row["report_id"]))].add(
                row["report_id"]
            )
        if small and (key := agency_key(row["agency"], row["region_code"], row["region"])):
            out.old_keys.add(key)
    _duplicates(places, live, out)
    return out


def _duplicates(places: pa.Table, live: pa.Table, out: Plan) -> None:
    """A report published in two years (left by a killed writer of an older version): the
    copy with the newest ``extracted_at`` stays, unless a pending write decides."""
    counts = places.group_by("report_id").aggregate([("report_id", "count")])
    twice = counts.filter(pc.greater(counts.column("report_id_count"), 1)).column("report_id")
    if not len(twice):
        return
    touched = set(live.column("report_id").to_pylist())
    rows = places.filter(pc.is_in(places.column("report_id"), value_set=twice)).to_pylist()
    newest: dict[str, tuple[object, int | None]] = {}
    for row in rows:
        when = row["extracted_at"]
        best = newest.get(row["report_id"])
        if best is None or (when is not None and (best[0] is None or when > best[0])):
            newest[row["report_id"]] = (when, row["report_year"])
    for row in rows:
        rid = row["report_id"]
        if rid not in touched and row["report_year"] != newest[rid][1]:
            out.leave[(_year(row["report_year"]), bucket_of(rid))].add(rid)


def compact(data_dir: Path, *, workers: int | None = None) -> Compacted:
    """Fold every pending write into the published files (under the write lock; readers
    wait for it to finish). Years are published on ``workers`` processes (default: every
    core) when there are enough reports to make it worth it."""
    data_dir = Path(data_dir)
    with write_lock(data_dir), compacting(data_dir):
        return compact_locked(data_dir, workers=workers)


def compact_locked(data_dir: Path, *, workers: int | None = None) -> Compacted:
    _clean(data_dir)
    snap = snapshot(data_dir)
    if not snap.commits:
        return Compacted()
    places = _places(data_dir)  # read before the leave pass: the context a report keeps
    todo = plan(snap.live, places)
    touched = set(snap.live.column("report_id").to_pylist())
    workers = workers or os.cpu_count() or 1
    with _mapper(workers if len(touched) >= PARALLEL_FROM else 1) as mapper:
        files = _leave(data_dir, todo.leave)  # every move out before any move in
        files += _arrive(data_dir, snap, places, todo.arrive, mapper, workers)
        refresh_after(data_dir, todo.years, touched, todo.old_keys, mapper)
    _retire(data_dir, snap.commits)
    write_datapackage(data_dir)
    return Compacted(
        commits=len(snap.commits),
        published=sum(len(ids) for ids in todo.arrive.values()),
        taken_out=len({i for ids in todo.leave.values() for i in ids}),
        files=files,
    )


#: Reports a compaction publishes before it is worth starting worker processes.
PARALLEL_FROM = 1_000


@contextlib.contextmanager
def _mapper(workers: int) -> Iterator[Mapper]:
    """``map``, or the ``map`` of a pool of ``workers`` processes."""
    if workers <= 1:
        yield map
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool.map


def _clean(data_dir: Path) -> None:
    """What killed writers left: unfinished pending writes, retired ones not yet deleted,
    temporary files (we hold the write lock: none of them is live)."""
    root = pending_root(data_dir)
    if root.is_dir():
        for path in root.iterdir():
            if path.name.startswith((".w-", ".done-")):
                shutil.rmtree(path, ignore_errors=True)
    top = parquet_dir(data_dir)
    remove_stale_temporaries(top)
    for path in top.glob(".spill-*"):  # left by the earlier bucket-rewriting writer
        shutil.rmtree(path, ignore_errors=True)
    (top / ".journal.json").unlink(missing_ok=True)


def _places(data_dir: Path) -> pa.Table:
    """Where the published ``reports`` rows are, with what compaction needs of them."""
    columns = ["report_id", "report_year", "extracted_at", "agency", *CONTEXT]
    found = open_dataset(data_dir, "reports")
    if found is None:
        table = full_schema("reports").empty_table().select(columns)
    else:
        table = found.to_table(columns=columns)
    return table.cast(
        pa.schema(
            [
                pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
                for f in table.schema
            ]
        )
    )


def _rewrite_without(path: Path, dataset: str, ids: set[str]) -> int:
    if not path.exists():
        return 0
    table = read_file(path, dataset)
    kept = without_ids(table, ids)
    if kept.num_rows == table.num_rows:
        return 0
    write_atomic(kept, path, dataset, file_versions(path))
    return 1


def _leave(data_dir: Path, leave: dict[Key, set[str]]) -> int:
    """Take reports out of the published files they no longer belong in: facts, findings
    (cross-year checks included) and pre-2019 figures first, their ``reports`` rows last."""
    files = 0
    by_year: dict[int | None, set[str]] = defaultdict(set)
    for (year, _), ids in leave.items():
        by_year[year] |= ids
    for dataset in (*REPORT_ROWS, "reports"):
        for (year, bucket), ids in sorted(leave.items(), key=_sort_key):
            files += _rewrite_without(bucket_path(data_dir, dataset, year, bucket), dataset, ids)
        if dataset == "findings":
            for year, ids in by_year.items():
                path = dataset_dir(data_dir, "findings") / partition_name(year) / CROSS_YEAR_FILE
                files += _rewrite_without(path, "findings", ids)
    return files


def _sort_key(item: tuple[Key, set[str]]) -> tuple[int, str]:
    (year, bucket), _ = item
    return (-1 if year is None else year, bucket)


def _by_bucket(table: pa.Table) -> dict[str, pa.Table]:
    """``table`` split by the bucket of its report_id."""
    if table.num_rows == 0:
        return {}
    first = pc.utf8_slice_codeunits(table.column("report_id").cast(pa.string()), 0, 1)
    out: dict[str, list[str]] = {}
    for char in pc.unique(first).to_pylist():
        out.setdefault(bucket_of(char), []).append(char)
    return {
        bucket: table.filter(pc.is_in(first, value_set=pa.array(chars)))
        for bucket, chars in out.items()
    }


@dataclass(frozen=True, slots=True)
class YearWork:
    """What publishing some buckets of one year needs (picklable, for a worker process):
    the reports that arrive there and the pending writes that hold their rows."""

    data_dir: str
    year: int | None
    ids: dict[str, frozenset[str]]  # bucket -> the reports arriving in it
    commits: tuple[Commit, ...]
    versions: pa.Table  # these reports' pending versions (report_id, _seq, ...)
    live: pa.Table  # the year's newest pending versions
    places: pa.Table  # these reports' published rows: report_id and the context they keep


def _arrive(
    data_dir: Path,
    snap: Snapshot,
    places: pa.Table,
    arrive: dict[int | None, set[str]],
    mapper: Mapper,
    workers: int,
) -> int:
    """Write the newest version of every pending report into its year's bucket files,
    ``workers`` tasks per year (memory follows a year's share), through ``mapper``."""
    live_years = snap.live.column("report_year")
    work = []
    for year, ids in sorted(arrive.items(), key=lambda kv: _key(kv[0])):
        by_bucket: dict[str, set[str]] = defaultdict(set)
        for rid in ids:
            by_bucket[bucket_of(rid)].add(rid)
        live = snap.live.filter(pc.equal(live_years, _key(year)))
        buckets = sorted(by_bucket)
        for share in (buckets[i::workers] for i in range(min(workers, len(buckets)))):
            mine = pa.array(sorted(set().union(*(by_bucket[b] for b in share))), pa.string())
            work.append(
                YearWork(
                    data_dir=str(data_dir),
                    year=year,
                    ids={b: frozenset(by_bucket[b]) for b in share},
                    commits=snap.commits,
                    versions=snap.versions.filter(
                        pc.is_in(snap.versions.column("report_id"), value_set=mine)
                    ),
                    live=live,
                    places=places.filter(
                        pc.is_in(places.column("report_id"), value_set=mine)
                    ).select(["report_id", *CONTEXT]),
                )
            )
    return sum(int(n) for n in mapper(publish_year, work))  # type: ignore[call-overload]


def _key(year: int | None) -> int:
    return 0 if year is None else year


def publish_year(work: YearWork) -> int:
    """Merge arriving reports into some bucket files of one year: ``reports`` first, then
    ``facts``, ``findings`` and ``pre2019``. Returns the files rewritten."""
    data_dir = Path(work.data_dir)
    snap = Snapshot(data_dir, work.commits, work.versions, work.live)
    where = _in_buckets(work.ids)
    reports = pending_rows(snap, "reports", years=[work.year], where=where, with_seq=True)
    reports = keep_context(snap, reports, work.places)  # a report staged without a region
    new_reports = _by_bucket(reports.drop_columns(["_seq", "report_year"]))
    versions = {
        b: sorted({v for v in t.column("extractor_version").to_pylist() if v})
        for b, t in new_reports.items()
    }
    files = 0
    for dataset in ("reports", *REPORT_ROWS):
        if dataset == "reports":
            new = new_reports
        else:
            rows = pending_rows(snap, dataset, years=[work.year], where=where)
            new = _by_bucket(rows.drop_columns(["report_year"]))
        # the dataset's new bucket files are written, flushed to disk together, then
        # renamed: as durable as one by one, without waiting for each file's flush
        replacements: list[Replacement] = []
        try:
            for bucket in sorted(work.ids):
                merged = _merge_bucket(
                    bucket_path(data_dir, dataset, work.year, bucket),
                    dataset,
                    work.ids[bucket],
                    new.get(bucket),
                    versions.get(bucket, []),
                )
                if merged is not None:
                    replacements.append(merged)
        except BaseException:
            discard(replacements)
            raise
        replace_all(replacements)
        files += len(replacements)
        partition = dataset_dir(data_dir, dataset) / partition_name(work.year)
        if partition.is_dir():
            fsync_dir(partition)  # this dataset's renames are durable before the next's
    return files


def _in_buckets(ids: dict[str, frozenset[str]]) -> ds.Expression:
    return ds.field("report_id").isin(pa.array(sorted(set().union(*ids.values())), pa.string()))


def _merge_bucket(
    path: Path, dataset: str, ids: frozenset[str], new: pa.Table | None, versions: list[str]
) -> Replacement | None:
    """The bucket file's new version (prepared beside it), or None when it is unchanged."""
    if not path.exists():  # a new file, as every file of a first crawl: nothing to keep
        if new is None:
            return None
        table = new.cast(DATASETS[dataset])
        if dataset == "reports":
            table = table.sort_by([("report_id", "ascending")])
        return prepare(table, path, dataset, versions)
    old_ids = read_ids(path)
    replaced = pc.is_in(old_ids, value_set=pa.array(sorted(ids), pa.string()))
    if pc.all(replaced).as_py() is not False:  # every old row replaced: no need to read them
        kept = DATASETS[dataset].empty_table()
    else:
        kept = read_file(path, dataset).filter(pc.invert(replaced))
    if new is None and kept.num_rows == len(old_ids):
        return None
    table = pa.concat_tables([kept, new.cast(kept.schema)]) if new is not None else kept
    if dataset == "reports":
        table = table.sort_by([("report_id", "ascending")])
    versions = (file_versions(path) if kept.num_rows else []) + versions
    return prepare(table, path, dataset, versions)


def _retire(data_dir: Path, commits: tuple[Commit, ...]) -> None:
    """Delete the folded pending writes, oldest first: a compaction killed halfway leaves
    the newest writes, which still hold the newest version of every report they touch."""
    root = pending_root(data_dir)
    for commit in commits:
        os.rename(commit.path, root / f".done-{commit.seq}")
    fsync_dir(root)
    for commit in commits:
        shutil.rmtree(root / f".done-{commit.seq}", ignore_errors=True)


def refresh_cross_year(
    data_dir: Path,
    years: Iterable[int] | None = None,
    *,
    report_ids: Iterable[str] | None = None,
    agency_keys: Iterable[str] = (),
) -> None:
    """Recompute the published cross-year findings of ``years`` (all staged years if
    ``None``), under the write lock; see :func:`~pipeline.stage.refresh.refresh_locked`."""
    data_dir = Path(data_dir)
    with write_lock(data_dir), compacting(data_dir):
        refresh_locked(data_dir, years, report_ids=report_ids, agency_keys=agency_keys)


# --------------------------------------------------------------------------- removal


def remove_reports(data_dir: Path, report_ids: Iterable[str]) -> list[str]:
    """Remove reports (all their rows in every dataset and year) and compact; returns the
    ids removed. A removal is a pending write like any other (its report_ids as
    tombstones), so a crash leaves it whole or not at all."""
    data_dir = Path(data_dir)
    ids = set(report_ids)
    if not ids:
        return []
    with write_lock(data_dir) as sequence, compacting(data_dir):
        present = sorted(_present(data_dir, ids))
        if not present:
            return []
        write = PendingWrite.begin(data_dir, sequence.next())
        try:
            write.remove(present)
            write.commit()
        except BaseException:
            write.abort()
            raise
        compact_locked(data_dir)
    return present


def _present(data_dir: Path, ids: set[str]) -> set[str]:
    """Those of ``ids`` that are staged now (pending or published)."""
    snap = snapshot(data_dir)
    live = dict(
        zip(
            snap.live.column("report_id").to_pylist(),
            snap.live.column("_removed").to_pylist(),
            strict=True,
        )
    )
    found = {i for i in ids if i in live and not live[i]}
    rest = {i for i in ids if i not in live}
    buckets = {bucket_of(i) for i in rest}
    root = dataset_dir(data_dir, "reports")
    for part in sorted(root.glob("report_year=*")) if root.is_dir() else []:
        for bucket in buckets:
            path = part / f"part-{bucket}.parquet"
            if path.exists():
                found |= rest & set(read_ids(path).to_pylist())
    return found
