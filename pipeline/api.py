"""Notebook-facing calls: ``pipeline.extract(source)`` for one URL or file.

This module is an edge: it reads a file or fetches a URL, then hands bytes to the pure
extractor in :mod:`pipeline.extract`.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from pipeline.crawl.config import DEFAULT_USER_AGENT
from pipeline.model import Report

MAX_BYTES = 20 * 1024 * 1024


class SourceError(Exception):
    """A source that could not be read: the message is one line for the user."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_source(source: str, *, timeout: float = 30.0) -> tuple[bytes, str | None]:
    """The bytes of a local file or URL and, for a URL, its Content-Type."""
    if not is_url(source):
        path = Path(source)
        try:
            return path.read_bytes(), None
        except IsADirectoryError:
            raise SourceError(f"{source}: is a directory, not a report file") from None
        except OSError as exc:
            raise SourceError(f"{source}: cannot read file ({exc.strerror or exc})") from None
    try:
        with httpx.Client(
            follow_redirects=True, timeout=timeout, headers={"User-Agent": DEFAULT_USER_AGENT}
        ) as client, client.stream("GET", source) as response:
            if response.status_code >= 400:
                raise SourceError(f"{source}: HTTP {response.status_code}")
            chunks = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise SourceError(f"{source}: larger than {MAX_BYTES // 2**20} MiB")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type")
    except httpx.HTTPError as exc:
        raise SourceError(f"{source}: unreachable ({type(exc).__name__}: {exc})") from None
    except httpx.InvalidURL as exc:
        raise SourceError(f"{source}: invalid URL ({exc})") from None


def extract(source: str) -> Report:
    """Extract one report from a URL or a local file.

    >>> report = pipeline.extract("tests/fixtures/corpus/raw/000.txt")
    >>> report.facts, report.meta, report.findings   # DataFrames
    """
    from pipeline.extract import extract_document

    content, content_type = read_source(source)
    return extract_document(content, source=source, content_type=content_type)
