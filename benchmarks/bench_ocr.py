"""OCR of scanned reports: seconds per page, and what the engine reads right.

Run on demand (not part of the test suite):

    .venv/bin/python benchmarks/bench_ocr.py                       # Tesseract (the engine used)
    .venv/bin/python benchmarks/bench_ocr.py --engine rapidocr     # the alternative weighed

Over the scans of tests/fixtures/ocr (corpus reports rasterised at 150-200 dpi, some rotated
or noisy) and its report page with table images, for each document prints: pages, seconds
per page (the whole extraction: rendering, deskew, ruling lines, OCR, rows by label,
identity proof), and against the page's gold figures

* read: figures of the three tables the row/column rules got from the OCR text, right and
  wrong (before any identity check: how well the engine reads digits and labels);
* staged: what the identities prove, right and wrong (wrong must be 0).

``--engine rapidocr`` swaps the recogniser (RapidOCR's PP-OCRv4 models, shipped in the
``rapidocr-onnxruntime`` wheel) into the same grid and proof path; it needs that package,
which the project does not install. Timings depend on the machine's load: compare runs
made one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from decimal import Decimal
from pathlib import Path

from PIL import Image

from pipeline.extract import document, extract_document, ocr
from pipeline.model import Fact

ROOT = Path(__file__).resolve().parents[1]
OCR_DIR = ROOT / "tests" / "fixtures" / "ocr"
GOLD_DIR = ROOT / "tests" / "fixtures" / "corpus" / "gold"


def _rapidocr_words() -> object:
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()

    def words(image: Image.Image, dpi: int, language: str = "", *options: str) -> list:
        found, _ = engine(np.asarray(image.convert("RGB")))
        out = []
        for box, text, score in found or []:
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            cleaned = ocr.clean_word(text)
            if cleaned:
                out.append(
                    ocr.OcrWord(cleaned, min(xs), max(xs), min(ys), max(ys), 100 * float(score))
                )
        return out

    return words


#: A report page whose tables are ``<img>`` (043's pages as JPEG), read with its images.
PAGE = "043-images.html"


def _images(name: str) -> dict[str, bytes] | None:
    if name != PAGE:
        return None
    return {p.name: p.read_bytes() for p in OCR_DIR.glob("043-table-*.jpg")}


def _score(facts: list[Fact], gold: dict, show: bool = False) -> tuple[int, int]:
    right = wrong = 0
    for fact in facts:
        expected = gold.get(fact.key, "absent")
        same = (
            expected != "absent"
            and (expected is None) == (fact.number is None)
            and (expected is None or Decimal(str(expected)) == fact.number)
        )
        right, wrong = (right + 1, wrong) if same else (right, wrong + 1)
        if show and not same:
            print(f"  wrong: {fact.key} read {fact.raw!r}, gold {expected}")
    return right, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("tesseract", "rapidocr"), default="tesseract")
    parser.add_argument("--show", action="store_true", help="print each wrong staged figure")
    parser.add_argument("names", nargs="*", help="scans of tests/fixtures/ocr (default: all)")
    args = parser.parse_args()
    if args.engine == "rapidocr":
        ocr.ocr_words = _rapidocr_words()  # type: ignore[assignment]
        ocr.engine_problem = lambda: None  # type: ignore[assignment]
    names = args.names or [*sorted(p.name for p in OCR_DIR.glob("*.scan.pdf")), PAGE]
    print(f"engine {args.engine}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'document':<18} pages  s/page  read right/wrong  staged right/wrong  gold")
    total_pages, total_seconds = 0, 0.0
    for name in names:
        gold = json.loads((GOLD_DIR / f"{name[:3]}.json").read_text(encoding="utf-8"))["facts"]
        read_facts: list[Fact] = []
        real_verify = document.verify_ocr

        def recording(
            facts: list[Fact], fmt: str | None, _real=real_verify, _into=read_facts
        ) -> tuple:
            _into.extend(facts)
            return _real(facts, fmt)

        document.verify_ocr = recording  # records what OCR read before the proof
        try:
            start = time.perf_counter()
            report = extract_document(
                (OCR_DIR / name).read_bytes(), source=name, images=_images(name)
            )
            seconds = time.perf_counter() - start
        finally:
            document.verify_ocr = real_verify
        pages = next(
            int(m[1])
            for f in report.finding_list
            if f.check == "ocr" and (m := re.search(r"\((\d+) page", f.message))
        )
        read_right, read_wrong = _score(read_facts, gold)
        right, wrong = _score(report.fact_list, gold, args.show)
        total_pages += pages
        total_seconds += seconds
        print(
            f"{name:<18} {pages:>5} {seconds / pages:>7.1f} {read_right:>10}/{read_wrong:<6}"
            f" {right:>12}/{wrong:<6} {len(gold):>5}"
        )
    print(f"all: {total_pages} pages, {total_seconds / max(total_pages, 1):.1f} s per page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
