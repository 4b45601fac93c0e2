"""Tables rebuilt from word positions, for tables printed without (all) ruling lines.

Input is positioned words (or single characters) of one page region: a PDF's text layer or
OCR word boxes. Output is the tables found there as grid cells (:class:`PlacedCell`, or
:class:`~pipeline.extract.grid.GridCell` via :func:`word_grids`), read like any ruled table.

How (one sort, then linear passes; the headings a blank column is looked for among are
capped at :data:`_MAX_HEADINGS`):

* **lines**: words whose vertical extents overlap by half a glyph are one line;
  **segments**: words of a line closer than :data:`CELL_GAP` glyph heights are one cell's
  text; a word gap beside a digit always splits (a space never sits inside a figure, and
  a figure touching the label before it is cut off).
* **tables**: a run of lines with figures ("figure lines") and the text lines around
  them, up to running text. A figure line whose figures sit where the table before has
  text, column headings over the figures after figure lines, or a wide vertical gap start
  a new table (so the items of Table 2, whose columns differ, are tables of their own).
* **columns**: figure columns from the figures alone: sorted by left edge, a figure joins
  the column before while it overlaps that column's stretch and that column has no
  figure of its line yet. A column printed blank on every line is found from its heading
  over the figures (a leaf heading clear of every figure column). Text columns, left of
  the figures, from gaps in the text and from left edges many segments share. Known
  column lines (``columns=``, from the ruled part of a table) replace all of this.
* **rows**: each figure line is a row. Text lines between two figure lines are the wrapped
  rest of a label: each numbered label ("1." "（三）" "四、") starts a row, lines before
  the first one join the row above, and a numbered label between two rows with labels of
  their own is a row printed blank; without numbering the widest line gap divides them,
  and with no distinctly widest gap the lines are left as rows of their own, without
  figure cells, so no figure is guessed. Text lines before the first figure line are
  header rows, one per line, but a numbered label tightly set above the first figure line
  is that row's.
* **cells**: a row's segments in one column (or a span of columns) are one cell, its lines
  joined with ``"\n"``. A text cell beside another text cell (a group label such as
  "（三）不予公开") continued by the next rows' fragments in the same column becomes one
  cell spanning those rows. A figure row's empty figure columns are blank cells (an
  unruled table prints nothing in a blank cell); an empty text column widens the label
  beside it; other rows leave positions uncovered, which the grid reader reads as text,
  so a row without figures never reads as a blank row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations, pairwise
from typing import Protocol, TypeVar

from pipeline.extract.cells import read_value
from pipeline.extract.grid import GridCell

#: A gap wider than this many glyph heights separates two cells of a line.
CELL_GAP = 1.5
#: A gap wider than this many glyph heights separates two words (written as a space).
WORD_GAP = 0.3
#: A vertical gap wider than this many line heights ends a table.
TABLE_GAP = 4.0
#: Lines of one wrapped cell are at most this many glyph heights apart.
_TIGHT = 1.6
#: Column headings looked at for columns printed blank throughout (a table's header).
_MAX_HEADINGS = 64
#: Segments starting within this many points of each other start at one column line.
_ALIGN = 1.5
#: How a numbered row label starts: "1." "（三）" "四、", or a total.
LABEL_START = re.compile(
    r"^\s*(?:\d{1,2}\s*[.．、]|[（(]\s*[一二三四五六七八九十]{1,3}\s*[）)]"
    r"|[一二三四五六七八九十]{1,3}\s*、|总计|合计)"
)


_INNER_LABEL = re.compile(r"[（(][一二三四五六七八九十]{1,3}[）)]")
# A figure set right after the label before it, with no gap ("…不8"): the label's
# Chinese text, then digits to the end of the run.
_TRAILING_FIGURE = re.compile(r"^(?P<label>.*[\u2e80-\u9fff）)])(?P<figure>\d[\d,]*(?:\.\d+)?)$")


@dataclass(frozen=True, slots=True)
class PlacedWord:
    """A word (or a single character) and its box; page coordinates, y grows downward."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)


@dataclass(frozen=True, slots=True)
class PlacedCell:
    """One cell of a rebuilt table: its text (lines joined by ``"\\n"``), its box, and its
    place in its table's grid (``table`` counts the tables of one call from 0)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    table: int
    row: int
    column: int
    rowspan: int = 1
    colspan: int = 1


@dataclass(slots=True)
class _Segment:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    is_figure: bool
    words: tuple[PlacedWord, ...]


@dataclass(slots=True)
class _Line:
    segments: list[_Segment]
    top: float
    bottom: float

    @property
    def figures(self) -> list[_Segment]:
        return [s for s in self.segments if s.is_figure]

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)


def word_rows(
    words: Sequence[PlacedWord], columns: Sequence[float] | None = None
) -> list[list[PlacedCell]]:
    """The rows of every table found among ``words``, top to bottom; each row holds the
    cells that start in it, left to right (a cell spanning rows sits in its first row).
    Words outside tables (running text, headings far from any figure) are left out.

    ``columns``, when known (the column lines of the ruled part of a table), are the x of
    the column lines, left to right, and are taken instead of columns found from the words:
    they also place figures beside columns printed blank."""
    return [row for table in word_tables(words, columns) for row in table.rows]


@dataclass(frozen=True, slots=True)
class WordTable:
    """One table found among words: its rows (as :func:`word_rows` gives them) and the x
    of its column lines, left to right (the last one closes the table)."""

    rows: list[list[PlacedCell]]
    columns: tuple[float, ...]


def word_tables(
    words: Sequence[PlacedWord],
    columns: Sequence[float] | None = None,
    continues: Sequence[float] | None = None,
) -> list[WordTable]:
    """The tables found among ``words`` (see :func:`word_rows`). ``continues``: the column
    lines of a table the first one may be the rest of (the last table on the page before):
    taken when that first table starts with no headings and shows fewer figure columns
    than those lines hold, all its figures within them, so columns printed blank on this
    page keep their place."""
    tables: list[WordTable] = []
    known = sorted(columns) if columns else None
    for number, lines in enumerate(_tables(_lines(words))):
        given = known
        if given is None and number == 0 and continues and _continues(lines, sorted(continues)):
            given = sorted(continues)
        rows, edges = _table_rows(lines, number, given)
        right = max((c.x1 for row in rows for c in row), default=0.0)
        closing = given[-1] if given else max([right, *edges]) + 1.0
        tables.append(WordTable(rows, (*edges, closing)))
    return tables


def _continues(lines: list[_Line], columns: list[float]) -> bool:
    """Whether a table fits the column lines of the table before (see word_tables)."""
    if not any(line.figures for line in lines):
        return False
    first = next(i for i, line in enumerate(lines) if line.figures)
    figures = [s for line in lines for s in line.figures]
    over = min(s.x0 for s in figures) - _ALIGN
    if any(s.x0 >= over for line in lines[:first] for s in line.segments):
        return False  # column headings over the figures: a table of its own
    inside = [
        s
        for s in figures
        if any(a - _ALIGN <= s.x0 and s.x1 <= b + _ALIGN for a, b in pairwise(columns))
    ]
    left = min(s.x0 for s in figures)
    shown = sum(1 for x in columns[:-1] if x >= left - _ALIGN)
    return len(inside) == len(figures) and shown > len(_figure_columns(lines))


def word_grids(
    words: Sequence[PlacedWord], columns: Sequence[float] | None = None
) -> list[list[GridCell]]:
    """The tables found among ``words`` as grid cells, one list per table."""
    grids: dict[int, list[GridCell]] = {}
    first_row: dict[int, int] = {}
    for row in word_rows(words, columns):
        for cell in row:
            start = first_row.setdefault(cell.table, cell.row)
            grids.setdefault(cell.table, []).append(
                GridCell(cell.row - start, cell.column, cell.rowspan, cell.colspan, cell.text)
            )
    return [grids[k] for k in sorted(grids)]


# -- lines and segments ------------------------------------------------------------------


class _Printed(Protocol):
    @property
    def top(self) -> float: ...
    @property
    def x0(self) -> float: ...


_P = TypeVar("_P", bound=_Printed)


def printed_lines(items: Iterable[_P], height: Callable[[_P], float]) -> list[list[_P]]:
    """``items`` (characters or words) grouped into printed lines, top to bottom: an item
    joins the line whose first item's top is within half the smaller of their heights."""
    groups: list[list[_P]] = []
    for item in sorted(items, key=lambda i: (i.top, i.x0)):
        if groups:
            first = groups[-1][0]
            if item.top - first.top < 0.5 * min(height(first), height(item)):
                groups[-1].append(item)
                continue
        groups.append([item])
    return groups


def _lines(words: Sequence[PlacedWord]) -> list[_Line]:
    groups = printed_lines((w for w in words if w.text.strip()), lambda w: w.height)
    lines = []
    for group in groups:
        segments = _segments(sorted(group, key=lambda w: w.x0))
        lines.append(_Line(segments, min(s.top for s in segments), max(s.bottom for s in segments)))
    return lines


def _figure_edge(left: str, right: str) -> bool:
    """A word gap next to a digit: figures are never spaced inside, and a label never
    ends in a spaced-off number, so such a gap separates a label from its figure."""
    return (
        left[-1:].isdigit()
        or right[:1].isdigit()
        or (right[:1] in "-+/" and left[-1:] not in "-+/")
    )


def _segments(words: list[PlacedWord]) -> list[_Segment]:
    runs: list[list[PlacedWord]] = [[words[0]]]
    for previous, word in pairwise(words):
        gap = word.x0 - previous.x1
        size = min(previous.height, word.height)
        if (
            gap > CELL_GAP * size
            or (gap > WORD_GAP * size and _figure_edge(previous.text, word.text))
            # a figure right after a label that runs up to it: a digit never follows a
            # Chinese character inside a label ("第3项" is set without a gap)
            or (
                gap > 0.1 * size
                and ord(previous.text[-1:] or " ") > 0x2E7F
                and word.text[:1].isdigit()
            )
        ):
            runs.append([word])
        else:
            runs[-1].append(word)
    return [piece for run in runs for piece in _figure_off(run)]


def _figure_off(run: list[PlacedWord]) -> list[_Segment]:
    """A run whose text ends in a figure touching the label before it, as two segments
    (cut at the character where the digits start)."""
    segment = _segment(run)
    match = _TRAILING_FIGURE.match(segment.text) if not segment.is_figure else None
    if match is None:
        return [segment]
    digits = len(match["figure"])
    kept: list[PlacedWord] = []
    count = 0
    for word in reversed(run):
        if count >= digits:
            kept.append(word)
        count += len(word.text)
    kept.reverse()
    if (
        not kept
        or len(kept) == len(run)
        or "".join(w.text for w in run[len(kept) :]) != match["figure"]
    ):
        return [segment]  # the digits do not stand in words of their own
    return [_segment(kept), _segment(run[len(kept) :])]


def _segment(run: list[PlacedWord]) -> _Segment:
    parts = [run[0].text]
    for previous, word in pairwise(run):
        if word.x0 - previous.x1 > WORD_GAP * min(previous.height, word.height):
            parts.append(" ")
        parts.append(word.text)
    text = "".join(parts).strip()
    value = read_value(text)
    return _Segment(
        text,
        run[0].x0,
        max(w.x1 for w in run),
        min(w.top for w in run),
        max(w.bottom for w in run),
        value is not None and value.semantic != "blank",
        tuple(run),
    )


def _split_at(segment: _Segment, edges: list[float]) -> list[_Segment]:
    """A segment cut at the column edges that fall in a gap between its words (header
    cells set closer than :data:`CELL_GAP` to each other read as one segment)."""
    words = segment.words
    if len(words) < 2 or segment.is_figure:
        return [segment]
    runs: list[list[PlacedWord]] = [[words[0]]]
    for previous, word in pairwise(words):
        gap = word.x0 - previous.x1
        if gap > 0.05 * word.height and any(previous.x1 - 0.5 <= x <= word.x0 + 0.5 for x in edges):
            runs.append([word])
        else:
            runs[-1].append(word)
    return [segment] if len(runs) == 1 else [_segment(run) for run in runs]


# -- tables ------------------------------------------------------------------------------


def _overlaps(a: _Segment, b: _Segment) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1


def _same_layout(new: _Line, old: _Line) -> bool:
    """Whether figure line ``new`` fits the columns of figure line ``old``: none of its
    figures sits over text of ``old`` or over two of its cells."""
    for figure in new.figures:
        under = [s for s in old.segments if _overlaps(figure, s)]
        if len(under) > 1 or (under and not under[0].is_figure):
            return False
    return True


def _tables(lines: list[_Line]) -> list[list[_Line]]:
    """Lines grouped into tables: each table has at least one figure line."""
    tables: list[list[_Line]] = []
    current: list[_Line] = []
    last_figure: _Line | None = None
    figures_from = float("inf")  # where the current table's figures start
    for line in lines:
        gap = line.top - current[-1].bottom if current else 0.0
        new_table = bool(current) and gap > TABLE_GAP * line.height
        if line.figures and last_figure is not None and not new_table:
            new_table = not (_same_layout(line, last_figure) and _same_layout(last_figure, line))
        elif not line.figures and last_figure is not None:
            # Column headings over the figures after figure lines: the next table (or
            # the next part of one whose columns differ, as the items of Table 2 do).
            new_table = any(s.x0 >= figures_from - _ALIGN for s in line.segments)
        if new_table:
            # Text lines after the old table's last figure line open the new table
            # (its title and header), but lines right under that figure line are the
            # wrapped rest of its label.
            keep = _trailing_wrap(current)
            tables.append(current[:keep])
            current = current[keep:] if line.figures or last_figure is not None else []
            last_figure = None
            figures_from = float("inf")
        current.append(line)
        if line.figures:
            last_figure = line
            figures_from = min(figures_from, min(s.x0 for s in line.figures))
    tables.append(current)
    kept = [_trim(t) for t in tables if any(line.figures for line in t)]
    if len(tables) > 1 and not any(line.figures for line in tables[-1]):
        # the title and headings of a table whose figures start on the next page
        tail = tables[-1]
        end = next((i for i, line in enumerate(tail) if _is_prose(line, tail)), len(tail))
        if end:
            kept.append(tail[:end])
    return kept


def _pitch(a: _Line, b: _Line) -> float:
    return b.top - a.top


def _trailing_wrap(lines: list[_Line]) -> int:
    """How many of ``lines`` belong to the table before a new one: up to its last figure
    line, and the text lines right under it set as tightly as its own wrapped lines."""
    last = max((i for i, line in enumerate(lines) if line.figures), default=-1)
    end = last + 1
    while end < len(lines) and not lines[end].figures:
        if _pitch(lines[end - 1], lines[end]) > _TIGHT * lines[end].height or _starts_label(
            lines[end]
        ):
            break
        end += 1
    return end


def _starts_label(line: _Line, before: float = float("inf")) -> bool:
    """Whether a numbered row label starts on ``line`` (left of x ``before``: labels sit
    left of their figures, a "总计" over the figures is a column heading), also right
    after a group label set without a gap ("度办理结（二）部分公开")."""
    return any(
        (LABEL_START.match(s.text) or _INNER_LABEL.search(s.text)) and s.x1 <= before
        for s in line.segments
    )


def _label_x(line: _Line, before: float) -> float | None:
    """Where the rightmost numbered label on ``line`` starts (a row label right of its
    group label), if one does."""
    return max(
        (
            s.x0
            for s in line.segments
            if (LABEL_START.match(s.text) or _INNER_LABEL.search(s.text)) and s.x1 <= before
        ),
        default=None,
    )


def _figures_from(line: _Line) -> float:
    return min((s.x0 for s in line.figures), default=float("inf"))


def _trim(lines: list[_Line]) -> list[_Line]:
    """A table's lines without the running text around it: header lines (titles, column
    headings) are kept up to the nearest line of running text above the first figure
    line, and lines after the last one (headings of what follows) up to the next."""
    figure_at = [i for i, line in enumerate(lines) if line.figures]
    start = figure_at[0]
    while start > 0 and not _is_prose(lines[start - 1], lines):
        start -= 1
    end = figure_at[-1] + 1
    while end < len(lines) and not _is_prose(lines[end], lines):
        end += 1
    return lines[start:end]


def _is_prose(line: _Line, table: list[_Line]) -> bool:
    """A line of running text: one segment across most of the table's width, or one that
    ends a sentence."""
    if len(line.segments) != 1:
        return False
    text = line.segments[0].text
    left = min(s.x0 for other in table for s in other.segments)
    right = max(s.x1 for other in table for s in other.segments)
    return text.endswith(("。", "；")) or line.segments[0].x1 - line.segments[0].x0 > 0.75 * (
        right - left
    )


# -- columns -----------------------------------------------------------------------------


def _column_lines(lines: list[_Line]) -> tuple[list[float], int]:
    """The x of each column's left edge, left to right, and the first figure column.

    Figure columns come from the figures alone: each stretch of the x-axis their boxes
    cover (widened a little, as centred figures of different widths wander) is one
    column. Text columns, left of the figures, come from the text of the lines of several
    cells: where it leaves gaps (a spanning heading or two aside), and where many of its
    segments start (left-aligned columns whose gap a label spanning both bridges)."""
    stretches = _figure_columns(lines)
    figure_edges = sorted([left for left, _ in stretches] + _blank_columns(lines, stretches))
    figures_from = min(figure_edges, default=float("inf"))
    shaped = [line for line in lines if len(line.segments) > 1]
    texts = [s for line in shaped for s in line.segments if not s.is_figure]
    edges = _gap_edges(texts, len(shaped) // 8)
    starts = sorted(s.x0 for s in texts)
    need = max(3, len(shaped) // 6)
    i = 0
    while i < len(starts):
        j = i
        while j + 1 < len(starts) and starts[j + 1] - starts[i] <= _ALIGN:
            j += 1
        if j - i + 1 >= need:
            edges.append(starts[i])
        i = j + 1
    merged: list[float] = []
    for x in sorted(x for x in edges if x < figures_from - _ALIGN):
        if not merged or x - merged[-1] > _ALIGN:
            merged.append(x)
    return merged + figure_edges, len(merged)


def _known(lines: list[_Line], columns: list[float]) -> tuple[list[float], int]:
    """Known column lines as column edges (the last line closes the table), and the
    column of the leftmost figure."""
    edges = columns[:-1] if len(columns) > 1 else columns
    left = min((s.x0 for line in lines for s in line.figures), default=float("inf"))
    first = max((k for k, x in enumerate(edges) if x <= left + _ALIGN), default=0)
    return edges, first


def _figure_columns(lines: list[_Line]) -> list[tuple[float, float]]:
    """The stretches of the x-axis the figure columns cover: figures sorted by their left
    edge, each joining the column before while it overlaps that column's stretch (widened
    by half a glyph, as centred figures of different widths wander) and that column has
    no figure of its line yet; two figures of one line are never one column."""
    figures = sorted(
        ((s, k) for k, line in enumerate(lines) for s in line.figures), key=lambda p: p[0].x0
    )
    stretches: list[tuple[float, float]] = []
    members: set[int] = set()
    for segment, line in figures:
        pad = 0.5 * (segment.bottom - segment.top)
        if stretches and segment.x0 - pad <= stretches[-1][1] and line not in members:
            left, right = stretches[-1]
            stretches[-1] = (left, max(right, segment.x1 + pad))
            members.add(line)
            continue
        stretches.append((segment.x0, segment.x1 + pad))
        members = {line}
    return stretches


def _words_apart(segment: _Segment) -> list[_Segment]:
    """A segment cut at every word gap (headings of neighbouring columns set close)."""
    runs: list[list[PlacedWord]] = [[segment.words[0]]]
    for previous, word in pairwise(segment.words):
        if word.x0 - previous.x1 > WORD_GAP * min(previous.height, word.height):
            runs.append([word])
        else:
            runs[-1].append(word)
    return [segment] if len(runs) == 1 else [_segment(run) for run in runs]


def _blank_columns(lines: list[_Line], stretches: list[tuple[float, float]]) -> list[float]:
    """Left edges of columns printed blank on every figure line: column headings over the
    figures (above the first figure line) that stand clear of every figure column."""
    if not stretches:
        return []
    first = next(i for i, line in enumerate(lines) if line.figures)
    headings = sorted(
        (
            part
            for line in lines[:first]
            for s in line.segments
            for part in _words_apart(s)
            if part.x0 >= stretches[0][0] - _ALIGN
        ),
        key=lambda s: s.x0,
    )
    headings = headings[:_MAX_HEADINGS]

    def spans_two(part: _Segment) -> bool:
        # a heading over two headings that stand apart: a group heading, not a column's
        under = [o for o in headings if o is not part and _overlaps(o, part)]
        return any(not _overlaps(a, b) for a, b in combinations(under, 2))

    def over_figures(part: _Segment) -> bool:
        return any(part.x0 < right and left < part.x1 for left, right in stretches)

    def stacked(part: _Segment) -> bool:
        # a heading set one or two characters a line in its narrow column ("其" / "他")
        size = part.bottom - part.top
        return any(
            o is not part and _overlaps(o, part) and 0 < abs(o.top - part.top) <= 3 * size
            for o in headings
        )

    clear: list[tuple[float, float, list[_Segment]]] = []
    for s in headings:
        if over_figures(s) or spans_two(s):
            continue
        if clear and s.x0 < clear[-1][1]:
            left, right, parts = clear[-1]
            clear[-1] = (left, max(right, s.x1), [*parts, s])
        else:
            clear.append((s.x0, s.x1, [s]))
    # a lone character by itself may be the rest of the heading beside it ("自 然" / "人")
    return [
        left
        for left, _, parts in clear
        if len(parts) > 1 or len(parts[0].text.replace(" ", "")) > 1 or stacked(parts[0])
    ]


def _gap_edges(segments: list[_Segment], allowed: int) -> list[float]:
    """Where the x-axis coverage by ``segments`` rises above ``allowed`` (a stretch
    covered by no more than that, a spanning header or two, is a gap between columns)."""
    events = sorted([(s.x0, 1) for s in segments] + [(s.x1, -1) for s in segments])
    edges: list[float] = []
    depth = 0
    in_gap = True
    for x, step in events:
        depth += step
        if in_gap and depth > allowed:
            edges.append(x)
            in_gap = False
        elif not in_gap and depth <= allowed:
            in_gap = True
    return edges


def _span(segment: _Segment, edges: list[float]) -> tuple[int, int]:
    """The first column and the number of columns a segment covers."""
    first = 0
    for k, x in enumerate(edges):
        if x <= segment.x0 + _ALIGN:
            first = k
    last = first
    for k in range(first + 1, len(edges)):
        if edges[k] < segment.x1 - _ALIGN:
            last = k
    return first, last - first + 1


# -- rows and cells ----------------------------------------------------------------------


def _row_of_lines(lines: list[_Line], blank_rows: set[int]) -> list[int]:
    """For each line, the row it belongs to; rows printed with every figure cell blank
    are added to ``blank_rows``."""
    figure_at = [i for i, line in enumerate(lines) if line.figures]
    if not figure_at:  # headings only: a row each
        return list(range(len(lines)))
    row = [-1] * len(lines)
    next_row = 0
    first = figure_at[0]
    label_from = _label_above(lines, first)
    for i in range(label_from):  # header lines: a row each
        row[i] = next_row
        next_row += 1
    for i in range(label_from, first):  # the first row's label starts above its figures
        row[i] = next_row
    for k, i in enumerate(figure_at):
        row[i] = next_row
        following = figure_at[k + 1] if k + 1 < len(figure_at) else len(lines)
        between = list(range(i + 1, following))
        if not between:
            next_row += 1
            continue
        if following == len(lines):
            # after the last figure line: its label's wrapped lines, then headings of
            # what follows, a row each
            wrapped = _trailing_wrap(lines) - i - 1
            for j in between[:wrapped]:
                row[j] = next_row
            for j in between[wrapped:]:
                next_row += 1
                row[j] = next_row
            next_row += 1
            continue
        groups = _split(lines, i, between, following)
        numbered = groups is not None
        if groups is None:  # no telling where one row ends: rows of their own
            groups = [[], *([j] for j in between), []]
        for j in groups[0]:
            row[j] = next_row
        for group in groups[1:-1]:
            next_row += 1
            if numbered:
                # a numbered label of its own between two rows with theirs: a row
                # printed without figures, its cells blank
                blank_rows.add(next_row)
            for j in group:
                row[j] = next_row
        next_row += 1
        for j in groups[-1]:
            row[j] = next_row
        # the next figure line joins the last group's row: the next round gives it
        # ``next_row``
    return row


def _label_above(lines: list[_Line], first: int) -> int:
    """Where the first figure line's row starts: on that line when a label starts there,
    else on the nearest line above that starts a label and is tightly set above it (a
    label wrapped over several lines, its figures centred beside it)."""
    before = _figures_from(lines[first])
    if _starts_label(lines[first], before):
        return first
    k = first
    while k > 0 and _pitch(lines[k - 1], lines[k]) <= _TIGHT * lines[k].height:
        k -= 1
        if _starts_label(lines[k], before):
            return k
    return first


def _split(
    lines: list[_Line], above: int, between: list[int], below: int
) -> list[list[int]] | None:
    """The ``between`` lines in groups: the first joins the row above (the rest of its
    label), the last the row below, and any in the middle are rows of their own (labels
    of rows printed without figures); ``None`` when there is no telling."""
    before = min(_figures_from(lines[above]), _figures_from(lines[below]))
    starts = [k for k, j in enumerate(between) if _starts_label(lines[j], before)]
    if starts:
        # each numbered label starts a row; the last one is the row below's own label
        # unless that row's label starts on its figure line
        cuts = [0, *starts, len(between)]
        groups = [between[a:b] for a, b in pairwise(cuts)]
        # a label starting on the figure line in the same column or further right (not
        # a group label further left, "（五）" beside "版物")
        own = _label_x(lines[below], before)
        if own is not None and own >= (_label_x(lines[between[starts[-1]]], before) or 0) - _ALIGN:
            groups.append([])
        return groups
    if _starts_label(lines[below], before):
        return [between, []]  # the row below starts on its figure line
    chain = [above, *between, below]
    gaps = [_pitch(lines[a], lines[b]) for a, b in pairwise(chain)]
    widest = max(gaps)
    others = sorted(gaps)[:-1]
    if others and widest < 1.1 * others[-1]:
        return None
    cut = gaps.index(widest)
    return [between[:cut], between[cut:]]


def _table_rows(
    lines: list[_Line], table: int, known: list[float] | None = None
) -> tuple[list[list[PlacedCell]], list[float]]:
    # Only lines of several cells say where columns are: a line of one segment is a
    # heading or title spanning the table, or the wrapped rest of a label.
    edges, figures_from = _column_lines(lines) if known is None else _known(lines, known)
    lines = [
        _Line([p for s in line.segments for p in _split_at(s, edges)], line.top, line.bottom)
        for line in lines
    ]
    blank_rows: set[int] = set()
    rows_of = _row_of_lines(lines, blank_rows)
    n_rows = max(rows_of) + 1
    figure_rows = {rows_of[i] for i, line in enumerate(lines) if line.figures}
    # Per row: connected column spans of its segments.
    pieces: dict[int, list[tuple[int, int, list[_Segment]]]] = {}
    for line, r in zip(lines, rows_of, strict=True):
        for segment in line.segments:
            first, span = _span(segment, edges)
            pieces.setdefault(r, []).append((first, first + span, [segment]))
    cells: dict[int, list[tuple[int, int, list[_Segment]]]] = {}
    for r, found in pieces.items():
        found.sort(key=lambda p: p[0])
        merged: list[tuple[int, int, list[_Segment]]] = []
        for start, end, own in found:
            if merged and start < merged[-1][1]:
                s0, e0, segs = merged[-1]
                merged[-1] = (s0, max(e0, end), segs + own)
            else:
                merged.append((start, end, own))
        cells[r] = merged
    spans = _group_spans(cells, figure_rows)
    out: list[list[PlacedCell]] = [[] for _ in range(n_rows)]
    covered: set[tuple[int, int]] = set()
    for r in range(n_rows):
        for start, end, own in cells.get(r, []):
            if (r, start) in covered:
                continue
            rowspan = spans.get((r, start), 1)
            extra = [
                seg
                for rr in range(r + 1, r + rowspan)
                for s, _, segs in cells.get(rr, [])
                if s == start
                for seg in segs
            ]
            for rr in range(r, r + rowspan):
                for c in range(start, end):
                    covered.add((rr, c))
            out[r].append(_cell(own + extra, table, r, start, end - start, rowspan))
        if r in figure_rows or r in blank_rows:
            out[r] = _filled(out[r], covered, edges, figures_from, r)
        out[r].sort(key=lambda cell: cell.column)
    return out, edges


def _filled(
    row: list[PlacedCell], covered: set[tuple[int, int]], edges: list[float], first: int, r: int
) -> list[PlacedCell]:
    """A figure row with its empty positions filled: an empty figure column is a blank
    cell (printed blank); an empty text column (left of the figures) widens the row's
    text cell beside it, so a label never gains a blank "figure" before its figures."""
    cells = {cell.column: cell for cell in row}

    def is_text(cell: PlacedCell | None) -> bool:
        return cell is not None and cell.rowspan == 1 and read_value(cell.text) is None

    for c in range(first):
        if (r, c) in covered:
            continue
        left = next((x for x in cells.values() if x.column + x.colspan == c), None)
        if is_text(left):
            assert left is not None
            cells[left.column] = replace(left, colspan=left.colspan + 1)
            covered.add((r, c))
    for c in reversed(range(first)):
        right = cells.get(c + 1)
        if (r, c) not in covered and is_text(right):
            assert right is not None
            del cells[c + 1]
            cells[c] = replace(right, column=c, colspan=right.colspan + 1)
            covered.add((r, c))
    for c in range(first, len(edges)):
        if (r, c) not in covered:
            cells[c] = PlacedCell("", edges[c], edges[c], 0, 0, row[0].table if row else 0, r, c)
            covered.add((r, c))
    return list(cells.values())


def _group_spans(
    cells: dict[int, list[tuple[int, int, list[_Segment]]]], figure_rows: set[int]
) -> dict[tuple[int, int], int]:
    """Text cells continued in the next rows of the same column, as a group label is
    ("（三" / "）不" / "予公" / "开" beside its rows' labels): how many rows each spans."""
    spans: dict[tuple[int, int], int] = {}
    rows = sorted(cells)
    by_start = {r: {s: (e, segs) for s, e, segs in cells[r]} for r in rows}

    def group_text(r: int, start: int) -> bool:
        found = by_start.get(r, {}).get(start)
        if found is None or any(seg.is_figure for seg in found[1]):
            return False
        end = found[0]
        # a text cell right beside it: this one is a group label, not the row label
        return (
            any(
                s == end and not any(seg.is_figure for seg in segs)
                for s, (_, segs) in by_start.get(r, {}).items()
            )
            or r not in figure_rows
        )

    for r in rows:
        for start, _end, _segs in cells[r]:
            if not group_text(r, start) or r not in figure_rows:
                continue
            length = 1
            while (
                r + length in by_start
                and start in by_start[r + length]
                and group_text(r + length, start)
                and not LABEL_START.match(by_start[r + length][start][1][0].text)
            ):
                length += 1
            if length > 1:
                spans[(r, start)] = length
    return spans


def _cell(
    segments: list[_Segment], table: int, row: int, column: int, colspan: int, rowspan: int
) -> PlacedCell:
    ordered = sorted(segments, key=lambda s: (s.top, s.x0))
    lines: list[list[_Segment]] = []
    for segment in ordered:
        if lines and segment.top - lines[-1][0].top < 0.5 * (segment.bottom - segment.top):
            lines[-1].append(segment)
        else:
            lines.append([segment])
    text = "\n".join(" ".join(s.text for s in sorted(line, key=lambda s: s.x0)) for line in lines)
    return PlacedCell(
        text,
        min(s.x0 for s in segments),
        max(s.x1 for s in segments),
        min(s.top for s in segments),
        max(s.bottom for s in segments),
        table,
        row,
        column,
        rowspan,
        colspan,
    )
