"""Where the time of HTML extraction goes: each stage of ``document._read_html`` and of
``extract_document`` timed on its own over the corpus HTML pages, in ms per page.

Run on demand (not part of the test suite):  .venv/bin/python benchmarks/bench_extract_stages.py

The stages are called as ``_read_html`` calls them (kept in step with it by hand: the
"sum of stages" line sits next to the whole ``extract_document`` so that a drift shows).
A stage that runs on some pages only (the text fallback and the image check run where the
tables gave no national figure: the pre-2019 pages) is divided by every page, so that the
lines add up to the mean cost of a page. Each figure is the fastest of ``--rounds`` passes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

# this tree's pipeline, not the one the venv's editable install points at
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from selectolax.lexbor import LexborHTMLParser

from pipeline.encoding import decode_counting
from pipeline.extract import extract_document
from pipeline.extract.document import METADATA_CHARS, _table_images, _table_tags
from pipeline.extract.formats import document_format
from pipeline.extract.html_cells import (
    html_cells,
    html_lines,
    html_text,
    page_nodes,
    parse_html,
)
from pipeline.extract.identities import check_identities
from pipeline.extract.metadata import read_metadata
from pipeline.extract.tables import parse_tables, settle_national_format
from pipeline.extract.text_cells import text_cells
from pipeline.html_depth import cap_nesting

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus" / "raw"


def _stages(page: bytes, spent: dict[str, float]) -> None:
    """One page through the stages of ``extract_document`` for HTML, each timed."""
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        spent[name] += now - clock[0]
        clock[0] = now

    document_format(page, None)
    decode_counting(page, None)
    lap("format + decode")
    _table_tags(page)
    lap("table-tag cap")
    markup, _ = cap_nesting(page)
    lap("cap_nesting (depth bound)")
    tree = parse_html(markup)
    lap("parse_html (lexbor + strip scripts)")
    nodes = page_nodes(tree)
    heads = nodes.heads
    meta = {
        (a.get("name") or a.get("property") or ""): (a.get("content") or "")
        for a in (n.attributes for n in heads if n.tag == "meta")
    }
    title = next((n for n in heads if n.tag == "title"), None)
    if title is not None:
        meta.setdefault("title", title.text(strip=True))
    lap("page nodes (one query) + meta + title")
    head = html_text(tree, limit=METADATA_CHARS, by_node=True)
    lap("head text (metadata)")
    cells = html_cells(tree, nodes)
    lap("html_cells (grid)")
    parsed = parse_tables(cells)
    lap("parse_tables (+ pre-2019 table)")
    if not parsed.facts:
        _table_images(tree)
        lap("table images check")
        lines = html_lines(tree)
        lap("fallback: lines from the tree")
        fallback = text_cells(lines)
        lap("fallback: text_cells")
        parse_tables(fallback, pre2019="with_facts")
        lap("fallback: parse_tables")
    page_meta = read_metadata(head, meta)
    lap("read_metadata")
    national_format = settle_national_format(parsed, page_meta.report_year)
    if parsed.facts:
        check_identities(parsed.facts, national_format)
    lap("identities")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    pages = [p.read_bytes() for p in sorted(CORPUS.glob("*.html"))]
    for page in pages:  # warm the label caches and imports
        extract_document(page, source="warm")
    best: dict[str, float] = defaultdict(lambda: float("inf"))
    for _ in range(args.rounds):
        spent: dict[str, float] = defaultdict(float)
        start = time.perf_counter()
        for page in pages:
            extract_document(page, source="bench")
        spent["extract_document (whole)"] = time.perf_counter() - start
        start = time.perf_counter()
        for page in pages:
            for cell in LexborHTMLParser(page).css("td, th"):
                cell.text(deep=True, separator="")
        spent["floor: lexbor parse + every cell's text"] = time.perf_counter() - start
        for page in pages:
            _stages(page, spent)
        for name, seconds in spent.items():
            best[name] = min(best[name], seconds / len(pages))
    print(f"{len(pages)} HTML pages, fastest of {args.rounds} rounds, ms per page")
    total = 0.0
    for name, seconds in best.items():
        if not name.startswith(("extract_document", "floor")):
            total += seconds
        print(f"{name:<42} {1000 * seconds:7.3f}")
    print(f"{'sum of stages':<42} {1000 * total:7.3f}")


if __name__ == "__main__":
    main()
