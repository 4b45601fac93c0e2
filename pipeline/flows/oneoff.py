"""The one-off flow: one report URL or file -> extract (-> archive and stage, on request).

``pipeline.extract(source)`` and ``python -m pipeline extract SOURCE [--stage]`` run it.
Reading the source is this flow's edge; the extractor only ever sees bytes.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow as pa

from pipeline import archive
from pipeline.datadir import WriterLock
from pipeline.datasets import PARTITION_FIELD
from pipeline.errors import SourceError
from pipeline.extract import extract_document
from pipeline.model import Report
from pipeline.stage import StageItem, compact, stage_report
from pipeline.stage import facts_table as stage_facts_table
from pipeline.version import USER_AGENT

#: A report file, or the URL of one.
Source = str | os.PathLike[str] | httpx.URL

MAX_BYTES = 20 * 1024 * 1024


def source_text(source: Source) -> str:
    """The source as it is recorded in a report's metadata (a URL or a path)."""
    return str(source) if isinstance(source, httpx.URL) else os.fspath(source)


def is_url(source: Source) -> bool:
    return isinstance(source, httpx.URL) or source_text(source).startswith(("http://", "https://"))


def read_source(source: Source, *, timeout: float = 30.0) -> tuple[bytes, str | None]:
    """The bytes of a local file or URL and, for a URL, its Content-Type."""
    text = source_text(source)
    if not is_url(source):
        try:
            return Path(text).read_bytes(), None
        except IsADirectoryError:
            raise SourceError(f"{text}: is a directory, not a report file") from None
        except OSError as exc:
            raise SourceError(f"{text}: cannot read file ({exc.strerror or exc})") from None
    try:
        with (
            httpx.Client(
                follow_redirects=True, timeout=timeout, headers={"User-Agent": USER_AGENT}
            ) as client,
            client.stream("GET", text) as response,
        ):
            if response.status_code >= 400:
                raise SourceError(f"{text}: HTTP {response.status_code}")
            chunks = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise SourceError(f"{text}: larger than {MAX_BYTES // 2**20} MiB")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type")
    except httpx.HTTPError as exc:
        raise SourceError(f"{text}: unreachable ({type(exc).__name__}: {exc})") from None
    except httpx.InvalidURL as exc:
        raise SourceError(f"{text}: invalid URL ({exc})") from None


def extract(source: Source) -> Report:
    """Extract one report from a URL or a local file.

    >>> report = pipeline.extract("tests/fixtures/corpus/raw/000.txt")
    >>> report.facts, report.meta, report.findings   # DataFrames

    Raises :class:`~pipeline.errors.SourceError` when the source cannot be read.
    """
    content, content_type = read_source(source)
    return extract_document(content, source=source_text(source), content_type=content_type)


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
