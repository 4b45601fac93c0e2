"""Cells of an HTML report: each ``<table>`` laid out as a grid, read row by row.

Word-exported markup nests every character in spans and paragraphs; a cell's text is
its inline text joined with nothing between, so ``<span>2</span><span>0</span>`` reads 20.
Rowspan and colspan are expanded into a grid. A cell that spans several columns is read
once; a blank or marked cell that spans several rows stands in each of them, while a
label that spans rows (三、本年度办理结果) is read once, as a text rendering prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.extract.cells import read_value

_WHITESPACE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
# Line breaks a browser would show, so the page's text keeps its lines.
_BLOCK_END = re.compile(r"(?i)<(?:br\b[^>]*|/(?:p|div|li|h[1-6]|tr|table|title)\s*)>")
MAX_SPAN = 200  # real tables span at most a few dozen rows; larger values are markup damage


@dataclass(frozen=True, slots=True)
class GridCell:
    text: str
    row: int  # where the cell starts
    column: int


def _with_newline(match: re.Match[str]) -> str:
    return match.group(0) + "\n"


def parse_html(markup: str, *, line_breaks: bool = False) -> LexborHTMLParser:
    """Parse a page; ``line_breaks`` keeps the lines a browser shows in the page's text
    (slower: only the text fallback needs it)."""
    if line_breaks:
        markup = _BLOCK_END.sub(_with_newline, markup)
    tree = LexborHTMLParser(markup)
    tree.strip_tags(["script", "style", "noscript", "template"])
    return tree


def cell_text(node: LexborNode) -> str:
    return _WHITESPACE.sub(" ", node.text(deep=True, separator="")).strip()


_DIGITS = re.compile(r"\s*(\d+)")


def _span(value: str | None) -> int:
    if not value:
        return 1
    digits = _DIGITS.match(value)
    return max(1, min(int(digits.group(1)) if digits else 1, MAX_SPAN))


def _own_rows(table: LexborNode, nested: bool) -> list[LexborNode]:
    """Rows of this table, not of tables nested in it."""
    if not nested:
        return table.css("tr")
    rows = []
    for tr in table.css("tr"):
        parent = tr.parent
        while parent is not None and parent.tag != "table":
            parent = parent.parent
        if parent is not None and parent.mem_id == table.mem_id:
            rows.append(tr)
    return rows


def table_grid(table: LexborNode) -> list[list[GridCell | None]]:
    """The table as a grid; each position points at the cell covering it."""
    nested = len(table.css("table")) > 1  # the query matches the table itself too
    rows = _own_rows(table, nested)
    grid: list[list[GridCell | None]] = [[] for _ in rows]
    for r, tr in enumerate(rows):
        line = grid[r]
        c = 0
        for node in tr.iter():
            if node.tag not in ("td", "th"):
                continue
            while c < len(line) and line[c] is not None:
                c += 1  # covered by a rowspan from above
            # A cell holding a whole nested table is layout; the nested table is read itself.
            holds_table = nested and node.css_first("table") is not None
            cell = GridCell("" if holds_table else cell_text(node), r, c)
            attrs = node.attrs
            rowspan = min(_span(attrs.get("rowspan")), len(rows) - r)
            colspan = _span(attrs.get("colspan"))
            for covered in grid[r : r + rowspan]:
                if len(covered) < c + colspan:
                    covered.extend([None] * (c + colspan - len(covered)))
                covered[c : c + colspan] = [cell] * colspan
            c += colspan
    width = max(map(len, grid), default=0)
    for line in grid:
        line.extend([None] * (width - len(line)))
    return grid


def grid_cells(grid: list[list[GridCell | None]]) -> list[str]:
    cells: list[str] = []
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if cell is None or cell.column != c:
                continue
            if cell.row == r:
                cells.append(cell.text)
                continue
            value = read_value(cell.text)
            if value is not None and value.semantic != "number":
                cells.append(cell.text)
    return cells


def html_cells(tree: LexborHTMLParser) -> list[str]:
    """Every table's cells, tables in document order."""
    cells: list[str] = []
    for table in tree.css("table"):
        cells.extend(grid_cells(table_grid(table)))
    return cells


def html_text(tree: LexborHTMLParser, limit: int | None = None, *, by_node: bool = False) -> str:
    """The page's visible text (its first ``limit`` characters), one line per line break,
    or with ``by_node`` one line per text node: cheap, and enough for metadata."""
    root = tree.body or tree.root
    if root is None:
        return ""
    text = root.text(deep=True, separator="\n" if by_node else "")[:limit]
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
