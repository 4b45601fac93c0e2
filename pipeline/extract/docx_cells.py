"""Cells and text of a Word document (DOCX), read from its real table grid.

Each ``<w:tbl>`` becomes a grid: ``w:gridSpan`` gives a cell's column span, ``w:vMerge``
joins a cell to the one above it (a row span), ``w:gridBefore`` skips columns at a row's
start. The grid is read by the HTML grid's rules (:mod:`grid`), so a DOCX table yields
the same cells as the same table in HTML. A cell holding a nested table is read as empty
and the nested table on its own, as in HTML.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from pipeline.extract.grid import GridCell, grid_cells
from pipeline.extract.html_cells import MAX_SPAN

MAX_XML_BYTES = 64 * 1024 * 1024  # word/document.xml unpacked; real reports need < 2 MiB
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class UnreadableDocx(Exception):
    """The DOCX cannot be read (damaged, or too large when unpacked): the message says why."""


@dataclass(slots=True)
class DocxContent:
    table_cells: list[str] = field(default_factory=list)
    text: str = ""  # every paragraph, tables included, one per line


def read_docx(content: bytes) -> DocxContent:
    import docx  # python-docx: imported on first use, only Word documents need it

    _check_size(content)
    try:
        document = docx.Document(io.BytesIO(content))
    except Exception as exc:  # python-docx and lxml raise many types on damaged files
        raise UnreadableDocx(f"damaged DOCX ({type(exc).__name__}: {str(exc)[:100]})") from None
    body = document.element.body
    cells: list[str] = []
    for table in body.iter(f"{_W}tbl"):
        cells.extend(grid_cells(_table_grid(table)))
    lines = [_paragraph_text(p) for p in body.iter(f"{_W}p")]
    return DocxContent(cells, "\n".join(line for line in lines if line.strip()))


def _check_size(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableDocx(f"damaged DOCX ({exc})") from None
    if size > MAX_XML_BYTES:
        raise UnreadableDocx(f"DOCX unpacks to {size // 2**20} MiB; not read")


def _int_attribute(element: Any, default: int) -> int:
    """An element's ``w:val`` as a span, clamped: hostile files print huge spans."""
    if element is None:
        return default
    value = element.get(f"{_W}val")
    try:
        return max(0, min(int(value), MAX_SPAN)) if value is not None else default
    except ValueError:
        return default


def _table_grid(table: Any) -> list[GridCell]:
    cells: list[GridCell] = []
    # The cell that covers each column of the row above, to extend it on w:vMerge.
    above: dict[int, int] = {}
    rows = [tr for tr in table.iterchildren(f"{_W}tr")]
    for r, tr in enumerate(rows):
        trpr = tr.find(f"{_W}trPr")
        column = _int_attribute(
            None if trpr is None else trpr.find(f"{_W}gridBefore"), 0
        )
        here: dict[int, int] = {}
        for tc in tr.iterchildren(f"{_W}tc"):
            tcpr = tc.find(f"{_W}tcPr")
            span = max(1, _int_attribute(
                None if tcpr is None else tcpr.find(f"{_W}gridSpan"), 1
            ))
            merge = None if tcpr is None else tcpr.find(f"{_W}vMerge")
            continues = merge is not None and merge.get(f"{_W}val") in (None, "continue")
            origin = above.get(column)
            if continues and origin is not None and cells[origin].colspan == span:
                cell = cells[origin]
                cells[origin] = GridCell(
                    cell.row, cell.column, r - cell.row + 1, cell.colspan, cell.text
                )
                index = origin
            else:
                cells.append(GridCell(r, column, 1, span, _cell_text(tc)))
                index = len(cells) - 1
            for c in range(column, column + span):
                here[c] = index
            column += span
        above = here
    return cells


def _cell_text(tc: Any) -> str:
    """The cell's own paragraphs; a nested table is read on its own, as in HTML."""
    if tc.find(f".//{_W}tbl") is not None:
        return ""
    return "\n".join(_paragraph_text(p) for p in tc.iterchildren(f"{_W}p"))


def _paragraph_text(paragraph: Any) -> str:
    parts: list[str] = []
    for node in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        else:
            parts.append("\t" if node.tag == f"{_W}tab" else "\n")
    return "".join(parts)
