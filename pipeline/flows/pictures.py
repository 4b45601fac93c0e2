"""The pictures that print an image-only page's tables (``Report.table_images``): the URL
of each, and their bytes from the raw archive, for the flows that read such pages again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from pipeline.archive import list_bodies, read_body
from pipeline.crawl import State
from pipeline.crawl.links import normalise_url
from pipeline.errors import PipelineError


def picture_urls(
    page_url: str, sources: Iterable[str], allows: Callable[[str], bool] | None = None
) -> dict[str, str]:
    """``{src: URL}`` for the pictures named by ``src`` in the page at ``page_url``: each
    URL once (a picture named twice is read once), only those ``allows`` lets through."""
    urls: dict[str, str] = {}
    for src in sources:
        url = normalise_url(src, page_url)
        if url is not None and (allows is None or allows(url)) and url not in urls.values():
            urls[src] = url
    return urls


@lru_cache(maxsize=2)
def _archived_resources(data_dir: str, generation: object) -> dict[str, str]:
    """URL -> SHA-256 of the latest archived resource of each URL, by the URL it was
    asked at (the crawl state) and by the one that answered (the archive, after any
    redirect); one scan of each, kept for one ``generation`` (e.g. one re-extraction
    run) in each worker process."""
    found = {b.url: b.sha256 for b in list_bodies(Path(data_dir), kinds=("resource",))}
    try:
        state = State(Path(data_dir), readonly=True)
    except FileNotFoundError:
        return found
    try:
        for row in state.rows(kind="resource"):
            if row.status == "ok" and row.sha256:
                found[row.url] = row.sha256
    finally:
        state.close()
    return found


def archived_pictures(
    data_dir: Path, page_url: str, sources: Iterable[str], generation: object = None
) -> dict[str, bytes]:
    """The archived bytes of the pictures a page names, by ``src``; those never fetched
    (or lost from the archive) are left out."""
    archived = _archived_resources(str(data_dir), generation)
    images: dict[str, bytes] = {}
    for src, url in picture_urls(page_url, sources).items():
        sha = archived.get(url)
        if sha is None:
            continue
        try:
            images[src] = read_body(data_dir, sha)
        except PipelineError:
            continue
    return images
