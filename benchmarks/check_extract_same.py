"""Equivalence check for extractor speed work: the same Report, field for field, before
and after a change.

Run on demand (not part of the test suite):

    python benchmarks/check_extract_same.py OUT.jsonl            # write every case
    python benchmarks/check_extract_same.py OUT.jsonl --against BASE.jsonl   # and diff

Runs ``extract_document`` over every document under ``tests/fixtures`` that the tests
extract (corpus raw, format conversions, the OCR fixture's HTML page read without its
pictures, portal pages) and over pages derived from them the way the tests derive theirs
(GBK bytes, traditional characters, tables cut into one table per row, nested layout
tables, unclosed divs past the nesting cap, pipe text in paragraphs for the text
fallback, over-cap pages, cut pages) plus seeded random damage as in ``test_fuzz``.
Each Report is written as one canonical JSON line (meta, facts, findings, pre-2019
figures, table images), so two runs are compared with ``--against`` or ``diff``.
Slow cases (``.doc`` through LibreOffice, PDFs that go to OCR) only with ``--slow``.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# this tree first: its pipeline (not the one the venv's editable install points at) and
# tests.extract.test_fuzz
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zhconv

from pipeline.extract import extract_document
from pipeline.model import Finding, Report
from tests.extract.test_fuzz import JUNK_BYTES

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
CORPUS = FIXTURES / "corpus" / "raw"
SLOW = {"image-only.pdf"}  # OCR of a whole scan: seconds


_SECONDS = re.compile(r"\d+\.\d s\)")  # the time an OCR took, in its finding: not output


def _finding(finding: Finding) -> dict[str, object]:
    row = dataclasses.asdict(finding)
    if finding.check == "ocr":
        row["message"] = _SECONDS.sub("N s)", finding.message)
    return row


def _canonical(report: Report) -> dict[str, object]:
    return {
        "meta": dataclasses.asdict(report.meta),
        "facts": [dataclasses.asdict(f) for f in report.fact_list],
        "findings": [_finding(f) for f in report.finding_list],
        "pre2019": [dataclasses.asdict(f) for f in report.pre2019_list],
        "table_images": list(report.table_images),
    }


def _damaged(content: bytes, rng: random.Random) -> bytes:
    """As ``tests/extract/test_fuzz.damaged`` (its junk too), drawn from a seeded generator."""
    data = bytearray(content)
    for _ in range(rng.randint(0, 6)):
        where = rng.randint(0, max(len(data) - 1, 0))
        action = rng.choice(["cut", "delete", "insert", "duplicate"])
        if action == "cut":
            del data[where:]
        elif action == "delete":
            del data[where : where + rng.randint(1, 400)]
        elif action == "insert":
            data[where:where] = rng.choice(JUNK_BYTES)
        else:
            data[where:where] = data[where : where + rng.randint(1, 400)]
    return bytes(data)


def cases(slow: bool, damaged: int) -> Iterator[tuple[str, bytes, str | None]]:
    """(name, bytes, content type) of every case, in a fixed order."""
    corpus = sorted(CORPUS.iterdir())
    for path in corpus:
        yield f"corpus/{path.name}", path.read_bytes(), None
    for path in sorted((FIXTURES / "formats").iterdir()):
        if path.suffix == ".md" or (not slow and (path.suffix == ".doc" or path.name in SLOW)):
            continue
        yield f"formats/{path.name}", path.read_bytes(), None
    yield "ocr/043-images.html", (FIXTURES / "ocr" / "043-images.html").read_bytes(), None
    for path in sorted((FIXTURES / "portals").glob("*.html")):
        yield f"portals/{path.name}", path.read_bytes(), None
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            yield f"gbk/{path.name}", text.encode("gbk", "replace"), None
            yield f"traditional/{path.name}", zhconv.convert(text, "zh-tw").encode(), None
            split = text.replace("</tr>", "</tr></table><table>")
            yield f"split-tables/{path.name}", split.encode(), None
            start, end = text.find("<table"), text.rfind("</table>") + len("</table>")
            if start >= 0:
                wrap = "<table><tr><td>访问量</td><td>1</td></tr><tr><td>首页</td><td>"
                nested = text[:start] + wrap * 40 + text[start:end]
                nested += "</td></tr></table>" * 40 + text[end:]
                yield f"nested-tables/{path.name}", nested.encode(), None
                divs = text[:start] + "<div>" * 600 + text[start:]
                yield f"unclosed-divs/{path.name}", divs.encode(), None
            yield f"half/{path.name}", path.read_bytes()[: len(path.read_bytes()) // 2], None
            yield f"as-text/{path.name}", path.read_bytes(), "text/plain"
        else:
            # the text's lines as paragraphs: the HTML reader's text fallback
            lines = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.splitlines())
            page = f"<html><head><title>t</title></head><body>{lines}</body></html>"
            yield f"paragraphs/{path.name}", page.encode(), None
            yield f"as-html/{path.name}", path.read_bytes(), "text/html"
    page032 = (CORPUS / "032.html").read_text(encoding="utf-8")
    start, end = page032.index("<table"), page032.rindex("</table>") + len("</table>")
    wrap = "<table><tr><td>访问量</td><td>1</td></tr><tr><td>首页</td><td>"
    deep = page032[:start] + wrap * 7000 + page032[start:end] + "</td></tr></table>" * 7000
    yield "hostile/nested-7000", (deep + page032[end:]).encode(), None
    yield (
        "hostile/divs-80000",
        (page032[:start] + "<div>" * 80_000 + page032[start:]).encode(),
        None,
    )
    yield (
        "hostile/unclosed-tables",
        ("<html><body>" + "<table><tr><td>1</td><td>" * 5000 + "</body></html>").encode(),
        None,
    )
    row = "<tr>" + "".join(f"<td>{i}</td>" for i in range(10)) + "</tr>"
    yield (
        "hostile/cells-2000-rows",
        f"<html><body><table>{row * 2000}</table></body></html>".encode(),
        None,
    )
    yield (
        "hostile/over-cap",
        b"<table>" + b"<tr><td>1</td><TD>2</Td></tr>" * 70_000 + b"</table>",
        None,
    )
    rng = random.Random(12)
    documents = [p.read_bytes() for p in corpus]
    for n in range(damaged):
        yield f"damaged/{n:04d}", _damaged(rng.choice(documents), rng), None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("out", type=Path, help="JSON lines written here, one per case")
    parser.add_argument("--against", type=Path, help="an earlier run to compare with")
    parser.add_argument("--slow", action="store_true", help="also .doc and OCR cases")
    parser.add_argument("--damaged", type=int, default=400, help="seeded damaged documents")
    args = parser.parse_args()
    started = time.perf_counter()
    count = 0
    with args.out.open("w", encoding="utf-8") as out:
        for name, content, content_type in cases(args.slow, args.damaged):
            report = extract_document(content, source=name, content_type=content_type)
            line = json.dumps(_canonical(report), ensure_ascii=False, sort_keys=True, default=str)
            out.write(f"{name}\t{line}\n")
            count += 1
    print(f"{count} cases in {time.perf_counter() - started:.1f} s -> {args.out}")
    if args.against is None:
        return
    ours = dict(line.split("\t", 1) for line in args.out.read_text(encoding="utf-8").splitlines())
    base = dict(
        line.split("\t", 1) for line in args.against.read_text(encoding="utf-8").splitlines()
    )
    differ = sorted(k for k in ours.keys() | base.keys() if ours.get(k) != base.get(k))
    for name in differ[:20]:
        print(f"differs: {name}")
    print(f"{len(ours)} cases, {len(differ)} differ from {args.against}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
