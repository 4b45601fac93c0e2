"""Cells of a plain-text rendering of a report, in reading order.

Real renderings come in three shapes, often mixed in one page:

* pipe rows, one table row per line: ``规章 | 0 | 0 | 0 |``;
* one cell per line ending in a pipe, a lone ``|`` being an empty cell: ``0 |`` / ``|``;
* one cell per line with lone ``|`` lines (or blank lines) *between* cells;
* markdown tables, whose rows start with a border ``|`` and whose rule lines are dropped;
* whole tables glued into one long line (see ``run_together``).

A single rule reads all three: a ``|`` ends the cell in progress (an empty one if none is in
progress), and a line break ends a cell only when the next line does not start with ``|``.
Blank lines are dropped, so a rendering that drops blank cells has no empty cells at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.extract.run_together import is_glued, unglue_marked

# (a rule holds "---": lines without it are not tried)
_MARKDOWN_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
# A label followed by figures separated by spaces, as PDF text extraction prints rows.
_TRAILING_NUMBERS = re.compile(
    r"^(?P<label>.*?[^\d\s.,+\-])\s+(?P<numbers>[+-]?\d[\d,]*(?:\.\d+)?(?:\s+[+-]?\d[\d,]*(?:\.\d+)?)*)$"
)


def split_label_and_numbers(line: str) -> list[str]:
    """``'行政处罚 3985758'`` -> ``['行政处罚', '3985758']``; other lines unchanged."""
    stripped = line.strip()
    # the pattern ends in a digit (\d: category Nd) or the comma of a figure ("3,985,")
    if not (stripped[-1:].isdecimal() or stripped.endswith(",")):
        return [line]
    match = _TRAILING_NUMBERS.match(stripped)
    if match is None:
        return [line]
    return [match["label"], *match["numbers"].split()]


@dataclass(slots=True)
class TextCells:
    cells: list[str] = field(default_factory=list)
    # Figure cells printed run together with the text before them (see ``unglue_marked``).
    glued: set[int] = field(default_factory=set)
    # Cells of flattened lines (a whole page or table on one line), where table rows and
    # running text can no longer be told apart by their layout.
    flat: set[int] = field(default_factory=set)


def text_cells(text: str) -> list[str]:
    return read_text_cells(text).cells


def read_text_cells(text: str) -> TextCells:
    lines = text.splitlines()
    # In a markdown table every row starts with a border pipe, not with an empty cell.
    markdown = any(_MARKDOWN_RULE.match(line) for line in lines if "---" in line)
    result = TextCells()
    cells = result.cells
    pending: str | None = None
    for line in lines:
        if not line.strip() or ("---" in line and _MARKDOWN_RULE.match(line)):
            continue
        if markdown and line.lstrip().startswith("|"):
            line = line.lstrip()[1:]
        if "|" not in line:
            if pending is not None:
                cells.append(pending)
                pending = None
            if is_glued(line):
                marked = unglue_marked(line)
                if not marked:
                    continue
                for cell, glued in marked[:-1]:
                    if glued:
                        result.glued.add(len(cells))
                    result.flat.add(len(cells))
                    cells.append(cell.strip())
                last, last_glued = marked[-1]
                if last_glued:
                    result.glued.add(len(cells))  # the index ``pending`` will get
                result.flat.add(len(cells))
                pending = last.strip()
                continue
            parts = split_label_and_numbers(line)
            cells.extend(part.strip() for part in parts[:-1])
            pending = parts[-1].strip()
            continue
        parts = line.split("|")
        first = parts[0].strip()
        if pending is not None:
            # A line break inside a cell whose closing pipe sits on the next line.
            cells.append(f"{pending}{first}" if first else pending)
        else:
            cells.append(first)
        cells.extend(part.strip() for part in parts[1:-1])
        last = parts[-1].strip()
        pending = last or None
    if pending is not None:
        cells.append(pending)
    return result
