"""PDF extraction speed next to pdfplumber's own ``extract_tables``, and the cost of a DOC.

Run on demand (not part of the test suite):  .venv/bin/python benchmarks/bench_pdf.py
Over every PDF in tests/fixtures/formats (the corpus pages printed by LibreOffice and by
Chromium), prints milliseconds per page for

* ours: the whole extraction (open, characters, ruling lines, tables, page text, rows by
  label, identity checks) — ``extract_document`` on the PDF's bytes;
* pdfplumber: opening the same PDF and calling ``page.extract_tables()`` on every page,
  which only finds the tables and their cell texts.

The goal is ours within 1.5x of pdfplumber. Then the seconds one DOC conversion by
LibreOffice headless costs (a fresh throw-away profile each time, as the extractor runs it).
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from pathlib import Path

import pdfplumber

from pipeline.extract import convert, extract_document

FORMATS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "formats"


def _best(work: Callable[[], object], rounds: int) -> float:
    """Seconds for the fastest of ``rounds`` runs (least disturbed by other work)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def _pdfplumber_tables(content: bytes) -> None:
    with pdfplumber.open(io.BytesIO(content)) as pdf:
        for page in pdf.pages:
            page.extract_tables()
            page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pdfs = sorted(p for p in FORMATS.glob("*.pdf") if p.name[:3].isdigit())
    total_pages = 0
    ours_total = theirs_total = 0.0
    print(f"{'document':<22}{'pages':>6}{'ours ms/page':>14}{'pdfplumber ms/page':>20}{'ratio':>7}")
    for path in pdfs:
        content = path.read_bytes()
        with pdfplumber.open(io.BytesIO(content)) as pdf:
            pages = len(pdf.pages)
        extract_document(content, source=path.name)  # warm imports and caches
        ours = _best(lambda c=content, n=path.name: extract_document(c, source=n), args.rounds)
        theirs = _best(lambda c=content: _pdfplumber_tables(c), args.rounds)
        total_pages += pages
        ours_total += ours
        theirs_total += theirs
        print(
            f"{path.name:<22}{pages:>6}{ours / pages * 1000:>14.1f}"
            f"{theirs / pages * 1000:>20.1f}{ours / theirs:>7.2f}"
        )
    print(
        f"{'all':<22}{total_pages:>6}{ours_total / total_pages * 1000:>14.1f}"
        f"{theirs_total / total_pages * 1000:>20.1f}{ours_total / theirs_total:>7.2f}"
    )
    doc = FORMATS / "043.doc"
    if convert.soffice_path() is None:
        print("DOC conversion: soffice not installed (apt-get install libreoffice-writer-nogui)")
        return
    content = doc.read_bytes()
    seconds = _best(lambda: convert.convert(content, ".doc", "docx"), args.rounds)
    whole = _best(lambda: extract_document(content, source=doc.name), args.rounds)
    print(f"DOC conversion ({doc.name}, LibreOffice headless): {seconds:.2f} s; "
          f"whole extraction of the DOC: {whole:.2f} s")


if __name__ == "__main__":
    main()
