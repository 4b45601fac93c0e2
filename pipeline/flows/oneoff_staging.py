"""The one-off flow's second half: a report read by :mod:`pipeline.flows.oneoff` archived
and staged (``extract --stage``), or its facts with the staged columns (one-off outputs)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from pipeline import archive
from pipeline.datadir import WriterLock
from pipeline.datasets import PARTITION_FIELD
from pipeline.flows.oneoff import Source, is_url, source_text
from pipeline.model import Report
from pipeline.stage import StageItem, compact, stage_report
from pipeline.stage import facts_table as stage_facts_table


def staged_url(source: Source) -> str:
    """The URL a report from ``source`` is staged under: the URL, or a file's ``file://``
    URI (its ``report_id`` is derived from it)."""
    text = source_text(source)
    return text if is_url(source) else Path(text).resolve().as_uri()


def facts_table(report: Report, source: Source) -> pa.Table:
    """The report's facts with the staged facts' columns and types (``report_id`` as staging
    would give it, ``report_year``), plus the ``source`` they were read from."""
    item = StageItem(
        report=report, url=staged_url(source), region=None, region_code=None, fetched_at=None
    )
    table = stage_facts_table([item])
    rows = table.num_rows
    table = table.append_column(
        PARTITION_FIELD, pa.array([report.meta.report_year] * rows, PARTITION_FIELD.type)
    )
    return table.append_column("source", pa.array([source_text(source)] * rows, pa.string()))


def stage_source(
    data_dir: Path, source: Source, content: bytes, content_type: str | None, report: Report
) -> str:
    """Archive the body (so ``reextract`` can re-read it) and stage the report, holding the
    writer lock so that a running crawl or reextract is not overwritten. Returns the URL the
    report is staged under (a file's ``file://`` URI)."""
    url = staged_url(source)
    fetched_at = datetime.now(UTC)
    with WriterLock(data_dir):
        archive.write_body(
            data_dir,
            content,
            url=url,
            kind="report",
            content_type=content_type,
            fetched_at=fetched_at,
        )
        stage_report(
            data_dir, report, url=url, region=None, region_code=None, fetched_at=fetched_at
        )
        compact(data_dir)  # published at once: plain Parquet readers see it too
    return url
