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

MAX_SPAN = 200  # real tables span at most a few dozen rows; larger values are markup damage


def parse_html(markup: str | bytes) -> LexborHTMLParser:
    """Parse a page (text, or UTF-8 bytes: faster), its scripts and styles left out."""
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


_UNSET = object()


def _nearest(
    node: LexborNode, stops: frozenset[str], memo: dict[int, LexborNode | None]
) -> LexborNode | None:
    """The closest ancestor of ``node`` whose tag is in ``stops``; ``memo`` remembers the
    answer for every node walked through, so that walks over one tree are linear overall
    (hostile pages nest tables and wrappers thousands deep)."""
    path: list[int] = []
    found: LexborNode | None = None
    parent = node.parent
    while parent is not None:
        if parent.tag in stops:
            found = parent
            break
        known = memo.get(parent.mem_id, _UNSET)
        if known is not _UNSET:
            found = known  # type: ignore[assignment]
            break
        path.append(parent.mem_id)
        parent = parent.parent
    for mem_id in path:
        memo[mem_id] = found
    return found


_TABLE = frozenset({"table"})
_CELL_OR_TABLE = frozenset({"td", "th", "table"})


@dataclass(slots=True)
class _Index:
    """Each table's own rows (not those of tables nested in it), and the cells that hold
    a nested table: found in one pass over the tree instead of one per table."""

    tables: list[LexborNode]
    rows: dict[int, list[LexborNode]]  # table mem_id -> its rows in document order
    holders: set[int]  # mem_ids of cells holding a table
    spanned: set[int]  # as in PageNodes


#: What the extractor reads from a page's tree besides the rows and cells, in one query
#: (each query walks the whole tree): ``<meta>``, ``<title>``, the tables, and the cells
#: that may span more than one (reading every cell's attributes instead is slow).
_PAGE_NODES = "meta, title, table, td[colspan], td[rowspan], th[colspan], th[rowspan]"


@dataclass(slots=True)
class PageNodes:
    heads: list[LexborNode]  # <meta> and <title>, in document order
    tables: list[LexborNode]  # in document order
    spanned: set[int]  # mem_ids of cells with a colspan or rowspan (the others span 1)


def page_nodes(root: LexborNode | LexborHTMLParser) -> PageNodes:
    nodes = PageNodes([], [], set())
    for node in root.css(_PAGE_NODES):
        tag = node.tag
        if tag == "table":
            nodes.tables.append(node)
        elif tag == "td" or tag == "th":
            nodes.spanned.add(node.mem_id)
        elif tag == "meta" or tag == "title":
            nodes.heads.append(node)
    return nodes


def _index(root: LexborNode | LexborHTMLParser, nodes: PageNodes) -> _Index:
    tables = nodes.tables
    memo: dict[int, LexborNode | None] = {}  # the nearest table above a node
    if not any(_nearest(table, _TABLE, memo) is not None for table in tables):
        # No table inside another (most pages): a table's rows are all the rows in it,
        # and no cell holds a table. One query per table instead of a walk per row.
        return _Index(tables, {t.mem_id: t.css("tr") for t in tables}, set(), nodes.spanned)
    rows: dict[int, list[LexborNode]] = {t.mem_id: [] for t in tables}
    for tr in root.css("tr"):
        owner = _nearest(tr, _TABLE, memo)
        if owner is not None and owner.mem_id in rows:
            rows[owner.mem_id].append(tr)
    holders: set[int] = set()
    memo = {}
    for table in tables:
        holder = _nearest(table, _CELL_OR_TABLE, memo)
        if holder is not None and holder.tag != "table":
            holders.add(holder.mem_id)
    return _Index(tables, rows, holders, nodes.spanned)


@dataclass(slots=True)
class _Carried:
    """A cell spanning down from an earlier row."""

    rows_left: int
    colspan: int
    text: str | None  # repeated in each row it covers (blanks and marks), else None
    last_row: int  # the row that last stepped over it


def table_cells(table: LexborNode) -> list[str]:
    """A table's cells row by row, with rowspan and colspan expanded as a grid would."""
    index = _index(table, page_nodes(table))
    return _grid(index.rows[table.mem_id], index.holders, index.spanned)


def _grid(rows: list[LexborNode], holders: set[int], spanned: set[int]) -> list[str]:
    """The cells of one table's ``rows``, row by row, spans expanded (``holders``: cells
    holding a table, read blank; ``spanned``: the cells that may span more than one).

    Cells spanning down are tracked by column rather than laid out in a full grid: each
    row places its own cells left to right, skipping the columns covered from above.
    """
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
            ident = node.mem_id if holders or spanned else 0
            # A cell holding a whole nested table is layout; the nested table is read itself.
            text = "" if holders and ident in holders else cell_text(node)
            cells.append(text)
            if not spanned or ident not in spanned:
                column += 1
                continue
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


def html_cells(tree: LexborHTMLParser, nodes: PageNodes | None = None) -> list[str]:
    """Every table's cells, tables in document order (``nodes``: the tree's, when the
    caller has them already)."""
    index = _index(tree, nodes or page_nodes(tree))
    cells: list[str] = []
    for table in index.tables:
        cells.extend(_grid(index.rows[table.mem_id], index.holders, index.spanned))
    return cells


def html_text(tree: LexborHTMLParser, limit: int | None = None, *, by_node: bool = False) -> str:
    """The page's visible text (its first ``limit`` characters), one line per line break,
    or with ``by_node`` one line per text node: cheap, and enough for metadata."""
    root = tree.body or tree.root
    if root is None:
        return ""
    text = root.text(deep=True, separator="\n" if by_node else "")[:limit]
    # blank lines (str.isspace: the white space str.split splits at) are dropped before
    # they are split; most text nodes of exported markup are blank
    lines = text.splitlines()
    return "\n".join([" ".join(line.split()) for line in lines if line and not line.isspace()])


#: Elements a browser shows on lines of their own, and line breaks.
_LINES = "p, div, li, h1, h2, h3, h4, h5, h6, tr, table, title, br"


def html_lines(tree: LexborHTMLParser) -> str:
    """The page's visible text with the lines a browser shows: a line break after each
    paragraph, block, list item, heading, table row, table and ``<br>``, wherever its end
    tag was written or implied (``<p>a<p>b`` is two lines). Changes ``tree`` (a text node
    after each such element): call it last."""
    for node in tree.css(_LINES):
        node.insert_after("\n")
    return html_text(tree)
