"""The statistics table of reports before 2019 (政府信息公开情况统计表), in long form.

Reports on 2008-2018 end with one table of indicators: 指标名称 / 计量单位 / 本年度 (or
"2016年度") / 历年累计. Its rows vary by province and year, so every row is kept as
printed (label, numbering, the row it belongs to, unit, one figure per period column), and
the indicators that recur are named by the keys of ``pipeline/spec/pre2019.csv``.

The table is found by its header (指标名称 … followed by period headings), in HTML cells
or in any text rendering. In flattened text the unit is glued to the label
("主动公开文件数条") and a row's figures to each other ("346085376"); such a row is read
only where one split remains after the table's own constraints: no leading zeros, the
cumulative figure not below this year's, the 其中 items adding up to their row, and this
year's figure printed in the report's own text ("主动公开政府信息3460条"). Otherwise the
row is left out with a finding.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from itertools import islice, product

from pipeline.extract import layout, run_together
from pipeline.extract.cells import CellValue, label_form, read_value
from pipeline.model import Finding, PeriodKind, Pre2019Figure

# Header words: 指标名称, 计量单位 (also split as 计量 / 单位), and the period headings.
_HEADER_TOKEN = re.compile(
    r"指标名称|指标|名称|计量单位|计量|单位|备注|(\d{4})(年度|年)?|年度|本年度|本年|本期|上年度|上年"
    r"|历年累计|累计"
)
_UNITS = frozenset(
    {"条", "件", "个", "元", "万元", "千元", "人", "次", "人次", "项", "份", "篇", "期", "家",
     "天", "日", "场", "户", "宗", "小时", "工作日", "%"}
)
# A unit glued to the end of its label in flattened text: "主动公开文件数条".
_GLUED_UNIT = re.compile(r"(?<=.)(万元|千元|人次|工作日|小时|[条件个元人次项份篇期家天日场户宗])$")
_NUMBERING = re.compile(
    r"^(?P<prefix>其中[:：]?)?(?P<number>\d{1,2}[.、．]|[（(][\d一二三四五六七八九十]{1,3}[）)])?"
)
MAX_ROW_LABEL = 40  # longer text is not an indicator name
MAX_COMBINATIONS = 4096
MAX_ROWS = 200  # real tables have 15-40 rows; the cap bounds the work per table
NARRATIVE_WINDOW = 20  # characters between an indicator's word and its figure in prose


@dataclass(frozen=True, slots=True)
class KeySpec:
    key: str
    pattern: re.Pattern[str]


@cache
def key_specs() -> tuple[KeySpec, ...]:
    """The canonical keys of ``pipeline/spec/pre2019.csv``, in matching order."""
    text = resources.files("pipeline").joinpath("spec/pre2019.csv").read_text("utf-8")
    return tuple(
        KeySpec(row["key"], re.compile(row["pattern"]))
        for row in csv.DictReader(text.splitlines())
    )


# Words with which a report's prose states an indicator's figure for the year.
_NARRATIVE_WORDS = {
    "proactive_total": "主动公开",
    "applications_received": "申请",
    "reviews": "行政复议",
    "lawsuits": "行政诉讼",
}


@lru_cache(maxsize=8192)  # labels recur from report to report; each tries every pattern
def indicator_key(label: str) -> str | None:
    """The canonical key of an indicator label, ``None`` when it names none of them."""
    form = label_form(label)
    stem = form[_NUMBERING.match(form).end() :]  # type: ignore[union-attr]
    for spec in key_specs():
        if spec.pattern.fullmatch(stem):
            return spec.key
    return None


@lru_cache(maxsize=1024)  # a few period headings, read once per figure
def period_kind(heading: str) -> PeriodKind | None:
    if "累计" in heading:
        return "cumulative"
    if "本年" in heading or "本期" in heading or re.fullmatch(r"\d{4}年度?", heading):
        return "this_year"
    return None


def _squeeze(text: str) -> str:
    return "".join(text.split())


@dataclass(slots=True)
class _Header:
    periods: list[str]
    has_unit: bool
    rest: str  # text glued after the header: the first row's label


def _read_header(text: str) -> _Header:
    """Tokenise ``指标名称计量单位2016年度历年累计…``: the periods, and what follows them."""
    position = 0
    periods: list[str] = []
    has_unit = False
    while position < len(text):
        match = _HEADER_TOKEN.match(text, position)
        if match is None:
            break
        token = match.group()
        if match.group(1) is not None or token in ("本年度", "本年", "本期", "上年度", "上年"):
            periods.append(token)
        elif token in ("年度", "年") and periods and periods[-1].isdigit():
            periods[-1] += token  # "2011" / "年度" printed apart
        elif token in ("历年累计", "累计"):
            periods.append(token)
        elif token in ("计量单位", "单位", "计量"):
            has_unit = True
        position = match.end()
    return _Header(periods, has_unit, text[position:])


def _complete(header: _Header) -> bool:
    return bool(header.periods) and not any(p.isdigit() for p in header.periods)


@dataclass(slots=True)
class _Row:
    label: str
    unit: str | None
    cells: list[CellValue] | None = None  # one per period, once known
    splits: tuple[tuple[str, ...], ...] = ()  # readings of glued digits still open
    key: str | None = None
    numbering: str | None = None
    parent: int | None = None  # index of the row it belongs to (其中 items)


@dataclass(slots=True)
class Pre2019Result:
    figures: list[Pre2019Figure] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class _Reader:
    def __init__(self, raw: list[str], glued: Collection[int]) -> None:
        self.raw = raw
        self.values = [read_value(c) for c in raw]
        self.glued = glued
        self.result = Pre2019Result()
        self._stated_figures: dict[str, set[tuple[str, str]]] | None = None

    def read(self) -> Pre2019Result:
        i = 0
        while i < len(self.raw):
            text = _squeeze(self.raw[i])
            # The header may be glued to the heading before it ("…统计表指标名称计量单位…").
            at = text.find("指标名称")
            if self.values[i] is None and at >= 0:
                i = self._table(i, at)
            else:
                i += 1
        return self.result

    # -- the header ----------------------------------------------------------------------
    def _header(self, i: int, at: int) -> tuple[_Header, int] | None:
        """The header starting at cell ``i`` (character ``at``), and the next cell."""
        text = ""
        j = i
        while j < len(self.raw) and j - i < 12:
            value = self.values[j]
            piece = _squeeze(self.raw[j])[at if j == i else 0 :]
            if value is not None and not (value.semantic == "number" and piece.isdigit()):
                break  # a blank or a mark: the header is over
            header = _read_header(text + piece)
            if header.rest:
                if value is None and _complete(header) and len(header.rest) < len(piece):
                    return header, j + 1  # the first label glued to the header
                break
            text += piece
            j += 1
        header = _read_header(text)
        return (header, j) if _complete(header) else None

    # -- the rows ------------------------------------------------------------------------
    def _table(self, i: int, at: int) -> int:
        found = self._header(i, at)
        if found is None:
            return i + 1
        header, j = found
        width = len(header.periods)
        rows: list[_Row] = []
        pending_label = header.rest or None
        while (j < len(self.raw) or pending_label) and len(rows) < MAX_ROWS:
            if pending_label is not None:
                label, pending_label = pending_label, None
            else:
                if self.values[j] is not None:
                    j += 1  # a stray figure before any label
                    continue
                label = _squeeze(self.raw[j])
                form = label_form(label)
                if (
                    len(form) > MAX_ROW_LABEL or layout.is_prose(form)
                    or layout.is_boundary(form) or form.startswith("指标")
                ):
                    break
                j += 1
            unit, glued_unit, j = self._unit(label, j, header.has_unit, width)
            if glued_unit:
                label = label[: -len(unit or "")]
            row = _Row(label, unit)
            j = self._values(row, j, width)
            rows.append(row)
        self._relate(rows)
        self._settle(rows, header)
        self._emit(rows, header)
        return j

    def _unit(
        self, label: str, j: int, has_unit: bool, width: int
    ) -> tuple[str | None, bool, int]:
        """The row's unit, whether it was glued to the label, and the next cell."""
        if not has_unit:
            return None, False, j
        if j < len(self.raw) and self.values[j] is None and _squeeze(self.raw[j]) in _UNITS:
            return _squeeze(self.raw[j]), False, j + 1
        glued = _GLUED_UNIT.search(label)
        if glued is not None and j in self.glued:
            return glued.group(), True, j  # "主动公开文件数条" + its figures, no separator
        # A blank unit cell: one value cell more than the periods before the next text.
        following = 0
        while j + following < len(self.raw) and self.values[j + following] is not None:
            following += 1
        first = self.values[j] if j < len(self.raw) else None
        if following == width + 1 and first is not None and first.semantic != "number":
            return None, False, j + 1
        return None, False, j

    def _values(self, row: _Row, j: int, width: int) -> int:
        start = j
        while j < len(self.raw) and self.values[j] is not None and j - start < width:
            j += 1
        cells = [self.values[k] for k in range(start, j)]
        if len(cells) == width:
            row.cells = [c for c in cells if c is not None]
            return j
        if cells and all(k in self.glued for k in range(start, j)):
            groups = [self.raw[k].strip() for k in range(start, j)]
            found = run_together.free_splits(groups, width)
            if found.complete and found.splits:
                row.splits = found.splits
                return j
        if cells:
            self._finding(
                "row_incomplete",
                f"row {row.label!r}: {len(cells)} figure(s) for {width} period column(s); "
                "left out",
            )
        return j

    # -- structure -----------------------------------------------------------------------
    def _relate(self, rows: list[_Row]) -> None:
        top: int | None = None
        for index, row in enumerate(rows):
            match = _NUMBERING.match(row.label)
            assert match is not None
            row.numbering = match["number"]
            row.key = indicator_key(row.label)
            arabic = row.numbering is not None and row.numbering[0].isdigit()
            if match["prefix"] or arabic:
                row.parent = top
            else:
                top = index

    # -- glued rows ----------------------------------------------------------------------
    def _settle(self, rows: list[_Row], header: _Header) -> None:
        """Choose the one reading of each glued row that the table's constraints leave."""
        kinds = [period_kind(p) for p in header.periods]
        ordered = kinds == ["this_year", "cumulative"]
        for row in rows:
            if row.splits and ordered:
                row.splits = tuple(s for s in row.splits if int(s[1]) >= int(s[0]))
        children: dict[int, list[_Row]] = {}
        for row in rows:
            if row.parent is not None:
                children.setdefault(row.parent, []).append(row)
        progress = True
        while progress:  # each round settles a row, and a table has at most MAX_ROWS
            progress = any([self._take_single(row) for row in rows])
            progress |= any([self._confirm_by_text(row) for row in rows])
            progress |= self._by_sums(rows, children)
        for row in rows:
            if row.splits:
                shown = ", ".join("|".join(split) for split in row.splits[:3])
                more = ", …" if len(row.splits) > 3 else ""
                self._finding(
                    "row_ambiguous",
                    f"row {row.label!r}: figures printed with no separator, "
                    f"{len(row.splits)} readings fit ({shown}{more}); left out",
                )

    @staticmethod
    def _take_single(row: _Row) -> bool:
        if len(row.splits) != 1:
            return False
        row.cells = [_cell(piece) for piece in row.splits[0]]
        row.splits = ()
        return True

    def _stated(self) -> dict[str, set[tuple[str, str]]]:
        """Figures the report's sentences state for the indicators that have a word for
        them ("主动公开政府信息3460条"): word -> {(figure, the characters after it)}; found
        once per document, in one pass per word."""
        if self._stated_figures is None:
            text = "".join(raw for raw, value in zip(self.raw, self.values, strict=True)
                           if value is None)
            self._stated_figures = {}
            for word in set(_NARRATIVE_WORDS.values()):
                pattern = re.compile(
                    rf"{word}[^。；！？\d]{{0,{NARRATIVE_WINDOW}}}(?<![\d.])(\d+)(?![\d.])(.{{0,2}})"
                )
                self._stated_figures[word] = {
                    (m[1], m[2]) for m in pattern.finditer(text)
                }
        return self._stated_figures

    def _confirm_by_text(self, row: _Row) -> bool:
        """This year's figure printed in the report's own sentences picks the reading."""
        word = _NARRATIVE_WORDS.get(row.key or "")
        if len(row.splits) < 2 or word is None:
            return False
        unit = row.unit or ""
        stated_here = self._stated()[word]
        stated = [
            split
            for split in row.splits
            if any(n == split[0] and after.startswith(unit) for n, after in stated_here)
        ]
        if len(stated) != 1:
            return False
        row.splits = (stated[0],)
        self._finding(
            "split_confirmed_by_text",
            f"row {row.label!r}: of its readings only {'|'.join(stated[0])} has this year's "
            "figure stated in the report's text",
            status="info",
        )
        return self._take_single(row)

    def _by_sums(self, rows: list[_Row], children_of: dict[int, list[_Row]]) -> bool:
        """其中 items add up to their row, per period: the one consistent reading."""
        progress = False
        for parent_index, children in children_of.items():
            parent = rows[parent_index]
            group = [parent, *children]
            if not any(r.splits for r in group):
                continue
            if any(r.cells is None and not r.splits for r in group):
                continue  # a row left out: the sum cannot be checked
            open_rows = [r for r in group if r.splits]
            count = 1
            for r in open_rows:
                count *= len(r.splits)
            if count > MAX_COMBINATIONS:
                continue
            consistent = []
            for combination in islice(product(*(r.splits for r in open_rows)), MAX_COMBINATIONS):
                chosen = dict(zip(map(id, open_rows), combination, strict=True))
                if _sums_hold(parent, children, chosen):
                    consistent.append(combination)
                    if len(consistent) > 1:
                        break
            if len(consistent) == 1:
                for r, split in zip(open_rows, consistent[0], strict=True):
                    r.splits = (split,)
                    self._take_single(r)
                progress = True
        return progress

    # -- output --------------------------------------------------------------------------
    def _emit(self, rows: list[_Row], header: _Header) -> None:
        for row in rows:
            if row.cells is None:
                continue
            parent = rows[row.parent].label if row.parent is not None else None
            for period, cell in zip(header.periods, row.cells, strict=True):
                value, amount = _numbers(cell)
                if cell.semantic == "number" and value is None and amount is None:
                    continue
                self.result.figures.append(
                    Pre2019Figure(
                        label=row.label,
                        numbering=row.numbering,
                        parent=parent,
                        period=period,
                        period_kind=period_kind(period),
                        unit=row.unit,
                        value=value,
                        amount=amount,
                        raw=cell.raw,
                        semantic=cell.semantic,
                        key=row.key,
                    )
                )

    def _finding(self, check: str, message: str, status: str = "warning") -> None:
        self.result.findings.append(
            Finding(check=check, status=status, table="pre2019", message=message)  # type: ignore[arg-type]
        )


def _cell(piece: str) -> CellValue:
    cell = read_value(piece)
    assert cell is not None
    return cell


def _numbers(cell: CellValue) -> tuple[int | None, Decimal | None]:
    if cell.number is None:
        return None, None
    if cell.is_integral:
        return int(cell.number), None
    return None, cell.number


def _sums_hold(parent: _Row, children: list[_Row], chosen: dict[int, tuple[str, ...]]) -> bool:
    def numbers(row: _Row) -> list[int] | None:
        if id(row) in chosen:
            return [int(p) for p in chosen[id(row)]]
        assert row.cells is not None
        if any(c.number is None or not c.is_integral for c in row.cells):
            return None
        return [int(c.number) for c in row.cells]  # type: ignore[arg-type]

    total = numbers(parent)
    parts = [p for p in map(numbers, children) if p is not None]
    if total is None or len(parts) != len(children):
        return False
    return all(total[k] == sum(p[k] for p in parts) for k in range(len(total)))


def read_pre2019(raw: list[str], glued: Collection[int] = ()) -> Pre2019Result:
    """Figures of every pre-2019 statistics table among ``raw`` cells, in table order."""
    if "指标名称" not in _squeeze("".join(raw)):
        return Pre2019Result()  # no table's header in any cell: nothing to read
    return _Reader(raw, glued).read()
