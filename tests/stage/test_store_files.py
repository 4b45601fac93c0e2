"""Bucket files are closed after every read, also when the read fails: a nightly run reads
thousands of them, and a file held open by a kept error is a descriptor lost."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.stage.store import read_columns, read_file

COLUMNS = ["report_id", "table", "row", "column", "value"]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_bucket_file_reads_whole_and_by_columns(staged: Path) -> None:
    path = staged / "parquet" / "facts" / "report_year=2021" / "part-4.parquet"
    whole, some = read_file(path, "facts"), read_columns(path, "facts", COLUMNS)
    assert whole.num_rows == some.num_rows == pq.read_table(path).num_rows > 0
    assert some.column_names == COLUMNS
    assert whole.select(COLUMNS).cast(some.schema).equals(some)


def test_reads_close_their_files_also_when_they_fail(staged: Path, tmp_path: Path) -> None:
    good = (staged / "parquet" / "facts" / "report_year=2021" / "part-4.parquet").read_bytes()
    damaged = tmp_path / "damaged.parquet"  # a sound footer over garbled column chunks
    damaged.write_bytes(good[:4] + bytes(b ^ 0x5A for b in good[4:2000]) + good[2000:])
    truncated = tmp_path / "truncated.parquet"  # no footer: the open itself fails
    truncated.write_bytes(good[:-3])
    reads: list[Callable[[Path], pa.Table]] = [
        lambda p: read_file(p, "facts"),
        lambda p: read_columns(p, "facts", COLUMNS),
    ]
    kept: list[Exception] = []  # as a caller recording what went wrong keeps them
    before = _open_fds()
    for _ in range(25):
        for read in reads:
            for path in (damaged, truncated):
                try:
                    read(path)
                except (OSError, pa.ArrowException) as exc:
                    kept.append(exc)
    assert len(kept) == 100
    assert _open_fds() == before
