"""Cells run together with no separator: "行政许可2293", "一、本年新收…640020470".

Some renderings (a crawler's innerText of a whole page, for instance) glue every cell of a
table into one line, and blank cells vanish from them. Labels and figures can still be told
apart, and a row's digits can be split back into its cells only where exactly one split is
possible:

* a row with an identity (总计 = the sum of the others): the one split that satisfies it,
  e.g. "640020470" -> 64|0|0|2|0|4|70; with two or more, the caller may try the column
  identities (see ``tables``), else nothing;
* a row without one: as many digits as cells and none but the last non-zero ("000");
  "123" might be 12|3 beside a vanished blank cell, so it is left out.

The search is depth-first with a step budget: time and memory stay bounded whatever the
length of a digit run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

_RUN_TOGETHER_LINE = 300  # a line this long with no pipe is a glued table, not a label
# A figure: digits with an optional decimal part; "12 3" keeps its space as a cell edge.
# A sign belongs to the figure: "2648 -18 538" are three cells (a 2019 本年增/减).
_FIGURE = re.compile(r"[+-]?\d+(?:\.\d+)?(?: [+-]?\d+(?:\.\d+)?)*")
MAX_STEPS = 20_000  # search bound; real rows need a few hundred steps at most
# Where a label starts inside glued text: headings, numbered items, and Table 2 row labels
# glued to the column headings before them ("…现行有效件数规章").
_LABEL_START = re.compile(
    r"\s+|(?=第二十条第|信息内容|[一二三四五六七八九十]、)|(?<!第)(?=[（(][一二三四五六七八九十][）)])"
)
_ACTIVE_LABEL_AT_END = re.compile(
    r"(行政规范性文件|规范性文件|规章|行政许可|其他对外管理服务事项|行政处罚|行政强制"
    r"|行政事业性收费|政府集中采购)([（(][^（）()]*[）)])?$"  # with its annotation
)


def unglue(line: str) -> list[str]:
    """Cut a glued line into label and figure cells."""
    return [cell for cell, _ in unglue_marked(line)]


def unglue_marked(line: str) -> list[tuple[str, bool]]:
    """Cut a glued line into cells, each marked true when it is a figure printed straight
    after text with no separator: only such digits may hold several cells.

    A list number glued to the figures before it ("00000002.其他法律…") belongs to the
    label that follows: the digit directly before "." or "、" and a non-digit starts it.
    A number inside a sentence (see ``in_prose``) is not a figure: it stays in its text.
    """
    cells: list[tuple[str, bool]] = []
    position = 0
    for match in _FIGURE.finditer(line):
        start, end = match.span()
        figure = match.group()
        if in_prose(line, start, end):
            continue
        after = line[end : end + 2]
        if len(after) == 2 and after[0] in ".、" and not after[1].isdigit():
            figure, end = figure[:-1], end - 1  # "…0002." -> figures "…000", label "2.…"
        cells.extend((label, False) for label in _labels(line[position:start]))
        if figure.strip():
            # Straight after text, or with a leading zero ("规章 000"): no figure is printed so.
            glued = start > 0 and not line[start - 1].isspace()
            cells.extend(
                (piece, glued or (len(piece) > 1 and piece[0] == "0"))
                for piece in figure.split(" ")
            )
        position = end if figure else start
    cells.extend((label, False) for label in _labels(line[position:]))
    return cells


# What makes a number part of a sentence rather than a table cell: what follows it (a
# year, a date, a percentage, a measure word, a document number's 〕 or 号, punctuation) or
# what comes before it (〔2015〕, 第3, 电话：, 邮编：, an e-mail address or a URL).
_PROSE_AFTER = re.compile(
    r"[年月日号时%％‰〕】\]）)岁余多倍届期周天名人家篇份批场部处所座台辆类季起例封册张套种栏轮幅组页亩"
    r"，。；：！？,;:!?]"
    r"|[A-Za-z@_/]"
    # A unit printed in the cell is a table figure when the next label follows.
    r"|(?:万元|亿元|元|万|亿|件|条|个|项|次|宗|户)(?=[\u3400-\u9fff，。；、：,;:])"
)
_PROSE_BEFORE = frozenset("〔【[（(：:第约达近超逾@._/#-") | frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


def in_prose(line: str, start: int, end: int) -> bool:
    """Whether the number ``line[start:end]`` sits inside a sentence of running text."""
    figure_end = end
    if start > 0 and line[start - 1] in _PROSE_BEFORE and line[start] not in "+-":
        return True
    if start > 1 and line[start] in "+-" and line[start - 1].isdigit():
        return True  # a range or a telephone number: 1-12, 0591-23165327
    after = _PROSE_AFTER.match(line, figure_end)
    if after is None:
        return False
    # "…5.90元三、收到…": tables print money units in the cell, and a heading follows.
    unit_ends_cell = after.group() in ("元", "万元", "亿元") and _LABEL_START.match(
        line, after.end()
    )
    return not unit_ends_cell


# Marks for "nothing" glued to the label before them ("行政许可—", "规章///").
_MARKS_AT_END = re.compile(r"[-_/\\—–―‐－─━～~／＿]+$")


def _labels(text: str) -> list[str]:
    labels = []
    for piece in _LABEL_START.split(text):
        piece = piece.strip()
        if not piece:
            continue
        end = _ACTIVE_LABEL_AT_END.search(piece)
        parts = [piece[: end.start()], end.group()] if end and end.start() > 0 else [piece]
        for part in parts:
            marks = _MARKS_AT_END.search(part)
            if marks is not None and marks.start() > 0:
                labels += [part[: marks.start()], marks.group()]
            else:
                labels.append(part)
    return labels


def is_glued(line: str) -> bool:
    """A flattened line: a table's cells (or a whole page) on one line, with no separator
    or one space between cells: long, or a label-figure-label pattern three times over."""
    if "|" in line:
        return False
    if len(line) >= _RUN_TOGETHER_LINE:
        return True
    # Three figures followed by text need three digits apart and a CJK character: most
    # lines fail these two C-speed searches, and skip the count's Python loop.
    if _THREE_DIGITS_APART.search(line) is None or _CJK.search(line) is None:
        return False
    return _label_after_figure(line, enough=3) >= 3


_CJK = re.compile(r"[\u3400-\u9fff]")
# Two figures found one after the other have a non-digit between their digits (a sign
# or a separator; else the first would have gone on): three figures hold this pattern.
_THREE_DIGITS_APART = re.compile(r"\d\D+\d+\D+\d")


def _label_after_figure(line: str, enough: int | None = None) -> int:
    """How often a figure (not one inside a sentence) is followed by more text; counted
    up to ``enough`` at most when given."""
    count = 0
    for match in _FIGURE.finditer(line):
        start, end = match.span()
        after = line[end : end + 2]
        if in_prose(line, start, end) or (after[:1] in (".", "、") and after[1:2] != ""):
            continue
        if _CJK.search(line, end) is not None:
            count += 1
            if count == enough:
                break
    return count


@dataclass(frozen=True, slots=True)
class Candidates:
    """The splits found for one run of digits; ``complete`` is false when the search hit
    its step budget or found more than its limit, so ``splits`` may not be all of them."""

    splits: tuple[tuple[str, ...], ...]
    complete: bool

    @property
    def only(self) -> list[str] | None:
        return list(self.splits[0]) if self.complete and len(self.splits) == 1 else None


def candidate_splits(
    groups: Sequence[str], width: int, block: int | None, limit: int = 2
) -> Candidates:
    """Every way (up to ``limit``) to read ``groups`` as ``width`` cells.

    Groups are never merged: a space printed between two figures is a cell edge. A cell
    has no leading zero. With ``block`` the cells form blocks of that many, each ending
    with the sum of the others (a Table 3 row, a Table 4 case type): the sum is not
    searched but read off the digits, which keeps the search small. Without ``block`` only
    one digit per cell is a reading, and only when no digit but the last is non-zero. The
    search stops after ``MAX_STEPS`` steps: time and memory stay bounded whatever the
    length of the digits.
    """
    if any(not g.isdigit() for g in groups) or not 0 < len(groups) <= width:
        return Candidates((), True)
    digits = "".join(groups)
    if block is None:
        # Blank cells vanish when cells are glued, so one digit per cell is the reading
        # only if the digits cannot be fewer figures: no digit but the last is non-zero.
        one_each = len(digits) == width and not digits[:-1].strip("0")
        return Candidates((tuple(digits),) if one_each else (), True)
    if width % block or len(digits) < width:
        return Candidates((), True)
    edges = list(accumulate(len(g) for g in groups))
    search = _Search(digits, edges, width, block, limit)
    search.run()
    return Candidates(tuple(search.found), search.complete)


def split_cells(groups: Sequence[str], width: int, block: int | None) -> list[str] | None:
    """The one way to read ``groups`` as ``width`` cells, or ``None``."""
    return candidate_splits(groups, width, block).only


class _Search:
    """Depth-first search over cell boundaries with a step budget."""

    def __init__(self, digits: str, edges: list[int], width: int, block: int, limit: int):
        self.digits = digits
        # next_edge[i]: the first group edge after position i (a cell may not cross it)
        self.next_edge = [0] * (len(digits) + 1)
        edge_iter = iter(edges)
        edge = next(edge_iter)
        for i in range(len(digits) + 1):
            while edge <= i and i < len(digits):
                edge = next(edge_iter)
            self.next_edge[i] = edge
        self.width = width
        self.block = block
        self.limit = limit
        self.steps = 0
        self.found: list[tuple[str, ...]] = []
        self.complete = True
        self.cells: list[str] = []

    def run(self) -> None:
        self._cell(0, 0)

    def _cell(self, pos: int, block_sum: int) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.complete = False
            return
        k = len(self.cells)
        digits = self.digits
        if k == self.width:
            if pos == len(digits):
                if len(self.found) == self.limit:
                    self.complete = False  # more readings than asked for
                    return
                self.found.append(tuple(self.cells))
            return
        cells_left = self.width - k
        if pos >= len(digits) or len(digits) - pos < cells_left:
            return
        if k % self.block == self.block - 1:
            total = str(block_sum)
            end = pos + len(total)
            if end <= self.next_edge[pos] and digits.startswith(total, pos):
                self._push(total, end, 0)
            return
        longest = 1 if digits[pos] == "0" else self.next_edge[pos] - pos
        longest = min(longest, len(digits) - pos - (cells_left - 1))
        last_block = k >= self.width - self.block
        for length in range(1, longest + 1):
            if not self.complete:
                return
            piece = digits[pos : pos + length]
            running = block_sum + int(piece)
            # The block's total (at least as long as the sum so far) and every cell after
            # it still need their digits.
            in_block_left = self.block - 1 - (k % self.block) - 1  # addends after this one
            after_block = self.width - (k - k % self.block + self.block)
            needed = in_block_left + len(str(running)) + after_block
            if pos + length + needed > len(digits):
                break
            if last_block:
                # The last total is what remains of the digits: the addends so far cannot
                # exceed the largest number those remaining digits can still hold.
                room = len(digits) - (pos + length) - (cells_left - 2)
                if room < 1 or running > int(digits[len(digits) - room :]):
                    break
            self._push(piece, pos + length, running)

    def _push(self, piece: str, end: int, block_sum: int) -> None:
        self.cells.append(piece)
        self._cell(end, block_sum)
        self.cells.pop()


def free_splits(groups: Sequence[str], width: int, limit: int = 64) -> Candidates:
    """Every way (up to ``limit``) to read ``groups`` as ``width`` figures without leading
    zeros, for rows with no identity of their own (the caller weighs them); bounded like
    ``candidate_splits``."""
    if any(not g.isdigit() for g in groups) or not 0 < len(groups) <= width:
        return Candidates((), True)
    digits = "".join(groups)
    edges = set(accumulate(len(g) for g in groups))
    found: list[tuple[str, ...]] = []
    steps = 0
    # Each stack entry: (position, cells so far); cuts are tried shortest first.
    stack: list[tuple[int, tuple[str, ...]]] = [(0, ())]
    while stack:
        steps += 1
        if steps > MAX_STEPS:
            return Candidates(tuple(found), False)
        pos, cells = stack.pop()
        if len(cells) == width:
            if pos == len(digits):
                if len(found) == limit:
                    return Candidates(tuple(found), False)
                found.append(cells)
            continue
        left = width - len(cells)
        if len(digits) - pos < left:
            continue
        longest = 1 if digits[pos] == "0" else len(digits) - pos - (left - 1)
        ends = []
        for end in range(pos + 1, pos + longest + 1):
            if left > 1 or end == len(digits):
                ends.append(end)
            if end in edges:
                break  # a printed space is a cell edge: no cell crosses it
        stack.extend((end, (*cells, digits[pos:end])) for end in reversed(ends))
    return Candidates(tuple(found), True)
