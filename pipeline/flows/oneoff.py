"""The one-off flow: one report URL or file -> extract; archiving and staging it, on
request, is :mod:`pipeline.flows.oneoff_staging` (kept apart so that ``import pipeline``
does not load staging).

``pipeline.extract(source)`` and ``python -m pipeline extract SOURCE [--stage]`` run it.
Reading the source is this flow's edge; the extractor only ever sees bytes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import unquote, urljoin, urlsplit

from pipeline.errors import SourceError
from pipeline.extract import extract_document
from pipeline.logsafe import printable
from pipeline.model import Report
from pipeline.version import USER_AGENT

if TYPE_CHECKING:  # imported where a URL is read: a local file needs no HTTP client (60 ms)
    import httpx

#: A report file, or the URL of one.
Source = Union[str, os.PathLike[str], "httpx.URL"]  # a quoted name: no ``|`` here

MAX_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
#: Seconds between two pictures fetched for one page (the one-off flow's politeness).
PICTURE_DELAY = 1.0


def source_text(source: Source) -> str:
    """The source as it is recorded in a report's metadata (a URL or a path)."""
    return str(source) if _httpx_url(source) else os.fspath(source)  # type: ignore[arg-type]


def is_url(source: Source) -> bool:
    return _httpx_url(source) or source_text(source).startswith(("http://", "https://"))


def _httpx_url(source: object) -> bool:
    """Whether ``source`` is an ``httpx.URL`` (none exists while httpx is not imported)."""
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(source, httpx.URL)


def read_source(
    source: Source, *, timeout: float = 30.0, origin: tuple[str, str] | None = None
) -> tuple[bytes, str | None]:
    """The bytes of a local file or URL and, for a URL, its Content-Type.

    A URL gets ``timeout`` seconds in all (redirects, connect, every byte of the body),
    not per read: a server trickling a byte a second ends like a silent one. The body is
    decoded with a hard cap on the decoded size (a compression bomb stops at the cap).
    ``origin`` (scheme, host[:port]): redirects may not leave it.
    """
    text = source_text(source)
    if not is_url(source):
        try:
            return Path(text).read_bytes(), None
        except IsADirectoryError:
            raise SourceError(f"{text}: is a directory, not a report file") from None
        except OSError as exc:
            raise SourceError(f"{text}: cannot read file ({exc.strerror or exc})") from None
    import httpx  # also for the except clauses below

    from pipeline.httpbody import BodyTooLarge, UndecodableBody

    shown = printable(text)
    try:
        return _run(_fetch(text, timeout, shown, origin))
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


async def _fetch(
    url: str, timeout: float, shown: str, origin: tuple[str, str] | None = None
) -> tuple[bytes, str | None]:
    """GET ``url``, following redirects by hand so that no redirect body is decoded
    without the size cap (httpx reads those in full)."""
    import httpx

    from pipeline.httpbody import ACCEPT_ENCODING, read_body

    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
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
                    if origin is not None and urlsplit(url)[:2] != origin:
                        raise SourceError(f"{shown}: redirect off its origin: {printable(url)}")
                    continue
                if response.status_code >= 400:
                    raise SourceError(f"{shown}: HTTP {response.status_code}")
                body = await read_body(response, MAX_BYTES)
                return body, response.headers.get("content-type")
    raise SourceError(f"{shown}: more than {MAX_REDIRECTS} redirects")


def extract(source: Source) -> Report:
    """Extract one report from a URL or a local file.

    >>> report = pipeline.extract("tests/fixtures/corpus/raw/000.txt")
    >>> report.facts, report.meta, report.findings   # DataFrames

    A page whose tables are pictures is read with them (OCR): fetched from the page's own
    origin, one at a time, or read from beside a local file. Raises
    :class:`~pipeline.errors.SourceError` when the source cannot be read.
    """
    content, content_type = read_source(source)
    text = source_text(source)
    report = extract_document(content, source=text, content_type=content_type)
    if report.table_images:
        images = _pictures(source, report.table_images)
        if images:
            report = extract_document(
                content, source=text, content_type=content_type, images=images
            )
    return report


def _pictures(source: Source, sources: list[str]) -> dict[str, bytes]:
    """The pictures a page names (``src`` as written) that can be read: those on the
    page's origin for a URL, spaced by :data:`PICTURE_DELAY`; for a local page, files in
    its folder or below. The ones that cannot be read are left out."""
    images: dict[str, bytes] = {}
    page = source_text(source)
    if is_url(source):
        origin = urlsplit(page)[:2]
        wanted: dict[str, str] = {}  # url -> src: a picture named twice is fetched once
        for src in sources:
            url = urljoin(page, src)
            if urlsplit(url)[:2] == origin:
                wanted.setdefault(url, src)
        for url, src in wanted.items():
            time.sleep(PICTURE_DELAY)  # after the page, and after each picture
            with contextlib.suppress(SourceError):
                images[src], _ = read_source(url, origin=origin)
        return images
    folder = Path(page).resolve().parent
    for src in sources:
        if ":" in src or src.startswith("/"):
            continue  # a URL or an absolute path: not a file beside the page
        path = (folder / unquote(src.split("?")[0])).resolve()
        if path.is_relative_to(folder) and path.is_file() and path.stat().st_size <= MAX_BYTES:
            images[src] = path.read_bytes()
    return images
