"""Cells of an HTML report: each ``<table>`` read row by row as a grid.

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

# Line breaks a browser would show, so the page's text keeps its lines.
_BLOCK_END = re.compile(r"(?i)<(?:br\b[^>]*|/(?:p|div|li|h[1-6]|tr|table|title)\s*)>")
MAX_SPAN = 200  # real tables span at most a few dozen rows; larger values are markup damage


def _with_newline(match: re.Match[str]) -> str:
    return match.group(0) + "\n"


def parse_html(markup: str | bytes, *, line_breaks: bool = False) -> LexborHTMLParser:
    """Parse a page (text, or UTF-8 bytes: faster); ``line_breaks`` keeps the lines a
    browser shows in the page's text (slower: only the text fallback needs it)."""
    if line_breaks:
        text = markup.decode("utf-8") if isinstance(markup, bytes) else markup
        markup = _BLOCK_END.sub(_with_newline, text)
    tree = LexborHTMLParser(markup)
    tree.strip_tags(["script", "style", "noscript", "template"])
    return tree


_ZERO_WIDTH = re.compile(r"[\u200b\ufeff]")


def cell_text(node: LexborNode) -> str:
    text = node.text(deep=True, separator="")
    if "\u200b" in text or "\ufeff" in text:
        text = _ZERO_WIDTH.sub(" ", text)
    return " ".join(text.split())  # every Unicode space, &nbsp; and 全角 space included


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


@dataclass(slots=True)
class _Carried:
    """A cell spanning down from an earlier row."""

    rows_left: int
    colspan: int
    text: str | None  # repeated in each row it covers (blanks and marks), else None
    last_row: int  # the row that last stepped over it


def table_cells(table: LexborNode) -> list[str]:
    """A table's cells row by row, with rowspan and colspan expanded as a grid would.

    Cells spanning down are tracked by column rather than laid out in a full grid: each
    row places its own cells left to right, skipping the columns covered from above.
    """
    nested = len(table.css("table")) > 1  # the query matches the table itself too
    rows = _own_rows(table, nested)
    carried: dict[int, _Carried] = {}
    cells: list[str] = []

    def pass_carried(column: int, row: int) -> int:
        """Step over the columns covered from above, starting at ``column``."""
        while column in carried and carried[column].last_row != row:
            span = carried[column]
            if span.text is not None:
                cells.append(span.text)
            span.rows_left -= 1
            span.last_row = row
            if span.rows_left == 0:
                del carried[column]
            column += span.colspan
        return column

    for r, tr in enumerate(rows):
        column = 0
        for node in tr.iter():
            if node.tag not in ("td", "th"):
                continue
            if carried:
                column = pass_carried(column, r)
            # A cell holding a whole nested table is layout; the nested table is read itself.
            holds_table = nested and node.css_first("table") is not None
            text = "" if holds_table else cell_text(node)
            cells.append(text)
            attrs = node.attributes
            colspan = _span(attrs.get("colspan"))
            rowspan = min(_span(attrs.get("rowspan")), len(rows) - r)
            if rowspan > 1:
                value = read_value(text)
                repeated = text if value is not None and value.semantic != "number" else None
                carried[column] = _Carried(rowspan - 1, colspan, repeated, r)
            column += colspan
        # Spans right of the row's last cell, or overlapped by a malformed colspan.
        for start in sorted(carried):
            pass_carried(start, r)
    return cells


def html_cells(tree: LexborHTMLParser) -> list[str]:
    """Every table's cells, tables in document order."""
    cells: list[str] = []
    for table in tree.css("table"):
        cells.extend(table_cells(table))
    return cells


def html_text(tree: LexborHTMLParser, limit: int | None = None, *, by_node: bool = False) -> str:
    """The page's visible text (its first ``limit`` characters), one line per line break,
    or with ``by_node`` one line per text node: cheap, and enough for metadata."""
    root = tree.body or tree.root
    if root is None:
        return ""
    text = root.text(deep=True, separator="\n" if by_node else "")[:limit]
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
