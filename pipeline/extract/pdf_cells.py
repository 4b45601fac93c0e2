"""Cells and text of a PDF with a text layer (pdfplumber).

Tables come from ruling lines: each table pdfplumber finds is turned into a grid of cells
(spans from the cell boxes) and read by the HTML grid's rules (:mod:`grid`). A character
belongs to the cell its centre falls in; a cell's lines are joined with line breaks, so a
label wrapped in its cell ("行政规范性文\\n件") or printed one character per line reads as
one label. Tables cut by a page break simply continue in the cell sequence (rows are found
by label, not position); header rows repeated at the top of the next page are dropped.

Everything outside the tables becomes text lines, with wide gaps between words written as
``|``: the page text for metadata and, when ruling lines give no figures (unruled tables),
a text rendering read by :func:`~pipeline.extract.text_cells.text_cells`. Page numbers in
the top and bottom margins ("- 4 -", "第 4 页") are dropped.

Work is bounded: at most :data:`MAX_PAGES` pages, pages with more than
:data:`MAX_PAGE_OBJECTS` characters or lines are skipped, and a time budget stops reading
further pages. Each cut becomes a finding.
"""

from __future__ import annotations

import bisect
import logging
import io
import re
import time
from dataclasses import dataclass, field
from typing import Any

from pipeline.extract.grid import GridCell, grid_cells
from pipeline.model import Finding

MAX_PAGES = 80  # annual reports run to 5-30 pages
MAX_PAGE_OBJECTS = 40_000  # characters, or lines and rectangles, on one page
TIME_BUDGET_S = 60.0
MARGIN = 0.08  # page furniture sits in the top and bottom 8% of a page
_PAGE_NUMBER = re.compile(
    r"^[\s\-—–－·•]*(?:第\s*)?\d{1,4}\s*(?:页)?(?:\s*[/／]\s*\d{1,4}|\s*共\s*\d{1,4}\s*页)?[\s\-—–－·•]*$"
)
_SNAP = 2.0  # points: cell edges closer than this are one grid line
# A gap wider than this many character heights separates two cells of an unruled row.
_CELL_GAP = 1.5
_WORD_GAP = 0.3
_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
# pdfminer logs a warning per glyph of a font it half understands; findings say what matters.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


class UnreadablePdf(Exception):
    """The PDF cannot be read at all (encrypted, damaged): the message says why."""


@dataclass(slots=True)
class PdfContent:
    table_cells: list[str] = field(default_factory=list)
    text: str = ""  # every text line outside the tables, in reading order
    table_text: str = ""  # the text rendering of the whole document, tables included
    chars: int = 0
    pages: int = 0
    image_pages: int = 0  # pages mostly covered by an image
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class _Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    upright: bool

    @property
    def size(self) -> float:
        return max(self.bottom - self.top, 1.0)


def read_pdf(content: bytes) -> PdfContent:
    """Read a PDF's tables and text. Raises :class:`UnreadablePdf` when it cannot be
    opened; problems on single pages become findings."""
    import pdfplumber  # imported on first use: it is slow to import and only PDFs need it
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(content))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise UnreadablePdf(f"encrypted PDF ({type(exc).__name__})") from None
    except Exception as exc:  # pdfminer raises many types on damaged files
        raise UnreadablePdf(_damaged(exc)) from None
    result = PdfContent()
    try:
        _read_pages(pdf, result)
    finally:
        pdf.close()
    return result


def _damaged(exc: BaseException) -> str:
    detail = str(exc).splitlines()[0][:120] if str(exc) else ""
    name = type(exc).__name__
    if "password" in detail.lower() or "encrypt" in name.lower():
        return f"encrypted PDF ({name})"
    return f"damaged PDF ({name}{': ' + detail if detail else ''})"


def _read_pages(pdf: Any, result: PdfContent) -> None:
    started = time.monotonic()
    try:
        pages = pdf.pages
    except Exception as exc:
        raise UnreadablePdf(_damaged(exc)) from None
    if len(pages) > MAX_PAGES:
        result.findings.append(
            _warning("pages_skipped", f"{len(pages)} pages; only the first {MAX_PAGES} read")
        )
    text_lines: list[str] = []
    all_lines: list[str] = []
    previous_header: list[str] = []
    for number, page in enumerate(pages[:MAX_PAGES], start=1):
        if time.monotonic() - started > TIME_BUDGET_S:
            result.findings.append(
                _warning("pages_skipped", f"time budget spent; pages from {number} on not read")
            )
            break
        try:
            read = _read_page(page)
        except Exception as exc:  # a damaged page: the others may still be whole
            result.findings.append(
                _warning("page_unreadable", f"page {number}: {_damaged(exc)}")
            )
            continue
        finally:
            page.close()  # frees pdfplumber's per-page caches
        result.pages += 1
        if read is None:
            result.findings.append(
                _warning("page_skipped", f"page {number}: more than {MAX_PAGE_OBJECTS} objects")
            )
            continue
        result.chars += read.chars
        result.image_pages += read.mostly_image
        for grid, rows in read.tables:
            cells = grid_cells(_drop_header(grid, rows, previous_header))
            previous_header = rows[:_HEADER_ROWS]
            result.table_cells.extend(cells)
        text_lines.extend(read.text_lines)
        all_lines.extend(read.all_lines)
    result.text = "\n".join(text_lines)
    result.table_text = "\n".join(all_lines)


def _warning(check: str, message: str) -> Finding:
    return Finding(check=check, status="warning", message=message)


@dataclass(slots=True)
class _Page:
    tables: list[tuple[list[GridCell], list[str]]]  # the grid, and each row's text
    text_lines: list[str]
    all_lines: list[str]
    chars: int
    mostly_image: bool


def _read_page(page: Any) -> _Page | None:
    raw_chars = page.chars
    edges = len(page.lines) + len(page.rects)
    if len(raw_chars) > MAX_PAGE_OBJECTS or edges > MAX_PAGE_OBJECTS:
        return None
    chars = [
        _Char(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], bool(c.get("upright", True)))
        for c in raw_chars
        if c["text"].strip()
    ]
    tables = page.find_tables(_TABLE_SETTINGS) if edges else []
    boxes = [table.bbox for table in tables]
    inside: list[list[_Char]] = [[] for _ in tables]
    outside: list[_Char] = []
    for char in chars:
        cx, cy = (char.x0 + char.x1) / 2, (char.top + char.bottom) / 2
        for k, (x0, top, x1, bottom) in enumerate(boxes):
            if x0 <= cx <= x1 and top <= cy <= bottom:
                inside[k].append(char)
                break
        else:
            outside.append(char)
    grids = [_table_grid(table.cells, own) for table, own in zip(tables, inside, strict=True)]
    height = float(page.height) or 1.0
    text_lines = [
        line
        for top, line in _lines(outside, _CELL_GAP)
        if not _is_furniture(line, top / height)
    ]
    all_lines = [
        line for top, line in _lines(chars, _CELL_GAP) if not _is_furniture(line, top / height)
    ]
    area = float(page.width) * height or 1.0
    image_area = max(
        (abs((i["x1"] - i["x0"]) * (i["bottom"] - i["top"])) for i in page.images), default=0.0
    )
    return _Page(grids, text_lines, all_lines, len(chars), image_area / area > 0.25)


def _is_furniture(line: str, where: float) -> bool:
    return (where < MARGIN or where > 1 - MARGIN) and _PAGE_NUMBER.match(line) is not None


def _snap(values: list[float]) -> list[float]:
    """Distinct grid lines: values closer than :data:`_SNAP` are one line."""
    lines: list[float] = []
    for value in sorted(values):
        if not lines or value - lines[-1] > _SNAP:
            lines.append(value)
    return lines


def _index(lines: list[float], value: float) -> int:
    """The grid line nearest ``value``."""
    i = bisect.bisect_left(lines, value)
    if i == len(lines) or (i > 0 and value - lines[i - 1] < lines[i] - value):
        i -= 1
    return i


def _table_grid(
    boxes: list[tuple[float, float, float, float]], chars: list[_Char]
) -> tuple[list[GridCell], list[str]]:
    """The table as grid cells with their text, and each row's text (to spot repeated
    headers)."""
    xs = _snap([v for box in boxes for v in (box[0], box[2])])
    ys = _snap([v for box in boxes for v in (box[1], box[3])])
    placed: list[tuple[int, int, int, int]] = []
    owner: dict[tuple[int, int], int] = {}
    for box in boxes:
        c0, c1 = _index(xs, box[0]), _index(xs, box[2])
        r0, r1 = _index(ys, box[1]), _index(ys, box[3])
        if c1 <= c0 or r1 <= r0 or any((r, c) in owner for r in range(r0, r1)
                                       for c in range(c0, c1)):
            continue  # a degenerate or overlapping box: its position stays a hole
        for r in range(r0, r1):
            for c in range(c0, c1):
                owner[(r, c)] = len(placed)
        placed.append((r0, c0, r1 - r0, c1 - c0))
    texts: list[list[_Char]] = [[] for _ in placed]
    for char in chars:
        r = bisect.bisect_right(ys, (char.top + char.bottom) / 2) - 1
        c = bisect.bisect_right(xs, (char.x0 + char.x1) / 2) - 1
        k = owner.get((r, c))
        if k is not None:
            texts[k].append(char)
    cells = [
        GridCell(r, c, rs, cs, _cell_text(own))
        for (r, c, rs, cs), own in zip(placed, texts, strict=True)
    ]
    rows: dict[int, list[str]] = {}
    for cell in sorted(cells, key=lambda g: (g.row, g.column)):
        rows.setdefault(cell.row, []).append(cell.text)
    row_texts = ["|".join(rows.get(r, [])) for r in range(len(ys) - 1)]
    return cells, row_texts


_HEADER_ROWS = 4  # the applications table has the deepest header: three rows and a title


def _drop_header(grid: list[GridCell], rows: list[str], previous: list[str]) -> list[GridCell]:
    """Rows at the top of a table that repeat the previous table's first rows (a header
    repeated after a page break) are dropped; they would read as stray labels."""
    repeated = 0
    for mine, theirs in zip(rows[:_HEADER_ROWS], previous, strict=False):
        if mine != theirs or not mine.strip("|"):
            break
        repeated += 1
    if not repeated:
        return grid
    # A cell spanning down out of the dropped rows would lose its first row: keep the grid.
    if any(c.row < repeated < c.row + c.rowspan for c in grid):
        return grid
    return [
        GridCell(c.row - repeated, c.column, c.rowspan, c.colspan, c.text)
        for c in grid
        if c.row >= repeated
    ]


def _cell_text(chars: list[_Char]) -> str:
    if chars and sum(not c.upright for c in chars) * 2 > len(chars):
        # Rotated text (a vertical label): columns right to left, each read top down.
        ordered = sorted(chars, key=lambda c: (-round(c.x0), c.top))
        return "".join(c.text for c in ordered)
    return "\n".join(line for _, line in _lines(chars, None))


def _lines(chars: list[_Char], cell_gap: float | None) -> list[tuple[float, str]]:
    """Characters grouped into lines, top to bottom; with ``cell_gap``, gaps wider than
    that many character heights are written as `` | ``."""
    ordered = sorted(chars, key=lambda c: (c.top, c.x0))
    groups: list[list[_Char]] = []
    for char in ordered:
        if groups:
            first = groups[-1][0]
            if char.top - first.top < 0.5 * min(first.size, char.size):
                groups[-1].append(char)
                continue
        groups.append([char])
    lines: list[tuple[float, str]] = []
    for group in groups:
        group.sort(key=lambda c: c.x0)
        parts: list[str] = []
        previous: _Char | None = None
        for char in group:
            if previous is not None:
                gap = char.x0 - previous.x1
                if char.text == previous.text and abs(char.x0 - previous.x0) < 0.5:
                    continue  # the same glyph printed twice (fake bold)
                if cell_gap is not None and gap > cell_gap * char.size:
                    parts.append(" | ")
                elif gap > _WORD_GAP * char.size:
                    parts.append(" ")
            parts.append(char.text)
            previous = char
        lines.append((group[0].top, "".join(parts)))
    return lines
