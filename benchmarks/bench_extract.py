"""Extraction speed over the bundled corpus, next to pandas.read_html on the same pages.

Run on demand (not part of the test suite):  .venv/bin/python benchmarks/bench_extract.py
Prints pages per second and per-page time for the whole extraction (decode, parse, grid,
mapping, identity checks) over every corpus document, and for the HTML pages alone next
to the floor (lexbor parsing the page and reading every cell's text, which any HTML
extraction does) and to ``pandas.read_html`` merely parsing their tables (lxml), in the
same run.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import warnings
from pathlib import Path

# this tree's pipeline, not the one the venv's editable install points at
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from selectolax.lexbor import LexborHTMLParser

from pipeline.extract import extract_document

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus" / "raw"


def _time(label: str, pages: list[bytes], work, rounds: int) -> float:
    """Seconds per page: the fastest of ``rounds`` passes over all pages (least disturbed
    by other work on the machine), with the mean over all passes alongside."""
    work(pages[0])  # warm caches and imports
    passes = []
    for _ in range(rounds):
        start = time.perf_counter()
        for page in pages:
            work(page)
        passes.append((time.perf_counter() - start) / len(pages))
    best, mean = min(passes), sum(passes) / len(passes)
    print(
        f"{label:<44} {rounds * len(pages):>6} pages  {1 / best:>8.1f} pages/s  "
        f"{1000 * best:>7.3f} ms/page (mean {1000 * mean:.3f})"
    )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    documents = sorted(CORPUS.iterdir())
    every = [p.read_bytes() for p in documents]
    html = [p.read_bytes() for p in documents if p.suffix == ".html"]
    size = sum(map(len, html)) / len(html) / 1024
    print(f"corpus: {len(every)} documents, {len(html)} HTML pages (mean {size:.0f} KiB)")

    def ours(page: bytes) -> None:
        extract_document(page, source="bench")

    def parse_floor(page: bytes) -> None:
        """The least any HTML extraction does: parse the page, read every cell's text."""
        tree = LexborHTMLParser(page)
        for cell in tree.css("td, th"):
            cell.text(deep=True, separator="")

    def read_html(page: bytes) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.read_html(io.StringIO(page.decode("utf-8")))

    _time("pipeline extract, every document", every, ours, args.rounds)
    ours_html = _time("pipeline extract, HTML pages", html, ours, args.rounds)
    floor = _time("floor: lexbor parse + every cell's text, HTML", html, parse_floor, args.rounds)
    theirs = _time("pandas.read_html (parse only), HTML pages", html, read_html, args.rounds)
    print(f"ratio: pipeline extraction is {theirs / ours_html:.1f}x faster than pandas.read_html")
    print(f"ratio: pipeline extraction is {ours_html / floor:.2f}x the parse floor (goal <= 2.5x)")


if __name__ == "__main__":
    main()
