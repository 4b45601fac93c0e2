"""Tables laid out in a PDF or a Word document, read as cells with the HTML grid's rules.

A PDF or DOCX table is a grid of cells with row and column spans. Rather than a second
set of rules, it is written out as a minimal ``<table>`` with ``rowspan``/``colspan`` and
read by :func:`~pipeline.extract.html_cells.table_cells`, so every format yields the same
cell sequence for the same table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from pipeline.extract.html_cells import table_cells

#: Stands in for a grid position no cell covers (a ruling line the PDF does not draw).
#: It reads as text, so a row it falls in is left out rather than shifted by one column.
HOLE = "\ufffd"


@dataclass(frozen=True, slots=True)
class GridCell:
    row: int
    column: int
    rowspan: int
    colspan: int
    text: str  # line breaks inside the cell as "\n"


def grid_markup(cells: list[GridCell]) -> str:
    """The grid as ``<table>`` markup; positions no cell covers become :data:`HOLE`."""
    if not cells:
        return "<table></table>"
    rows = max(c.row + c.rowspan for c in cells)
    columns = max(c.column + c.colspan for c in cells)
    covered = [[False] * columns for _ in range(rows)]
    starting: dict[int, list[GridCell]] = {}
    for cell in cells:
        starting.setdefault(cell.row, []).append(cell)
        for r in range(cell.row, cell.row + cell.rowspan):
            for c in range(cell.column, cell.column + cell.colspan):
                covered[r][c] = True
    parts = ["<table>"]
    for r in range(rows):
        parts.append("<tr>")
        own = {c.column: c for c in starting.get(r, [])}
        for c in range(columns):
            at = own.get(c)
            if at is not None:
                text = html.escape(at.text.replace("\n", " "))
                parts.append(f'<td rowspan="{at.rowspan}" colspan="{at.colspan}">{text}</td>')
            elif not covered[r][c]:
                parts.append(f"<td>{HOLE}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)


def grid_cells(cells: list[GridCell]) -> list[str]:
    """The table's cells in reading order, exactly as the same HTML table would give them."""
    table = LexborHTMLParser(grid_markup(cells)).css_first("table")
    return [] if table is None else table_cells(table)
