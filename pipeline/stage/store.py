"""Crash-safe file writes, the write lock and the compaction lock (the layout itself is in
:mod:`pipeline.datasets`).

A published file is replaced whole: the new file is written beside the old one under a
hidden temporary name (``.part-3.parquet.tmp-...``: no reader lists it), flushed to disk and
renamed over the old one. A reader, or a crash at any moment, sees either the old file or
the new one, never a part of one. Pending writes are files in a hidden directory renamed
into place in one step (:mod:`pipeline.stage.pending`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.datadir import parquet_dir as parquet_root
from pipeline.datasets import (
    COMPACT_LOCK,
    DATASETS,
    bucket_path,
    datapackage,
    with_metadata,
)

__all__ = ["bucket_path"]  # re-exported: the published file of a bucket

_TMP_MARK = ".tmp-"
_thread_lock = threading.Lock()


class Sequence:
    """Numbers the pending writes: increasing, from the clock (microseconds) and the last
    number given, kept in the write lock's file (no fsync needed: a kill keeps it, and a
    power cut falls back on the clock)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def next(self) -> int:
        raw = os.pread(self.fd, 32, 0).strip()
        last = int(raw) if raw.isdigit() else 0
        seq = max(time.time_ns() // 1000, last + 1)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(seq).encode())  # the file is opened for appending: offset 0
        return seq


@contextlib.contextmanager
def write_lock(data_dir: Path) -> Iterator[Sequence]:
    """Serialise writers (threads and processes) on one data directory."""
    root = parquet_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    # Created before anything is staged, so a reader never misses the first compaction.
    (root / COMPACT_LOCK).touch()
    with _thread_lock, open(root / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield Sequence(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def compacting(data_dir: Path) -> Iterator[None]:
    """The compaction lock, exclusively: readers (:func:`pipeline.datasets.reading`) wait
    until the published files and the pending writes agree again."""
    root = parquet_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / COMPACT_LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_temporaries(root: Path) -> None:
    """Temporary files left by a writer that was killed (we hold the lock: none is live)."""
    for path in [*root.glob(f"*/*/.*{_TMP_MARK}*"), *root.glob(f".*{_TMP_MARK}*")]:
        with contextlib.suppress(OSError):
            path.unlink()


def fsync_path(path: Path) -> None:
    """Flush a file, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


fsync_dir = fsync_path


#: Threads that fsync a series of files at once. The file system commits its journal for
#: concurrent fsyncs together: on this machine's ext4, 600 small files took 1.2-3.5 ms
#: each one after the other, 0.07 ms each 16 at a time.
SYNC_THREADS = 16


def fsync_all(paths: Iterable[Path]) -> None:
    """Flush ``paths`` to disk, :data:`SYNC_THREADS` at a time; returns once all are."""
    paths = list(paths)
    if len(paths) <= 1:
        for path in paths:
            fsync_path(path)
        return
    with ThreadPoolExecutor(min(SYNC_THREADS, len(paths)), thread_name_prefix="ogi-fsync") as pool:
        for _ in pool.map(fsync_path, paths):
            pass


def temporary_path(path: Path) -> Path:
    """A hidden name beside ``path`` that no reader lists (removed if a writer dies)."""
    return path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def write_atomic(
    table: pa.Table,
    path: Path,
    dataset: str,
    extractor_versions: list[str],
    *,
    sync_dir: bool = True,
) -> None:
    """Replace ``path`` with ``table`` in one rename; an empty table removes the file.
    ``sync_dir=False``: the caller fsyncs the directory after a series of renames."""
    if table.num_rows == 0:
        if path.exists():
            path.unlink()
            if sync_dir:
                fsync_dir(path.parent)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        write_file(table, tmp, dataset, extractor_versions)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)


@dataclass(frozen=True, slots=True)
class Replacement:
    """A published file's new version, written beside it and not yet renamed over it."""

    path: Path
    tmp: Path | None  # None: the file is removed (its new version has no rows)


def prepare(
    table: pa.Table, path: Path, dataset: str, extractor_versions: list[str]
) -> Replacement:
    """The first half of :func:`write_atomic`: ``table`` written beside ``path`` (not yet
    flushed to disk); :func:`replace_all` finishes a series of them."""
    if table.num_rows == 0:
        return Replacement(path, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        write_file(table, tmp, dataset, extractor_versions, sync=False)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return Replacement(path, tmp)


def replace_all(replacements: list[Replacement]) -> None:
    """:func:`write_atomic` for a series of prepared files: every new version is flushed to
    disk first (all at once, :func:`fsync_all`), then each renamed over its file in the
    order given. The caller fsyncs the directories."""
    try:
        fsync_all(r.tmp for r in replacements if r.tmp is not None)
    except BaseException:
        discard(replacements)
        raise
    for r in replacements:
        if r.tmp is None:
            r.path.unlink(missing_ok=True)
        else:
            os.replace(r.tmp, r.path)


def discard(replacements: list[Replacement]) -> None:
    """Remove prepared files that will not be renamed (an error on the way)."""
    for r in replacements:
        if r.tmp is not None:
            with contextlib.suppress(OSError):
                r.tmp.unlink()


def write_file(
    table: pa.Table,
    path: Path,
    dataset: str,
    extractor_versions: list[str],
    *,
    sync: bool = True,
) -> None:
    """Write ``table`` to a new file with the dataset's schema and metadata, durably;
    ``sync=False``: the caller fsyncs it (:func:`fsync_all`) before it is renamed into
    place or committed."""
    table = table.replace_schema_metadata(None).cast(
        with_metadata(DATASETS[dataset], dataset, extractor_versions)
    )
    with open(path, "wb") as handle:
        pq.write_table(
            table, handle, compression="zstd", row_group_size=1_000_000, store_schema=True
        )
        handle.flush()
        if sync:
            os.fsync(handle.fileno())


@contextlib.contextmanager
def parquet_file(path: Path) -> Iterator[pq.ParquetFile]:
    """A Parquet file open for reading, closed on leaving: also when it is unreadable, whose
    error's traceback would otherwise keep the file open (pyarrow opens it in the
    constructor) for as long as the error is kept, or until garbage collection."""
    with pa.OSFile(str(path)) as source, pq.ParquetFile(source) as parquet:
        yield parquet


def read_file(path: Path, dataset: str) -> pa.Table:
    """One bucket file as a table of the dataset's schema (empty if the file is absent)."""
    schema = DATASETS[dataset]
    if not path.exists():
        return schema.empty_table()
    with parquet_file(path) as parquet:
        table = parquet.read().replace_schema_metadata(None)
    if table.schema == schema:
        return table
    if table.schema.names != schema.names:  # written under an older schema version
        table = pa.table(
            [
                table.column(f.name)
                if f.name in table.schema.names
                else pa.nulls(table.num_rows, f.type)
                for f in schema
            ],
            names=schema.names,
        )
    return table.cast(schema)


def read_columns(path: Path, dataset: str, columns: list[str]) -> pa.Table:
    """Some columns of one bucket file, typed as the dataset's schema (empty if absent)."""
    schema = pa.schema([DATASETS[dataset].field(c) for c in columns])
    if not path.exists():
        return schema.empty_table()
    with parquet_file(path) as parquet:  # opened once, for its schema and its columns
        present = set(parquet.schema_arrow.names)
        table = parquet.read(columns=[c for c in columns if c in present])
    return pa.table(
        [
            table.column(c) if c in present else pa.nulls(table.num_rows, schema.field(c).type)
            for c in columns
        ],
        names=columns,
    ).cast(schema)


def read_ids(path: Path) -> pa.Array:
    """The ``report_id`` column of a file (decoded to plain strings)."""
    if not path.exists():
        return pa.array([], type=pa.string())
    column = pq.read_table(path, columns=["report_id"]).column("report_id")
    return column.cast(pa.string()).combine_chunks()


def without_ids(table: pa.Table, ids: set[str]) -> pa.Table:
    if not ids or table.num_rows == 0:
        return table
    mask = pc.is_in(table.column("report_id").cast(pa.string()), value_set=pa.array(sorted(ids)))
    return table.filter(pc.invert(mask))


def file_versions(path: Path) -> list[str]:
    """The extractor versions recorded in a file's metadata (none if it is unreadable)."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return []
    raw = meta.get(b"ogi.extractor_version", b"").decode()
    return [v for v in raw.split(",") if v]


def write_datapackage(data_dir: Path) -> None:
    """Replace ``parquet/datapackage.json`` (the Frictionless descriptor) in one rename."""
    root = parquet_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "datapackage.json"
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(
            json.dumps(datapackage(data_dir), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
