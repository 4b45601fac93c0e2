"""Notebook-facing calls: ``pipeline.extract(source)`` for one URL or file.

This module is an edge: it reads a file or fetches a URL, then hands bytes to the pure
extractor in :mod:`pipeline.extract`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from pipeline.crawl.config import DEFAULT_USER_AGENT
from pipeline.httpbody import ACCEPT_ENCODING, BodyTooLarge, UndecodableBody, read_body
from pipeline.logsafe import printable
from pipeline.model import Report

MAX_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


class SourceError(Exception):
    """A source that could not be read: the message is one line for the user."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_source(source: str, *, timeout: float = 30.0) -> tuple[bytes, str | None]:
    """The bytes of a local file or URL and, for a URL, its Content-Type.

    A URL gets ``timeout`` seconds in all (redirects, connect, every byte of the body),
    not per read: a server trickling a byte a second ends like a silent one.
    """
    if not is_url(source):
        path = Path(source)
        try:
            return path.read_bytes(), None
        except IsADirectoryError:
            raise SourceError(f"{source}: is a directory, not a report file") from None
        except OSError as exc:
            raise SourceError(f"{source}: cannot read file ({exc.strerror or exc})") from None
    shown = printable(source)
    try:
        return _run(_fetch(source, timeout, shown))
    except TimeoutError:
        raise SourceError(f"{shown}: no complete answer within {timeout:g} s") from None
    except BodyTooLarge:
        raise SourceError(f"{shown}: larger than {MAX_BYTES // 2**20} MiB") from None
    except UndecodableBody as exc:
        raise SourceError(f"{shown}: unreadable body ({exc})") from None
    except httpx.InvalidURL as exc:
        raise SourceError(f"{shown}: invalid URL ({printable(str(exc))})") from None
    except httpx.HTTPError as exc:
        reason = printable(f"{type(exc).__name__}: {exc}")
        raise SourceError(f"{shown}: unreachable ({reason})") from None


def _run(work: Coroutine[Any, Any, tuple[bytes, str | None]]) -> tuple[bytes, str | None]:
    """Run ``work`` to completion, also from a notebook whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _fetch(url: str, timeout: float, shown: str) -> tuple[bytes, str | None]:
    """GET ``url``, following redirects by hand so that no redirect body is decoded
    without the size cap (httpx reads those in full)."""
    headers = {"User-Agent": DEFAULT_USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
    async with (
        asyncio.timeout(timeout),
        httpx.AsyncClient(follow_redirects=False, timeout=timeout, headers=headers) as client,
    ):
        for _hop in range(MAX_REDIRECTS + 1):
            async with client.stream("GET", url) as response:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    url = urljoin(url, location.strip())
                    if not is_url(url):
                        raise SourceError(f"{shown}: redirect to {printable(url)}")
                    continue
                if response.status_code >= 400:
                    raise SourceError(f"{shown}: HTTP {response.status_code}")
                body = await read_body(response, MAX_BYTES)
                return body, response.headers.get("content-type")
    raise SourceError(f"{shown}: more than {MAX_REDIRECTS} redirects")


def extract(source: str) -> Report:
    """Extract one report from a URL or a local file.

    >>> report = pipeline.extract("tests/fixtures/corpus/raw/000.txt")
    >>> report.facts, report.meta, report.findings   # DataFrames
    """
    from pipeline.extract import extract_document

    content, content_type = read_source(source)
    return extract_document(content, source=source, content_type=content_type)
