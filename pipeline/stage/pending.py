"""Pending writes: every staging write appends new files holding only the reports it
writes, never rewriting others (the layout is in :mod:`pipeline.datasets`).

A write fills a hidden directory ``_pending/.w-<seq>-<random>/`` chunk by chunk, flushes
every file to disk (all at once) and renames it to ``_pending/<seq>/``: that rename is the
commit. A writer killed before it leaves only the hidden directory, which no reader lists
and the next compaction removes. A report that appears twice in one write keeps its last
copy: the earlier chunk's files are rewritten without it before the commit.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.datasets import REMOVED, REMOVED_SCHEMA, pending_name, pending_root
from pipeline.stage.convert import (
    StageItem,
    facts_table,
    findings_table,
    pre2019_table,
    reports_table,
)
from pipeline.stage.store import fsync_all, fsync_dir, read_file, without_ids, write_file

#: The order a chunk's files are written in (any order would do: the rename commits them).
DATASET_ORDER = ("reports", "facts", "findings", "pre2019")


@dataclass(frozen=True, slots=True)
class ChunkTables:
    """One chunk of a write converted: per dataset and report year, its Arrow table."""

    tables: dict[tuple[str, int | None], pa.Table]
    versions: list[str]


def convert_chunk(items: list[StageItem], now: datetime) -> ChunkTables:
    """The tables of ``items`` (at most one item per report), split by report year (pure)."""
    by_year: dict[int | None, list[StageItem]] = defaultdict(list)
    for item in items:
        by_year[item.year].append(item)
    tables: dict[tuple[str, int | None], pa.Table] = {}
    for year, group in by_year.items():
        tables[("reports", year)] = reports_table(group, now)
        tables[("facts", year)] = facts_table(group)
        tables[("findings", year)] = findings_table(group)
        tables[("pre2019", year)] = pre2019_table(group)
    versions = sorted({v for i in items if (v := i.report.meta.extractor_version)})
    return ChunkTables(tables, versions)


def last_copies(items: list[StageItem]) -> list[StageItem]:
    """``items`` with only the last copy of each report (first-seen order kept)."""
    last = {item.report_id: item for item in items}
    return list(last.values()) if len(last) < len(items) else items


def write_chunk(
    directory: Path, seq: int, chunk: int, items: list[StageItem], now: datetime
) -> None:
    """Write chunk ``chunk`` of pending write ``seq`` (its hidden ``directory``): the rows of
    ``items`` only (at most one item per report). Worker processes call it too."""
    write_tables(directory, seq, chunk, convert_chunk(last_copies(items), now))


def write_tables(directory: Path, seq: int, chunk: int, converted: ChunkTables) -> None:
    """The chunk's files, not yet flushed to disk: :meth:`PendingWrite.commit` flushes
    every file of the write at once before the rename that commits it."""
    for dataset in DATASET_ORDER:
        for (name, year), table in converted.tables.items():
            if name == dataset and table.num_rows:
                path = directory / pending_name(dataset, seq, year, chunk)
                write_file(table, path, dataset, converted.versions, sync=False)


@dataclass(slots=True)
class PendingWrite:
    """A staging write being assembled; :meth:`commit` makes it visible in one rename."""

    data_dir: Path
    seq: int
    tmp: Path
    chunks: int = 0
    where: dict[str, int] = field(default_factory=dict)  # report_id -> chunk it is in
    superseded: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def begin(cls, data_dir: Path, seq: int) -> PendingWrite:
        root = pending_root(data_dir)
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".w-{seq}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        return cls(Path(data_dir), seq, tmp)

    def next_chunk(self) -> int:
        """A chunk number for files written by someone else (see :func:`write_chunk`)."""
        self.chunks += 1
        return self.chunks - 1

    def add(self, items: list[StageItem], now: datetime) -> None:
        """Write one chunk (its reports' rows only)."""
        items = last_copies(items)
        chunk = self.next_chunk()
        for item in items:
            earlier = self.where.get(item.report_id)
            if earlier is not None:  # staged twice in this write: the last copy wins
                self.superseded[earlier].add(item.report_id)
            self.where[item.report_id] = chunk
        write_chunk(self.tmp, self.seq, chunk, items, now)

    def remove(self, report_ids: list[str]) -> None:
        """Record the removal of ``report_ids`` (a tombstone file)."""
        table = pa.table({"report_id": pa.array(report_ids, pa.string())}, schema=REMOVED_SCHEMA)
        path = self.tmp / pending_name(REMOVED, self.seq, None, self.next_chunk())
        pq.write_table(table, path)
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())

    def empty(self) -> bool:
        return not any(self.tmp.iterdir())

    def _drop_superseded(self) -> None:
        for chunk, ids in self.superseded.items():
            for path in self.tmp.glob(f"*_{self.seq}_*_{chunk}.parquet"):
                dataset = path.name.split("_", 1)[0]
                versions = (pq.read_schema(path).metadata or {}).get(b"ogi.extractor_version", b"")
                kept = without_ids(read_file(path, dataset), ids)
                path.unlink()
                if kept.num_rows:
                    versions_list = [v for v in versions.decode().split(",") if v]
                    write_file(kept, path, dataset, versions_list, sync=False)

    def commit(self) -> Path:
        """Make the write visible: its files flushed to disk (together: the file system
        commits its journal once for many), one rename of its directory, then fsync'd."""
        self._drop_superseded()
        fsync_all(sorted(self.tmp.iterdir()))
        fsync_dir(self.tmp)
        final = self.tmp.parent / str(self.seq)
        os.rename(self.tmp, final)
        fsync_dir(final.parent)
        return final

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
