"""Stage extracted reports: each write appends only its own reports' rows (a pending write,
:mod:`pipeline.stage.pending`), so its cost follows the reports written, not the dataset.

:mod:`pipeline.load` sees a write as soon as it commits; plain Parquet readers see it after
the next :func:`~pipeline.stage.compaction.compact`, which folds the pending writes into the
published files (the nightly flow, ``reextract`` and ``extract --stage`` end with one).
Staging a report twice leaves one live copy: the newest write's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipeline.model import Report
from pipeline.stage.convert import StageItem
from pipeline.stage.pending import PendingWrite
from pipeline.stage.store import write_lock


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
    """Stage one extracted report (replacing any earlier version of the same URL).

    Staged without a region (``extract URL --stage``), the report keeps the region it was
    crawled with."""
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


@contextlib.contextmanager
def staging(data_dir: Path) -> Iterator[PendingWrite]:
    """One pending write, under the write lock: whatever is written to it becomes visible
    in one step when the block ends; an exception (or nothing written) leaves no trace."""
    data_dir = Path(data_dir)
    with write_lock(data_dir) as sequence:
        write = PendingWrite.begin(data_dir, sequence.next())
        try:
            yield write
        except BaseException:
            write.abort()
            raise
        if write.empty():
            write.abort()
        else:
            write.commit()


def stage_reports(
    data_dir: Path,
    items: Iterable[StageItem],
    *,
    chunk_size: int = 2_000,
    now: datetime | None = None,
) -> list[str]:
    """Stage many reports in one write; returns their report_ids (in first-seen order).

    ``items`` is consumed ``chunk_size`` at a time, each chunk written to its own files, so
    memory stays bounded whatever the batch size. Nothing is visible until the write
    commits; a writer killed before leaves the data as it was.
    """
    now = now or datetime.now(UTC)
    staged: dict[str, None] = {}
    with staging(data_dir) as write:
        chunk: list[StageItem] = []
        for item in items:
            chunk.append(item)
            staged[item.report_id] = None
            if len(chunk) >= chunk_size:
                write.add(chunk, now)
                chunk = []
        if chunk:
            write.add(chunk, now)
    return list(staged)
