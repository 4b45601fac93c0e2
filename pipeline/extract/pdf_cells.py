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
import contextlib
import io
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from pipeline.extract.cells import label_form, read_value
from pipeline.extract.grid import GridCell, grid_cells
from pipeline.extract.layout import could_be_label
from pipeline.extract.word_grid import LABEL_START, PlacedWord, printed_lines, word_tables
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
_UNDERLINE_GAP = 2.5  # points between the text's bottom and its underline
_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
# pdfminer logs a warning per glyph of a font it half understands; findings say what matters.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


class UnreadablePdf(Exception):
    """The PDF cannot be read at all (encrypted, damaged): the message says why."""


@dataclass(slots=True)
class PdfContent:
    table_cells: list[str] = field(default_factory=list)
    # Figure cells of tables rebuilt from word positions: two counts set with no gap in a
    # narrow column read as one, so the reader may split them where a row's own total
    # settles it (as for text renderings, ``tables.parse_tables``).
    glued: set[int] = field(default_factory=set)
    text: str = ""  # every text line outside the tables, in reading order
    table_text: str = ""  # the text rendering of the whole document, tables included
    chars: int = 0
    pages: int = 0
    image_pages: int = 0  # pages mostly covered by an image
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class Char:
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
        with contextlib.suppress(Exception):  # closing walks the damaged page tree again
            pdf.close()
    return result


def _damaged(exc: BaseException) -> str:
    # pdfplumber wraps pdfminer's errors: the wrapped one names the problem.
    if exc.args and isinstance(exc.args[0], BaseException):
        exc = exc.args[0]
    detail = str(exc).splitlines()[0][:120] if str(exc) else ""
    name = type(exc).__name__
    if any(word in f"{name} {detail}".lower() for word in ("password", "encrypt")):
        return f"encrypted PDF: it needs a password to open ({name})"
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
    tables: list[Table] = []
    for number, page in enumerate(pages[:MAX_PAGES], start=1):
        if time.monotonic() - started > TIME_BUDGET_S:
            result.findings.append(
                _warning("pages_skipped", f"time budget spent; pages from {number} on not read")
            )
            break
        try:
            # a table without ruling lines may go on from the page before
            continues = tables[-1].xs if tables and not tables[-1].ruled else None
            read = _read_page(page, continues)
        except Exception as exc:  # a damaged page: the others may still be whole
            result.findings.append(_warning("page_unreadable", f"page {number}: {_damaged(exc)}"))
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
        add_page_tables(tables, read.tables)
        text_lines.extend(read.text_lines)
        all_lines.extend(read.all_lines)
    for table in tables:
        cells = grid_cells(table.cells)
        if not table.ruled:
            start = len(result.table_cells)
            result.glued.update(
                start + k for k, text in enumerate(cells) if read_value(text) is not None
            )
        result.table_cells.extend(cells)
    result.text = "\n".join(text_lines)
    result.table_text = "\n".join(all_lines)


def _warning(check: str, message: str) -> Finding:
    return Finding(check=check, status="warning", message=message)


def add_page_tables(tables: list[Table], page: list[Table]) -> None:
    """Append a page's tables (top to bottom) to the document's ``tables``: the first one
    joined to the last table before when it goes on past the page break (a header
    repeated at the top of the page dropped, a row cut by the break put together)."""
    for k, table in enumerate(page):
        if k == 0 and tables and not table.ruled and not tables[-1].ruled:
            tables[-1], table = _continue_words(tables[-1], table)
        if k == 0 and tables and table.ruled and tables[-1].ruled:
            table = _drop_header(table, tables[-1].row_texts[:_HEADER_ROWS])
            joined = _continue(tables[-1], table)
            if joined is not None:
                tables[-1] = joined
                continue
        tables.append(table)


@dataclass(slots=True)
class Table:
    cells: list[GridCell]
    xs: list[float]  # the column lines
    rows: int
    row_texts: list[str]  # each row's cells joined by "|", to spot repeated headers
    top: float = 0.0
    ruled: bool = True  # False: rebuilt from word positions (no ruling lines)
    cell_chars: list[list[Char]] = field(default_factory=list)  # of each cell, if known


@dataclass(slots=True)
class _Page:
    tables: list[Table]
    text_lines: list[str]
    all_lines: list[str]
    chars: int
    mostly_image: bool


def split_by_box(
    chars: list[Char], boxes: list[tuple[float, float, float, float]]
) -> tuple[list[list[Char]], list[Char]]:
    """The characters inside each box (x0, top, x1, bottom), by their centre (the first
    box that holds it), and those outside every box."""
    inside: list[list[Char]] = [[] for _ in boxes]
    outside: list[Char] = []
    for char in chars:
        cx, cy = (char.x0 + char.x1) / 2, (char.top + char.bottom) / 2
        for k, (x0, top, x1, bottom) in enumerate(boxes):
            if x0 <= cx <= x1 and top <= cy <= bottom:
                inside[k].append(char)
                break
        else:
            outside.append(char)
    return inside, outside


def _read_page(page: Any, continues: list[float] | None = None) -> _Page | None:
    raw_chars = page.chars
    edges = len(page.lines) + len(page.rects)
    if len(raw_chars) > MAX_PAGE_OBJECTS or edges > MAX_PAGE_OBJECTS:
        return None
    chars = [
        Char(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], bool(c.get("upright", True)))
        for c in raw_chars
        if c["text"].strip()
    ]
    tables = _ruled_page(page, raw_chars).find_tables(_TABLE_SETTINGS) if edges else []
    tables.sort(key=lambda t: (t.bbox[1], t.bbox[0]))
    boxes = [table.bbox for table in tables]
    inside, outside = split_by_box(chars, boxes)
    grids = [table_grid(table.cells, own) for table, own in zip(tables, inside, strict=True)]
    for grid, table in zip(grids, tables, strict=True):
        grid.top = table.bbox[1]
    grids = [part for grid in grids for part in _unruled_inside(grid)]
    # Outside the ruled tables: tables printed without ruling lines, from word positions,
    # read between one ruled table and the next (a table never runs through another).
    tops = [box[1] for box in boxes]
    regions: dict[int, list[Char]] = {}
    for char in outside:
        regions.setdefault(bisect.bisect_left(tops, char.top), []).append(char)
    for region in sorted(regions):
        grids.extend(char_tables(regions[region], continues if region == 0 else None))
    grids.sort(key=lambda t: t.top)
    height = float(page.height) or 1.0
    text_lines, all_lines = page_lines(outside, chars, height)
    area = float(page.width) * height or 1.0
    image_area = max(
        (abs((i["x1"] - i["x0"]) * (i["bottom"] - i["top"])) for i in page.images), default=0.0
    )
    return _Page(grids, text_lines, all_lines, len(chars), image_area / area > 0.25)


def char_tables(chars: list[Char], continues: list[float] | None = None) -> list[Table]:
    words = [
        PlacedWord(c.text, c.x0, c.x1, c.top, c.bottom)
        for c in _without_doubles(chars)
        if c.upright
    ]
    return _word_tables_of(words, None, continues)


def page_lines(
    outside: list[Char], chars: list[Char], height: float
) -> tuple[list[str], list[str]]:
    """A page's text lines outside its tables, and all its text lines, without the page
    numbers of its margins (``height``: the page's, in the characters' units)."""
    height = height or 1.0

    def lines(own: list[Char]) -> list[str]:
        return [
            line for top, line in _lines(own, _CELL_GAP) if not _is_furniture(line, top / height)
        ]

    return lines(outside), lines(chars)


def _word_tables_of(
    words: list[PlacedWord], columns: list[float] | None, continues: list[float] | None = None
) -> list[Table]:
    tables = []
    for found in word_tables(words, columns, continues):
        own = [cell for row in found.rows for cell in row]
        if not own:
            continue
        first = min(c.row for c in own)
        cells = [GridCell(c.row - first, c.column, c.rowspan, c.colspan, c.text) for c in own]
        rows = max(c.row + c.rowspan for c in cells)
        top = min((c.top for c in own if c.text), default=0.0)
        # its column lines, for a table that goes on past the page break
        tables.append(Table(cells, list(found.columns), rows, [], top=top, ruled=False))
    return tables


def _unruled_inside(table: Table) -> list[Table]:
    """A ruled table in which a printer left out the inner lines of a block of rows
    (Chromium draws only the borders a page's styles give): the block reads as one cell
    over several rows and columns, holding figure lines. It is rebuilt from its word
    positions on the table's own column lines, between the ruled rows above and below."""
    for k, cell in enumerate(table.cells):
        if cell.rowspan < 2 or cell.colspan < 2 or k >= len(table.cell_chars):
            continue
        r0, r1 = cell.row, cell.row + cell.rowspan
        beside = [c for c in table.cells if c is not cell and c.row < r1 and c.row + c.rowspan > r0]
        if beside:
            continue  # other cells in those rows: not a block of the whole table's width
        words = [
            PlacedWord(c.text, c.x0, c.x1, c.top, c.bottom)
            for c in _without_doubles(table.cell_chars[k])
            if c.upright
        ]
        inner = _word_tables_of(words, table.xs)
        if (
            sum(
                any(read_value(c.text) is not None and c.text for c in own if c.row == r)
                for own in (t.cells for t in inner)
                for r in {c.row for c in own}
            )
            < 2
        ):
            continue  # fewer than two figure rows: a real merged cell
        above = [c for c in table.cells if c.row + c.rowspan <= r0]
        below = [
            GridCell(c.row - r1, c.column, c.rowspan, c.colspan, c.text)
            for c in table.cells
            if c.row >= r1
        ]
        parts = [
            Table(above, table.xs, r0, table.row_texts[:r0], table.top),
            *inner,
            Table(below, table.xs, table.rows - r1, table.row_texts[r1:], table.top),
        ]
        for part in parts:
            part.top = table.top  # one after the other, where the table stood
        return [part for part in parts if part.cells]
    return [table]


def _without_doubles(chars: list[Char]) -> list[Char]:
    """Characters without the copies a fake bold prints a little offset."""
    kept: list[Char] = []
    seen: dict[tuple[str, int], list[Char]] = {}
    for char in chars:
        twins = seen.setdefault((char.text, round(char.top)), [])
        if any(abs(char.x0 - t.x0) < 0.25 * (t.x1 - t.x0) for t in twins):
            continue
        twins.append(char)
        kept.append(char)
    return kept


def _ruled_page(page: Any, chars: list[dict[str, Any]]) -> Any:
    """The page without underlines: drawn as thin lines right under a run of text, they
    would cut a cell into rows as if they were ruling lines."""
    bottoms: dict[int, list[dict[str, Any]]] = {}
    for char in chars:
        bottoms.setdefault(int(char["bottom"]), []).append(char)

    def is_underline(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") not in ("line", "rect") or obj["bottom"] - obj["top"] > 2:
            return False
        y, x0, x1 = obj["top"], obj["x0"], obj["x1"]
        above = [
            c
            for key in range(int(y - _UNDERLINE_GAP) - 1, int(y) + 1)
            for c in bottoms.get(key, ())
            if -0.5 <= y - c["bottom"] <= _UNDERLINE_GAP and c["x1"] > x0 and c["x0"] < x1
        ]
        return bool(above) and (
            min(c["x0"] for c in above) <= x0 + 0.5 and max(c["x1"] for c in above) >= x1 - 0.5
        )

    if not any(is_underline(obj) for obj in (*page.lines, *page.rects)):
        return page
    return page.filter(lambda obj: not is_underline(obj))


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


def table_grid(boxes: list[tuple[float, float, float, float]], chars: list[Char]) -> Table:
    """The table as grid cells with their text."""
    xs = _snap([v for box in boxes for v in (box[0], box[2])])
    ys = _snap([v for box in boxes for v in (box[1], box[3])])
    placed: list[tuple[int, int, int, int]] = []
    owner: dict[tuple[int, int], int] = {}
    for box in boxes:
        c0, c1 = _index(xs, box[0]), _index(xs, box[2])
        r0, r1 = _index(ys, box[1]), _index(ys, box[3])
        if (
            c1 <= c0
            or r1 <= r0
            or any((r, c) in owner for r in range(r0, r1) for c in range(c0, c1))
        ):
            continue  # a degenerate or overlapping box: its position stays a hole
        for r in range(r0, r1):
            for c in range(c0, c1):
                owner[(r, c)] = len(placed)
        placed.append((r0, c0, r1 - r0, c1 - c0))
    texts: list[list[Char]] = [[] for _ in placed]
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
    return Table(cells, xs, max(len(ys) - 1, 0), row_texts, cell_chars=texts)


_HEADER_ROWS = 4  # the applications table has the deepest header: three rows and a title


def _drop_header(table: Table, previous: list[str]) -> Table:
    """Rows at the top of a table that repeat the first rows of the table before (a header
    repeated after a page break) are dropped; they would read as stray labels."""
    repeated = 0
    for mine, theirs in zip(table.row_texts[:_HEADER_ROWS], previous, strict=False):
        if mine != theirs or not mine.strip("|"):
            break
        repeated += 1
    # A cell spanning down out of the dropped rows would lose its first row: keep the grid.
    if not repeated or any(c.row < repeated < c.row + c.rowspan for c in table.cells):
        return table
    cells = [
        GridCell(c.row - repeated, c.column, c.rowspan, c.colspan, c.text)
        for c in table.cells
        if c.row >= repeated
    ]
    return Table(cells, table.xs, table.rows - repeated, table.row_texts[repeated:])


# How a row label starts: "1." "（三）" "四、" or a bare heading word; a row that starts one
# is a new row, never the rest of a row cut by a page break.
_LABEL_START = re.compile(
    r"^\s*(?:\d{1,2}\s*[.．、]|[（(]\s*[一二三四五六七八九十]{1,3}\s*[）)]|[一二三四五六七八九十]{1,3}\s*、"
    r"|第二十条|信息内容|总计|合计|规章|行政|规范性文件|政府集中采购|其他对外管理服务事项)"
)


def _continue(previous: Table, table: Table) -> Table | None:
    """``previous`` with ``table`` appended when ``table`` starts with the rest of
    ``previous``'s last row (a row cut by a page break, as Word and LibreOffice print long
    rows): the two parts of each cell are joined. ``None`` when ``table`` starts a new row,
    or its columns are not those of ``previous``."""
    columns = _column_map(table.xs, previous.xs)
    if columns is None or table.rows == 0 or previous.rows == 0:
        return None
    first = [c for c in table.cells if c.row == 0]
    for cell in first:
        value = read_value(cell.text)
        if value is not None and value.semantic != "blank":
            return None  # a figure: the cut row's figures sit above the cut
        if value is None and _LABEL_START.match(cell.text):
            return None
    last = previous.rows - 1
    above = {(c.column, c.colspan): c for c in previous.cells if c.row <= last < c.row + c.rowspan}
    joined: dict[tuple[int, int], GridCell] = {}
    for cell in first:
        start, end = columns[cell.column], columns[cell.column + cell.colspan]
        upper = above.get((start, end - start))
        if upper is None:
            return None  # the cut does not run along one row of cells
        text = f"{upper.text}\n{cell.text}" if upper.text and cell.text else upper.text or cell.text
        joined[(upper.row, upper.column)] = GridCell(
            upper.row, upper.column, upper.rowspan + cell.rowspan - 1, upper.colspan, text
        )
    cells = [joined.get((c.row, c.column), c) for c in previous.cells]
    for cell in table.cells:
        if cell.row > 0:
            start, end = columns[cell.column], columns[cell.column + cell.colspan]
            cells.append(GridCell(cell.row + last, start, cell.rowspan, end - start, cell.text))
    row_texts = previous.row_texts[:-1] + table.row_texts  # only the first rows are looked at
    return Table(cells, previous.xs, previous.rows + table.rows - 1, row_texts)


def _continue_words(previous: Table, table: Table) -> tuple[Table, Table]:
    """A label cut by a page break in a table without ruling lines: a first row of one
    short text fragment that starts no label ("定”" under "3.危及“三安全一稳") is the rest
    of the last row label of the table before, and moves there."""
    first = [c for c in table.cells if c.row == 0]
    if len(first) != 1 or table.rows < 2:
        return previous, table
    (fragment,) = first
    form = label_form(fragment.text)
    if (
        read_value(fragment.text) is not None
        or not 0 < len(form) <= 12
        or LABEL_START.match(fragment.text)
        or could_be_label(form)
    ):
        return previous, table
    last = max(c.row for c in previous.cells)
    labels = [c for c in previous.cells if c.row == last and read_value(c.text) is None]
    if not labels:
        return previous, table
    label = max(labels, key=lambda c: c.column)
    joined = GridCell(
        label.row, label.column, label.rowspan, label.colspan, f"{label.text}\n{fragment.text}"
    )
    cells = [joined if c is label else c for c in previous.cells]
    rest = [
        GridCell(c.row - 1, c.column, c.rowspan, c.colspan, c.text)
        for c in table.cells
        if c.row > 0
    ]
    return (
        Table(cells, previous.xs, previous.rows, previous.row_texts, previous.top, False),
        Table(rest, table.xs, table.rows - 1, table.row_texts, table.top, False),
    )


def _column_map(xs: list[float], onto: list[float]) -> list[int] | None:
    """For each column line in ``xs``, the index of the same line in ``onto``."""
    mapped = []
    for x in xs:
        i = _index(onto, x)
        if abs(onto[i] - x) > 2 * _SNAP:
            return None
        mapped.append(i)
    return mapped


def _cell_text(chars: list[Char]) -> str:
    if chars and sum(not c.upright for c in chars) * 2 > len(chars):
        # Rotated text (a vertical label): columns right to left, each read top down.
        ordered = sorted(chars, key=lambda c: (-round(c.x0), c.top))
        return "".join(c.text for c in ordered)
    return "\n".join(line for _, line in _lines(chars, None))


def _figure_edge(left: str, right: str) -> bool:
    return left[-1:].isdigit() and (right[:1].isdigit() or right[:1] in "-+/")


def _lines(chars: list[Char], cell_gap: float | None) -> list[tuple[float, str]]:
    """Characters grouped into lines, top to bottom; with ``cell_gap``, gaps wider than
    that many character heights are written as `` | ``."""
    lines: list[tuple[float, str]] = []
    for group in printed_lines(chars, lambda c: c.size):
        group.sort(key=lambda c: c.x0)
        parts: list[str] = []
        previous: Char | None = None
        for char in group:
            if previous is not None:
                gap = char.x0 - previous.x1
                if char.text == previous.text and char.x0 - previous.x0 < 0.25 * (
                    previous.x1 - previous.x0
                ):
                    continue  # the same glyph printed twice, a little offset (fake bold)
                if cell_gap is not None and (
                    gap > cell_gap * char.size
                    # two figures side by side: a space between digits never sits in one
                    or (gap > _WORD_GAP * char.size and _figure_edge(previous.text, char.text))
                ):
                    parts.append(" | ")
                elif gap > _WORD_GAP * char.size:
                    parts.append(" ")
            parts.append(char.text)
            previous = char
        lines.append((group[0].top, "".join(parts)))
    return lines
