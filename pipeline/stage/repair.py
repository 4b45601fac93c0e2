"""Repair and removal: every report in exactly one year partition, whatever a killed writer
left, and reports removed from every dataset. Each write takes the write lock and runs
:func:`repair` first (see :func:`writing`)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.datasets import partitions, year_of_partition
from pipeline.stage.convert import bucket_of
from pipeline.stage.cross_year import agency_key
from pipeline.stage.refresh import refresh_after
from pipeline.stage.store import (
    CROSS_YEAR_FILE,
    ORDER,
    begin_journal,
    end_journal,
    file_versions,
    read_file,
    read_ids,
    read_journal,
    without_ids,
    write_atomic,
    write_datapackage,
    write_lock,
)


@contextlib.contextmanager
def writing(data_dir: Path) -> Iterator[None]:
    """The write lock, and first the repair of whatever a killed writer left behind; after
    the write, ``datapackage.json`` describes the files as they now are."""
    with write_lock(data_dir):
        repair(data_dir, locked=True)
        yield
        write_datapackage(data_dir)


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
        where_before = locations(data_dir, set(keep))
        years = _keep_only(data_dir, keep)
        years |= {y for y, _, _ in where_before.values()}
        keys = {k for _, _, k in where_before.values() if k is not None}
        refresh_after(data_dir, years, set(keep), keys)
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
    with writing(data_dir):
        where = locations(data_dir, ids)
        if not where:
            return []
        keys = {k for _, _, k in where.values() if k is not None}
        begin_journal(data_dir, sorted(where), action="remove")
        years = _keep_only(data_dir, dict.fromkeys(where))
        end_journal(data_dir)
        years |= {y for y, _, _ in where.values()}
        refresh_after(data_dir, years, set(where), keys)
    return sorted(where)


def locations(data_dir: Path, ids: set[str]) -> dict[str, tuple[int | None, datetime, str | None]]:
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
