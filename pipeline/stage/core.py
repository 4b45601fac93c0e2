"""Stage extracted reports into the Parquet datasets: idempotent and crash-safe.

Every report maps to one bucket file per dataset and year partition. Staging a batch
rewrites each touched bucket file once, with the batch's reports replacing any earlier rows
of the same report_id, so staging a report twice leaves one copy. Files are written in the
order facts, findings, reports (the ``reports`` row comes last, as the commit).

Large batches are first converted chunk by chunk into hidden spill files, so memory stays
bounded whatever the batch size, then merged bucket by bucket.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.datadir import parquet_dir
from pipeline.datasets import (
    DATASETS,
    FACTS_SCHEMA,
    FINDINGS_SCHEMA,
    dataset_dir,
    dict_equals,
    partition_name,
    partitions,
    to_pandas,
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
from pipeline.stage.cross_year import agency_key, cross_year_findings
from pipeline.stage.store import (
    CROSS_YEAR_FILE,
    begin_journal,
    bucket_path,
    end_journal,
    file_versions,
    read_file,
    read_ids,
    read_journal,
    without_ids,
    write_atomic,
    write_lock,
)

Key = tuple[int | None, str]  # (report year, bucket)

#: Reports per staging write that still takes the incremental path (the nightly flow
#: stages in batches of this size); larger writes recompute cross-year findings whole.
BATCH_SIZE = 500
ORDER = ("facts", "findings", "reports")


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
        with _writing(data_dir):
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
    before = _locations(data_dir, set(new_year)) if few else {}
    old_keys = {k for _, _, k in before.values() if k is not None}
    stale = _stale_locations(data_dir, new_year)
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
    _refresh_after(data_dir, years, set(new_year), old_keys)


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


def _stale_locations(data_dir: Path, new_year: dict[str, int | None]) -> dict[Key, set[str]]:
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


@contextlib.contextmanager
def _writing(data_dir: Path) -> Iterator[None]:
    """The write lock, and first the repair of whatever a killed writer left behind."""
    with write_lock(data_dir):
        repair(data_dir, locked=True)
        yield


def repair(data_dir: Path, *, locked: bool = False) -> list[str]:
    """Leave every report in one year partition; returns the report_ids repaired.

    A report that moves to another year is written to the new partition first and removed
    from the old one after, file by file: a writer killed in between leaves two copies. Every
    write first runs this pass: a report_id whose ``reports`` row is in more than one
    partition keeps only the copy with the newest ``extracted_at``, and the reports a killed
    writer journalled (a move or a removal) are finished or undone in all three datasets.
    """
    data_dir = Path(data_dir)
    if not locked:
        with write_lock(data_dir):
            return repair(data_dir, locked=True)
    journal = read_journal(data_dir)
    seen: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    oldest = datetime.min.replace(tzinfo=UTC)
    for part in partitions(data_dir, "reports"):
        for path in part.glob("part-*.parquet"):
            table = pq.read_table(path, columns=["report_id", "extracted_at"])
            for rid, when in zip(
                table.column("report_id").to_pylist(),
                table.column("extracted_at").to_pylist(),
                strict=True,
            ):
                seen[rid].append((when or oldest, part.name))
    keep: dict[str, str | None] = {
        rid: max(where)[1] for rid, where in seen.items() if len(where) > 1
    }
    if journal is not None:
        action, ids = journal
        for rid in ids:
            where = seen.get(rid)
            keep[rid] = max(where)[1] if where and action != "remove" else None
    if keep:
        where_before = _locations(data_dir, set(keep))
        years = _keep_only(data_dir, keep)
        years |= {y for y, _, _ in where_before.values()}
        keys = {k for _, _, k in where_before.values() if k is not None}
        _refresh_after(data_dir, years, set(keep), keys)
    if journal is not None:
        end_journal(data_dir)
    return sorted(keep)


def remove_reports(data_dir: Path, report_ids: Iterable[str]) -> list[str]:
    """Remove reports (all their rows in every dataset and year); returns the ids removed.

    Under the write lock; each file is replaced in one rename, and a removal cut short by a
    crash is completed by the next write (the ids are journalled first).
    """
    data_dir = Path(data_dir)
    ids = set(report_ids)
    if not ids:
        return []
    with _writing(data_dir):
        where = _locations(data_dir, ids)
        if not where:
            return []
        keys = {k for _, _, k in where.values() if k is not None}
        begin_journal(data_dir, sorted(where), action="remove")
        years = _keep_only(data_dir, dict.fromkeys(where))
        end_journal(data_dir)
        years |= {y for y, _, _ in where.values()}
        _refresh_after(data_dir, years, set(where), keys)
    return sorted(where)


def _locations(data_dir: Path, ids: set[str]) -> dict[str, tuple[int | None, datetime, str | None]]:
    """report_id -> (year, extracted_at, agency key) of its newest ``reports`` row."""
    buckets = {bucket_of(i) for i in ids}
    found: dict[str, tuple[int | None, datetime, str | None]] = {}
    columns = ["report_id", "extracted_at", "agency", "region", "region_code"]
    for part in partitions(data_dir, "reports"):
        year = year_of_partition(part.name)
        for bucket in buckets:
            path = part / f"part-{bucket}.parquet"
            if not path.exists():
                continue
            rows = pq.read_table(path, columns=columns).to_pylist()
            for row in rows:
                rid = row["report_id"]
                if rid not in ids:
                    continue
                when = row["extracted_at"] or datetime.min.replace(tzinfo=UTC)
                if rid not in found or when >= found[rid][1]:
                    key = agency_key(row["agency"], row["region_code"], row["region"])
                    found[rid] = (year, when, key)
    return found


def _keep_only(data_dir: Path, keep: dict[str, str | None]) -> set[int | None]:
    """Drop every row of the reports ``keep`` names outside partition ``keep[id]`` (a
    partition name; ``None``: drop them everywhere). Returns the years rewritten."""
    buckets: dict[str, set[str]] = defaultdict(set)
    for rid in keep:
        buckets[bucket_of(rid)].add(rid)
    wanted = set(keep)
    years: set[int | None] = set()
    for dataset in ORDER:
        for part in partitions(data_dir, dataset):
            paths = [part / f"part-{b}.parquet" for b in buckets]
            if dataset == "findings":
                paths.append(part / CROSS_YEAR_FILE)
            for path in paths:
                if not path.exists():
                    continue
                present = set(read_ids(path).to_pylist()) & wanted
                drop = {i for i in present if keep[i] != part.name}
                if not drop:
                    continue
                table = without_ids(read_file(path, dataset), drop)
                write_atomic(table, path, dataset, file_versions(path))
                years.add(year_of_partition(part.name))
    return years


def _refresh_after(data_dir: Path, years: set[int | None], ids: set[str], keys: set[str]) -> None:
    """Cross-year findings after ``ids`` changed in ``years`` (``keys``: agencies they had)."""
    known = {y for y in years if y is not None}
    affected = known | {y + 1 for y in known}
    refresh_cross_year(
        data_dir,
        affected,
        report_ids=ids if len(ids) <= BATCH_SIZE else None,
        agency_keys=keys,
        locked=True,
    )


def refresh_cross_year(
    data_dir: Path,
    years: Iterable[int] | None = None,
    *,
    report_ids: Iterable[str] | None = None,
    agency_keys: Iterable[str] = (),
    locked: bool = False,
) -> None:
    """Recompute the cross-year findings of ``years`` (all staged years if ``None``).

    With ``report_ids``, only the agencies of those reports are recomputed (what staging a
    few reports needs; it reads only the files those agencies' reports live in), plus the
    agencies named by ``agency_keys`` (those the reports had before they changed).
    """
    data_dir = Path(data_dir)
    if not locked:
        with _writing(data_dir):
            refresh_cross_year(
                data_dir, years, report_ids=report_ids, agency_keys=agency_keys, locked=True
            )
        return
    staged: set[int] = {
        y
        for p in partitions(data_dir, "reports")
        if (y := year_of_partition(p.name)) is not None and any(p.glob("part-*.parquet"))
    }
    targets = sorted(staged if years is None else set(years))
    touched = None if report_ids is None else set(report_ids)
    for year in targets:
        path = dataset_dir(data_dir, "findings") / partition_name(year) / CROSS_YEAR_FILE
        if year not in staged or (year - 1) not in staged:
            write_atomic(FINDINGS_SCHEMA.empty_table(), path, "findings", [])
            continue
        this = _partition_frame(data_dir, "reports", year)
        last = _partition_frame(data_dir, "reports", year - 1)
        kept = FINDINGS_SCHEMA.empty_table()
        if touched is not None:
            keys = _keys(this, touched) | _keys(last, touched) | set(agency_keys)
            this, last = _with_keys(this, keys), _with_keys(last, keys)
            drop = set(this["report_id"]) | touched
            kept = without_ids(read_file(path, "findings"), drop)
        found = cross_year_findings(
            this,
            _carry_facts(data_dir, year, "carried_over", set(this["report_id"])),
            last,
            _carry_facts(data_dir, year - 1, "carried_forward", set(last["report_id"])),
            year,
        )
        table = pa.concat_tables([kept, _findings_from_frame(found)])
        write_atomic(table, path, "findings", [])


def _keys(reports: pd.DataFrame, ids: set[str]) -> set[str]:
    part = reports[reports["report_id"].isin(ids)]
    return {
        k
        for k in map(agency_key, part["agency"], part["region_code"], part["region"])
        if k is not None
    }


def _with_keys(reports: pd.DataFrame, keys: set[str]) -> pd.DataFrame:
    mask = [
        agency_key(a, c, r) in keys
        for a, c, r in zip(
            reports["agency"], reports["region_code"], reports["region"], strict=True
        )
    ]
    return reports[pd.Series(mask, index=reports.index, dtype=bool)]


def _partition_files(data_dir: Path, dataset: str, year: int) -> list[Path]:
    part = dataset_dir(data_dir, dataset) / partition_name(year)
    if not part.is_dir():
        return []
    return sorted(part.glob("part-*.parquet"))


def _partition_frame(data_dir: Path, dataset: str, year: int) -> pd.DataFrame:
    tables = [read_file(p, dataset) for p in _partition_files(data_dir, dataset, year)]
    table = pa.concat_tables(tables) if tables else DATASETS[dataset].empty_table()
    return to_pandas(table)


def _carry_facts(data_dir: Path, year: int, row: str, ids: set[str]) -> pd.DataFrame:
    """The ``applications/<row>`` facts of the reports ``ids`` (read from their buckets)."""
    columns = ["report_id", "table", "row", "column", "value"]
    schema = pa.schema([FACTS_SCHEMA.field(c) for c in columns])
    buckets = {bucket_of(i) for i in ids}
    tables = []
    for path in _partition_files(data_dir, "facts", year):
        if path.stem.removeprefix("part-") not in buckets:
            continue
        table = pq.ParquetFile(path).read(columns=columns)
        mask = pc.and_(
            dict_equals(table.column("table"), "applications"),
            dict_equals(table.column("row"), row),
        )
        tables.append(table.filter(mask).cast(schema))
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return to_pandas(table)


def _findings_from_frame(frame: pd.DataFrame) -> pa.Table:
    if frame.empty:
        return FINDINGS_SCHEMA.empty_table()
    arrays = []
    for field in FINDINGS_SCHEMA:
        values = [None if pd.isna(v) else v for v in frame[field.name]]
        arrays.append(
            pa.array(values, type=pa.string() if pa.types.is_dictionary(field.type) else field.type)
        )
    return pa.table(arrays, names=FINDINGS_SCHEMA.names).cast(FINDINGS_SCHEMA)
