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
_BLOCK_END = re.compile(r"(?i)(<br\s*/?>|</p>|</div>|</li>|</h[1-6]>|</tr>|</table>|</title>)")
MAX_SPAN = 200  # real tables span at most a few dozen rows; larger values are markup damage


@dataclass(frozen=True, slots=True)
class GridCell:
    text: str
    row: int  # where the cell starts
    column: int


def parse_html(markup: str) -> LexborHTMLParser:
    tree = LexborHTMLParser(_BLOCK_END.sub(r"\1\n", markup))
    tree.strip_tags(["script", "style", "noscript", "template"])
    return tree


def cell_text(node: LexborNode) -> str:
    return _WHITESPACE.sub(" ", node.text(deep=True, separator="")).strip()


def _span(node: LexborNode, name: str) -> int:
    value = (node.attributes.get(name) or "1").strip()
    digits = re.match(r"\d+", value)
    return max(1, min(int(digits.group()) if digits else 1, MAX_SPAN))


def _own_rows(table: LexborNode) -> list[LexborNode]:
    """Rows of this table, not of tables nested in it."""
    rows = []
    for tr in table.css("tr"):
        parent = tr.parent
        while parent is not None and parent.tag != "table":
            parent = parent.parent
        if parent is not None and parent.mem_id == table.mem_id:
            rows.append(tr)
    return rows


def table_grid(table: LexborNode) -> list[list[GridCell | None]]:
    """The table as a rectangular grid; each position points at the cell covering it."""
    rows = _own_rows(table)
    grid: dict[tuple[int, int], GridCell] = {}
    width = 0
    for r, tr in enumerate(rows):
        c = 0
        for node in tr.iter():
            if node.tag not in ("td", "th"):
                continue
            while (r, c) in grid:
                c += 1
            # A cell holding a whole nested table is layout; the nested table is read itself.
            text = "" if node.css_first("table") is not None else cell_text(node)
            cell = GridCell(text, r, c)
            rowspan = min(_span(node, "rowspan"), len(rows) - r)
            colspan = _span(node, "colspan")
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = cell
            c += colspan
            width = max(width, c)
    return [[grid.get((r, c)) for c in range(width)] for r in range(len(rows))]


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


def html_text(tree: LexborHTMLParser) -> str:
    """The page's visible text with its line breaks, for metadata and text fallbacks."""
    root = tree.body or tree.root
    if root is None:
        return ""
    text = root.text(deep=True, separator="")
    lines = (_WHITESPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
