"""Stage extracted reports into the Parquet datasets: idempotent and crash-safe.

Every report maps to one bucket file per dataset and year partition. Staging a batch
rewrites each touched bucket file once, with the batch's reports replacing any earlier rows
of the same report_id, so staging a report twice leaves one copy. Files are written in the
order facts, findings, reports (the ``reports`` row comes last, as the commit).

Large batches are first converted chunk by chunk into hidden spill files, so memory stays
bounded whatever the batch size, then merged bucket by bucket.
"""

from __future__ import annotations

import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.datadir import parquet_dir
from pipeline.datasets import (
    partitions,
    year_of_partition,
)
from pipeline.model import Report
from pipeline.stage.convert import (
    StageItem,
    bucket_of,
    facts_table,
    findings_table,
    reports_table,
)
from pipeline.stage.refresh import BATCH_SIZE, refresh_after, refresh_locked
from pipeline.stage.repair import locations, writing
from pipeline.stage.store import (
    ORDER,
    begin_journal,
    bucket_path,
    end_journal,
    file_versions,
    read_file,
    read_ids,
    without_ids,
    write_atomic,
)

Key = tuple[int | None, str]  # (report year, bucket)


def stage_report(
    data_dir: Path,
    report: Report,
    *,
    url: str,
    region: str | None,
    region_code: str | None,
    fetched_at: datetime,
    content_type: str | None = None,
) -> None:
    """Stage one extracted report (replacing any earlier version of the same URL)."""
    stage_reports(
        data_dir,
        [
            StageItem(
                report=report,
                url=url,
                region=region,
                region_code=region_code,
                fetched_at=fetched_at,
                content_type=content_type,
            )
        ],
    )


class _Buffer:
    """Converted tables per (dataset, key), spilled to hidden files past a row budget."""

    def __init__(self, data_dir: Path, spill_rows: int) -> None:
        self.data_dir = Path(data_dir)
        self.spill_rows = spill_rows
        self.pieces: dict[tuple[str, Key], list[pa.Table]] = defaultdict(list)
        self.spilled: dict[tuple[str, Key], list[Path]] = defaultdict(list)
        self.rows = 0
        self.spill_dir: Path | None = None
        self.sequence = 0  # order of the chunks, so a later copy of a report wins
        self.repeated = False  # some report appears twice in the batch

    def add(self, items: list[StageItem], now: datetime) -> None:
        by_key: dict[Key, list[StageItem]] = defaultdict(list)
        for item in items:
            by_key[(item.year, bucket_of(item.report_id))].append(item)
        for key, group in by_key.items():
            self.sequence += 1
            seq = pa.scalar(self.sequence, pa.int64())
            for dataset, table in (
                ("facts", facts_table(group)),
                ("findings", findings_table(group)),
                ("reports", reports_table(group, now)),
            ):
                table = table.append_column("_seq", pa.array([seq.as_py()] * table.num_rows))
                self.pieces[(dataset, key)].append(table)
                self.rows += table.num_rows
        if self.rows >= self.spill_rows:
            self.spill()

    def spill(self) -> None:
        if self.spill_dir is None:
            self.spill_dir = parquet_dir(self.data_dir) / f".spill-{uuid.uuid4().hex[:12]}"
            self.spill_dir.mkdir(parents=True)
        for (dataset, key), tables in self.pieces.items():
            path = self.spill_dir / f"{dataset}-{len(self.spilled)}-{uuid.uuid4().hex[:8]}.parquet"
            pq.write_table(pa.concat_tables(tables), path, compression="lz4")
            self.spilled[(dataset, key)].append(path)
        self.pieces.clear()
        self.rows = 0

    def keys(self) -> set[Key]:
        return {key for _, key in set(self.pieces) | set(self.spilled)}

    def new_rows(self, dataset: str, key: Key) -> pa.Table | None:
        tables = [pq.read_table(p) for p in self.spilled.get((dataset, key), [])]
        tables += self.pieces.get((dataset, key), [])
        return pa.concat_tables(tables) if tables else None

    def cleanup(self) -> None:
        if self.spill_dir is not None:
            shutil.rmtree(self.spill_dir, ignore_errors=True)


def _latest_only(table: pa.Table, latest: dict[str, int], repeated: bool = True) -> pa.Table:
    """Rows of ``table`` that belong to the last staged copy of their report."""
    if not repeated:
        return table.drop_columns(["_seq"])
    ids = table.column("report_id").cast(pa.string()).to_pylist()
    seqs = table.column("_seq").to_pylist()
    keep = pa.array([latest[i] == s for i, s in zip(ids, seqs, strict=True)], type=pa.bool_())
    return table.filter(keep).drop_columns(["_seq"])


def stage_reports(
    data_dir: Path,
    items: Iterable[StageItem],
    *,
    chunk_size: int = 2_000,
    spill_rows: int = 2_000_000,
    now: datetime | None = None,
) -> list[str]:
    """Stage many reports at once; returns their report_ids (in first-seen order)."""
    data_dir = Path(data_dir)
    now = now or datetime.now(UTC)
    buffer = _Buffer(data_dir, spill_rows)
    staged: dict[str, None] = {}
    chunk: list[StageItem] = []
    try:
        for item in items:
            chunk.append(item)
            if item.report_id in staged:
                buffer.repeated = True
            staged[item.report_id] = None
            if len(chunk) >= chunk_size:
                buffer.add(chunk, now)
                chunk = []
        if chunk:
            buffer.add(chunk, now)
        if not staged:
            return []
        with writing(data_dir):
            _merge(data_dir, buffer)
    finally:
        buffer.cleanup()
    return list(staged)


def _merge(data_dir: Path, buffer: _Buffer) -> None:
    keys = buffer.keys()
    # Which year each staged report ends up in, and which copy is the last one.
    new_year: dict[str, int | None] = {}
    latest: dict[str, int] = {}
    for key in sorted(keys, key=_sort_key):
        reports = buffer.new_rows("reports", key)
        if reports is None:
            continue
        for rid, seq in zip(
            reports.column("report_id").to_pylist(), reports.column("_seq").to_pylist(), strict=True
        ):
            if seq >= latest.get(rid, -1):
                latest[rid] = seq
    for key in keys:
        reports = buffer.new_rows("reports", key)
        assert reports is not None
        for rid, seq in zip(
            reports.column("report_id").to_pylist(), reports.column("_seq").to_pylist(), strict=True
        ):
            if latest[rid] == seq:
                new_year[rid] = key[0]
    few = len(new_year) <= BATCH_SIZE
    # The agencies the reports had before: a report whose agency changes leaves them.
    before = locations(data_dir, set(new_year)) if few else {}
    old_keys = {k for _, _, k in before.values() if k is not None}
    stale = _stalelocations(data_dir, new_year)
    moving = sorted({i for ids in stale.values() for i in ids})
    if moving:  # the next write finishes (or undoes) a move cut short by a crash
        begin_journal(data_dir, moving, action="move")
    years: set[int | None] = set()
    for key in sorted(keys, key=_sort_key):
        year, bucket = key
        new_reports = _latest_only(buffer.new_rows("reports", key), latest, buffer.repeated)  # type: ignore[arg-type]
        ids = {i for i in new_reports.column("report_id").to_pylist()}
        versions = [
            v for v in new_reports.column("extractor_version").cast(pa.string()).to_pylist() if v
        ]
        for dataset in ORDER:
            new = buffer.new_rows(dataset, key)
            path = bucket_path(data_dir, dataset, year, bucket)
            old = without_ids(read_file(path, dataset), ids)
            fresh = _latest_only(new, latest, buffer.repeated) if new is not None else None
            if dataset == "reports" and fresh is not None:
                fresh = _keep_context(data_dir, fresh)
            table = pa.concat_tables([old, fresh]) if fresh is not None else old
            table = table.sort_by([("report_id", "ascending")]) if dataset == "reports" else table
            write_atomic(
                table, path, dataset, _versions(data_dir, old, dataset, year, bucket) + versions
            )
        years.add(year)
    # Remove copies left in another year partition by an earlier extraction.
    for (year, bucket), ids in stale.items():
        for dataset in ORDER:
            path = bucket_path(data_dir, dataset, year, bucket)
            write_atomic(without_ids(read_file(path, dataset), ids), path, dataset, [])
        years.add(year)
    if moving:
        end_journal(data_dir)
    refresh_after(data_dir, years, set(new_year), old_keys)


_CONTEXT = ("region", "region_code", "content_type")


def _keep_context(data_dir: Path, fresh: pa.Table) -> pa.Table:
    """Reports staged without a region (``extract URL --stage``) keep the one they had."""
    missing = pc.and_kleene(
        pc.is_null(fresh.column("region")), pc.is_null(fresh.column("region_code"))
    )
    if not pc.any(missing).as_py():
        return fresh
    ids = set(fresh.filter(missing).column("report_id").to_pylist())
    previous: dict[str, dict[str, object]] = {}
    for part in partitions(data_dir, "reports"):
        for bucket in {bucket_of(i) for i in ids}:
            old = read_file(part / f"part-{bucket}.parquet", "reports")
            for row in old.select(["report_id", *_CONTEXT]).to_pylist():
                if row["report_id"] in ids:
                    previous[row["report_id"]] = row
    if not previous:
        return fresh
    rows = fresh.to_pylist()
    for row in rows:
        old_row = previous.get(row["report_id"])
        if old_row and row["region"] is None and row["region_code"] is None:
            for column in _CONTEXT:
                row[column] = row[column] if row[column] is not None else old_row[column]
    return pa.Table.from_pylist(rows, schema=fresh.schema)


def _sort_key(key: Key) -> tuple[int, str]:
    return (-1 if key[0] is None else key[0], key[1])


def _versions(
    data_dir: Path, old: pa.Table, dataset: str, year: int | None, bucket: str
) -> list[str]:
    """Extractor versions of the rows kept from the old file (read from its metadata)."""
    if old.num_rows == 0:
        return []
    return file_versions(bucket_path(data_dir, dataset, year, bucket))


def _stalelocations(data_dir: Path, new_year: dict[str, int | None]) -> dict[Key, set[str]]:
    """(year, bucket) -> ids staged now that also sit in another year's partition."""
    by_bucket: dict[str, set[str]] = defaultdict(set)
    for rid in new_year:
        by_bucket[bucket_of(rid)].add(rid)
    stale: dict[Key, set[str]] = defaultdict(set)
    for dataset in ("reports",):  # the commit record says where each report lives
        for part in partitions(data_dir, dataset):
            year = year_of_partition(part.name)
            for bucket, ids in by_bucket.items():
                path = part / f"part-{bucket}.parquet"
                if not path.exists():
                    continue
                present = set(read_ids(path).to_pylist()) & ids
                moved = {i for i in present if new_year[i] != year}
                if moved:
                    stale[(year, bucket)] |= moved
    return stale


def refresh_cross_year(
    data_dir: Path,
    years: Iterable[int] | None = None,
    *,
    report_ids: Iterable[str] | None = None,
    agency_keys: Iterable[str] = (),
) -> None:
    """Recompute the cross-year findings of ``years`` (all staged years if ``None``), under
    the write lock; see :func:`~pipeline.stage.refresh.refresh_locked`."""
    with writing(Path(data_dir)):
        refresh_locked(Path(data_dir), years, report_ids=report_ids, agency_keys=agency_keys)
