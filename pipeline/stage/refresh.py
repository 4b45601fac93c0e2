"""Cross-year findings kept current: when a compaction publishes reports, the agencies whose
reports changed get their ``cross_year_carry`` findings recomputed (this year's 上年结转
against last year's 结转下年度), reading only the published files those agencies' reports
live in. Callers hold the write lock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.datasets import (
    CROSS_YEAR_FILE,
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
from pipeline.stage.convert import bucket_of
from pipeline.stage.cross_year import agency_key, cross_year_findings
from pipeline.stage.store import parquet_file, read_columns, read_file, without_ids, write_atomic

#: Reports per staging write of the nightly flow; also the most reports a compaction
#: refreshes agency by agency (more: it recomputes the cross-year findings of their years).
BATCH_SIZE = 500


Mapper = Callable[..., Iterable[object]]  # map, or a process pool's map


def refresh_after(
    data_dir: Path,
    years: set[int | None],
    ids: set[str],
    keys: set[str],
    mapper: Mapper = map,
) -> None:
    """Cross-year findings after ``ids`` changed in ``years`` (``keys``: agencies they had)."""
    known = {y for y in years if y is not None}
    affected = known | {y + 1 for y in known}
    refresh_locked(
        data_dir,
        affected,
        report_ids=ids if len(ids) <= BATCH_SIZE else None,
        agency_keys=keys,
        mapper=mapper,
    )


@dataclass(frozen=True, slots=True)
class YearRefresh:
    """Some consecutive years' cross-year findings to recompute, in order (picklable, for
    a worker process): each year's reports are read once, for it and for the next."""

    data_dir: Path
    years: tuple[int, ...]
    staged: frozenset[int]  # the years that have reports
    touched: frozenset[str] | None  # only these reports' agencies (None: every agency)
    agency_keys: frozenset[str]


def refresh_locked(
    data_dir: Path,
    years: Iterable[int] | None = None,
    *,
    report_ids: Iterable[str] | None = None,
    agency_keys: Iterable[str] = (),
    mapper: Mapper = map,
) -> None:
    """Recompute the cross-year findings of ``years`` (all staged years if ``None``), each
    year through ``mapper``.

    With ``report_ids``, only the agencies of those reports are recomputed (what staging a
    few reports needs; it reads only the files those agencies' reports live in), plus the
    agencies named by ``agency_keys`` (those the reports had before they changed).
    """
    staged = frozenset(
        y
        for p in partitions(data_dir, "reports")
        if (y := year_of_partition(p.name)) is not None and any(p.glob("part-*.parquet"))
    )
    targets = sorted(staged if years is None else set(years))
    touched = None if report_ids is None else frozenset(report_ids)
    keys = frozenset(agency_keys)
    jobs = [YearRefresh(data_dir, run, staged, touched, keys) for run in _shares(targets)]
    for _ in mapper(refresh_years, jobs):
        pass


def _shares(years: list[int], shares: int | None = None) -> list[tuple[int, ...]]:
    """``years`` (sorted) cut into ``shares`` runs of consecutive ones (default: one per
    core, for a process pool's map): a run reads each year's reports once, where one job
    per year read them twice (as this year's, then as the next year's last year's)."""
    shares = max(1, shares or os.cpu_count() or 1)
    size = max(1, -(-len(years) // shares))
    return [tuple(years[i : i + size]) for i in range(0, len(years), size)]


def refresh_years(job: YearRefresh) -> None:
    frames: dict[int, pd.DataFrame] = {}

    def reports(year: int) -> pd.DataFrame:
        if year not in frames:
            frames[year] = _partition_frame(job.data_dir, "reports", year)
        return frames[year]

    for year in job.years:
        refresh_year(job, year, reports)
        frames.pop(year - 1, None)  # the next year needs only this one's


def refresh_year(job: YearRefresh, year: int, reports: Callable[[int], pd.DataFrame]) -> None:
    """Recompute ``year``'s cross-year findings; ``reports`` reads a year's reports."""
    data_dir, touched = job.data_dir, job.touched
    path = dataset_dir(data_dir, "findings") / partition_name(year) / CROSS_YEAR_FILE
    if year not in job.staged or (year - 1) not in job.staged:
        write_atomic(FINDINGS_SCHEMA.empty_table(), path, "findings", [])
        return
    this = reports(year)
    last = reports(year - 1)
    kept = FINDINGS_SCHEMA.empty_table()
    if touched is not None:
        keys = _keys(this, touched) | _keys(last, touched) | job.agency_keys
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


def _keys(reports: pd.DataFrame, ids: frozenset[str]) -> set[str]:
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


#: The reports columns the cross-year check needs.
_REPORT_COLUMNS = [
    "report_id",
    "agency",
    "region",
    "region_code",
    "published",
    "fetched_at",
    "extracted_at",
]


def _partition_frame(data_dir: Path, dataset: str, year: int) -> pd.DataFrame:
    tables = [
        read_columns(p, dataset, _REPORT_COLUMNS) for p in _partition_files(data_dir, dataset, year)
    ]
    table = (
        pa.concat_tables(tables)
        if tables
        else DATASETS[dataset].empty_table().select(_REPORT_COLUMNS)
    )
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
        with parquet_file(path) as parquet:
            table = parquet.read(columns=columns)
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
