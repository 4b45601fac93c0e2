"""File layout and crash-safe writes of the staged datasets.

Layout: ``<data dir>/parquet/<dataset>/report_year=<YYYY>/part-<b>.parquet`` where ``b`` is
the report's bucket (:func:`~pipeline.stage.convert.bucket_of`), so every report lives in
exactly one file of each dataset. A write rewrites whole bucket files: the new file is
written beside the old one under a hidden temporary name (ignored by Parquet readers, which
skip names starting with ``.``), flushed to disk and renamed over the old one. A reader, or
a crash at any moment, sees either the old file or the new one, never a part of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.datadir import parquet_dir as parquet_root
from pipeline.datasets import DATASETS, datapackage, dataset_dir, partition_name, with_metadata

CROSS_YEAR_FILE = "cross-year.parquet"
#: The order a write replaces a report's files in: its ``reports`` row last, as the commit.
ORDER = ("facts", "findings", "reports")
JOURNAL_FILE = ".journal.json"
_TMP_MARK = ".tmp-"
_thread_lock = threading.Lock()


def bucket_path(data_dir: Path, dataset: str, year: int | None, bucket: str) -> Path:
    return dataset_dir(data_dir, dataset) / partition_name(year) / f"part-{bucket}.parquet"


@contextlib.contextmanager
def write_lock(data_dir: Path) -> Iterator[None]:
    """Serialise writers (threads and processes) on one data directory."""
    root = parquet_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with _thread_lock, open(root / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            _remove_stale_temporaries(root)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_stale_temporaries(root: Path) -> None:
    """Temporary files left by a writer that was killed (we hold the lock: none is live)."""
    for path in [*root.glob(f"*/*/.*{_TMP_MARK}*"), *root.glob(f".*{_TMP_MARK}*")]:
        with contextlib.suppress(OSError):
            path.unlink()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(table: pa.Table, path: Path, dataset: str, extractor_versions: list[str]) -> None:
    """Replace ``path`` with ``table`` in one rename; an empty table removes the file."""
    if table.num_rows == 0:
        if path.exists():
            path.unlink()
            _fsync_dir(path.parent)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table.replace_schema_metadata(None).cast(
        with_metadata(DATASETS[dataset], dataset, extractor_versions)
    )
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as handle:
            pq.write_table(
                table,
                handle,
                compression="zstd",
                row_group_size=1_000_000,
                store_schema=True,
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def read_file(path: Path, dataset: str) -> pa.Table:
    """One bucket file as a table of the dataset's schema (empty if the file is absent)."""
    schema = DATASETS[dataset]
    if not path.exists():
        return schema.empty_table()
    table = pq.ParquetFile(path).read().replace_schema_metadata(None)
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


def journal_path(data_dir: Path) -> Path:
    return parquet_root(data_dir) / JOURNAL_FILE


def begin_journal(data_dir: Path, report_ids: list[str], *, action: str) -> None:
    """Record (durably) that a write spanning several partitions is about to touch
    ``report_ids``: ``move`` (staged into another year) or ``remove``. A writer killed
    before :func:`end_journal` leaves it for the next write to finish the job."""
    path = journal_path(data_dir)
    tmp = path.with_name(f"{path.name}{_TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"action": action, "report_ids": report_ids}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def read_journal(data_dir: Path) -> tuple[str, list[str]] | None:
    path = journal_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return ("move", [])  # torn journal: the generic repair pass still runs
    return str(data.get("action", "move")), [str(i) for i in data.get("report_ids", [])]


def end_journal(data_dir: Path) -> None:
    path = journal_path(data_dir)
    if path.exists():
        path.unlink()
        _fsync_dir(path.parent)


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
