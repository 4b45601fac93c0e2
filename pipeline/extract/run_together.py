"""Cells run together with no separator: "行政许可2293", "一、本年新收…640020470".

Some renderings (a crawler's innerText of a whole page, for instance) glue every cell of a
table into one line. Labels and figures can still be told apart, and a row's digits can be
split back into its cells only where exactly one split is possible:

* as many digits as the row has cells: one digit each ("0000000", "000");
* otherwise, the one split that satisfies the row's own identity (总计 = the sum of the
  others), e.g. "640020470" -> 64|0|0|2|0|4|70. With two or more such splits, nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

_RUN_TOGETHER_LINE = 300  # a line this long with no pipe is a glued table, not a label
# A figure: digits with an optional decimal part; "12 3" keeps its space as a cell edge.
_FIGURE = re.compile(r"\d+(?:\.\d+)?(?: \d+(?:\.\d+)?)*")
MAX_SPLITS = 50_000  # enumeration bound; real rows need a few hundred at most
# Where a label starts inside glued text: headings, numbered items, and Table 2 row labels
# glued to the column headings before them ("…现行有效件数规章").
_LABEL_START = re.compile(
    r"\s+|(?=第二十条第|信息内容|[一二三四五六七八九十]、)|(?<!第)(?=[（(][一二三四五六七八九十][）)])"
)
_ACTIVE_LABEL_AT_END = re.compile(
    r"(行政规范性文件|规范性文件|规章|行政许可|其他对外管理服务事项|行政处罚|行政强制"
    r"|行政事业性收费|政府集中采购)$"
)

Check = Callable[[list[int]], bool]


def unglue(line: str) -> list[str]:
    """Cut a glued line into label and figure cells.

    A list number glued to the figures before it ("00000002.其他法律…") belongs to the
    label that follows: the digit directly before "." or "、" and a non-digit starts it.
    """
    cells: list[str] = []
    position = 0
    for match in _FIGURE.finditer(line):
        start, end = match.span()
        figure = match.group()
        after = line[end : end + 2]
        if len(after) == 2 and after[0] in ".、" and not after[1].isdigit():
            figure, end = figure[:-1], end - 1  # "…0002." -> figures "…000", label "2.…"
        cells.extend(_labels(line[position:start]))
        if figure.strip():
            cells.extend(figure.split(" "))
        position = end if figure else start
    cells.extend(_labels(line[position:]))
    return cells


def _labels(text: str) -> list[str]:
    labels = []
    for piece in _LABEL_START.split(text):
        piece = piece.strip()
        if not piece:
            continue
        end = _ACTIVE_LABEL_AT_END.search(piece)
        if end is not None and end.start() > 0:
            labels += [piece[: end.start()], end.group()]
        else:
            labels.append(piece)
    return labels


def is_glued(line: str) -> bool:
    return len(line) >= _RUN_TOGETHER_LINE and "|" not in line


def _splits(digits: str, parts: int) -> Iterator[list[str]]:
    """Every way to cut ``digits`` into ``parts`` numbers without leading zeros."""
    if parts == 1:
        if digits and (digits == "0" or digits[0] != "0"):
            yield [digits]
        return
    if len(digits) < parts:
        return
    first_max = 1 if digits[0] == "0" else len(digits) - parts + 1
    for cut in range(1, first_max + 1):
        for rest in _splits(digits[cut:], parts - 1):
            yield [digits[:cut], *rest]


def split_cells(groups: Sequence[str], width: int, check: Check | None) -> list[str] | None:
    """The one way to read ``groups`` (figures, possibly run together) as ``width`` cells.

    Groups are never merged: a space printed between two figures is a cell edge.
    """
    if any(not g.isdigit() for g in groups) or len(groups) > width:
        return None
    if sum(map(len, groups)) == width:
        return [d for group in groups for d in group]
    if check is None:
        return None
    found: list[str] | None = None
    for candidate in _group_splits(tuple(groups), width):
        if check([int(c) for c in candidate]):
            if found is not None:
                return None  # two readings: ambiguous
            found = candidate
    return found


def _group_splits(groups: tuple[str, ...], width: int) -> Iterator[list[str]]:
    count = 0
    for sizes in _part_counts(tuple(len(g) for g in groups), width):
        pieces = [list(_splits(g, n)) for g, n in zip(groups, sizes, strict=True)]
        for combination in _product(pieces):
            count += 1
            if count > MAX_SPLITS:
                return
            yield combination


@lru_cache(maxsize=1024)
def _part_counts(lengths: tuple[int, ...], width: int) -> list[tuple[int, ...]]:
    if not lengths:
        return [()] if width == 0 else []
    result = []
    for n in range(1, min(lengths[0], width) + 1):
        result += [(n, *rest) for rest in _part_counts(lengths[1:], width - n)]
    return result


def _product(pieces: list[list[list[str]]]) -> Iterator[list[str]]:
    if not pieces:
        yield []
        return
    for head in pieces[0]:
        for tail in _product(pieces[1:]):
            yield head + tail


def row_total_holds(numbers: list[int]) -> bool:
    """总计 (the last cell) = the sum of the cells before it."""
    return numbers[-1] == sum(numbers[:-1])


def review_groups_hold(numbers: list[int]) -> bool:
    """Each group of five: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结."""
    return all(row_total_holds(numbers[i : i + 5]) for i in range(0, len(numbers), 5))
