"""What a test crawl left in the crawl state, by the last part of each URL."""

from __future__ import annotations

from pathlib import Path

from pipeline.crawl import State, UrlRow


def rows_by_name(data_dir: Path) -> dict[str, UrlRow]:
    """Every URL's state row, keyed by the last part of its URL (``1.html``)."""
    state = State(data_dir)
    try:
        return {r.url.rsplit("/", 1)[1]: r for r in state.rows()}
    finally:
        state.close()
