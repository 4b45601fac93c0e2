"""Find the three statistical tables in a report's cells and read their figures.

Input is the report's cells in reading order (from HTML grids or text renderings, see
``html_cells`` and ``text_cells``). Rows are found by what their labels say, never by
position; a row's figures are the value cells that follow its label. A row is emitted
only when its figures are unambiguous: as many cells as the row has columns, or none at
all before the next label (a rendering that dropped blank cells). Anything else becomes a
finding, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice, product
from typing import Literal

from pipeline.extract import layout, run_together
from pipeline.extract.cells import CellValue, label_form, read_value
from pipeline.extract.pre2019 import read_pre2019
from pipeline.model import Fact, Finding, NationalFormat, Pre2019Figure

TABLES = ("active_disclosure", "applications", "reviews_lawsuits")
# A bare 总计 is the （七）总计 row only right after the （六） rows; elsewhere it is a heading.
_BEFORE_TOTAL = frozenset({"other", *layout.OTHER_2021})


@dataclass(slots=True)
class ParsedTables:
    national_format: layout.Format | None
    facts: list[Fact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ended_inside_table: bool = False
    # Figures of a pre-2019 statistics table (see ``pre2019``).
    pre2019: list[Pre2019Figure] = field(default_factory=list)


@dataclass(slots=True)
class _Cells:
    raw: list[str]
    forms: list[str]
    values: list[CellValue | None]
    size: int  # len(raw), read in every loop step (an attribute, not a method call)

    @classmethod
    def of(cls, raw: list[str]) -> _Cells:
        return cls(raw, [label_form(c) for c in raw], [read_value(c) for c in raw], len(raw))

    def __len__(self) -> int:
        return self.size

    def is_text(self, i: int) -> bool:
        return self.values[i] is None


@dataclass(slots=True)
class _Run:
    """The value cells that follow one row label."""

    indices: list[int]
    next_index: int
    # "full" (all its cells read), "label" (a row label or table boundary came first),
    # "text" (other text came first) or "end" (the document ended first)
    ended_by: str


@dataclass(slots=True)
class _Ambiguous:
    """A glued Table 3 row with several splits that satisfy its own total."""

    row: str
    label_index: int
    splits: tuple[tuple[str, ...], ...]


_MAX_WRAPPED = 30  # the wrapped rest of a row label is a fragment, not a sentence
MAX_ROW_SPLITS = 16  # row-consistent splits kept per glued row for the column identities
MAX_COMBINATIONS = 4096  # readings of the ambiguous rows tried together


def _unfinished(label: str) -> bool:
    """A label cut by a line break, e.g. ``（二）部分公开（区分处理的，只计这一情``."""
    return label.count("(") > label.count(")")


class _Parser:
    def __init__(self, raw_cells: list[str], glued: Collection[int], flat: Collection[int]) -> None:
        self.glued = glued
        self.flat = flat
        self.ambiguous: list[_Ambiguous] = []
        # False after a row label met other text before any figure: labels and figures
        # are out of step there (a PDF conversion that stacks labels apart from their
        # rows), and no wrapped label is joined until a row is read in full again.
        self.layout_sound = True
        self.cells = _Cells.of(raw_cells)
        self.format = layout.detect_format(self.cells.forms)
        self._anchors = {
            "applications": any(map(layout.starts_applications, self.cells.forms)),
            "active_disclosure": any(map(layout.starts_active, self.cells.forms)),
        }
        self.result = ParsedTables(self.format)
        self.seen_keys: dict[str, Fact] = {}
        # Rows read as blank because their label stood alone; a printed row replaces them.
        self.inferred_blank: set[str] = set()
        self.active_headers: list[str] = []
        self.unrecognised: dict[str, list[str]] = {}

    # -- collecting -------------------------------------------------------------------
    def _is_label(self, i: int, section: str) -> bool:
        form = self.cells.forms[i]
        if layout.is_boundary(form):
            return True
        if section == "active_disclosure":
            return layout.active_row(form) is not None
        return (
            layout.application_row(form) is not None
            or layout.is_application_group(form)
            or layout.is_other_group(form)
            or layout.is_total_handled(form)
        )

    def _run(self, start: int, width: int, section: str) -> _Run:
        cells = self.cells
        found: list[int] = []
        label_text = cells.forms[start - 1] if start > 0 else ""
        continued = 0
        i = start
        while i < cells.size:
            if not cells.is_text(i):
                found.append(i)
                i += 1
                if len(found) == width:
                    return _Run(found, i, "full")
                continue
            if self._is_label(i, section):
                return _Run(found, i, "label")
            wrapped = _unfinished(label_text) or (
                continued < 2 and self.layout_sound and self._continues(i)
            )
            if found or not wrapped:
                return _Run(found, i, "text")
            label_text += cells.forms[i]  # the rest of a label broken over two cells
            continued += 1
            i += 1
        return _Run(found, i, "end")

    def _continues(self, i: int) -> bool:
        """Whether text right after a row label is the rest of it, wrapped onto the next
        line ("…行政机" / "关不再处理其政府信息公开申请"): a fragment that starts no row,
        names no row, group or column, and is no sentence."""
        form = self.cells.forms[i]
        return 2 <= len(form) <= _MAX_WRAPPED and not layout.could_be_label(form)

    # -- emitting ---------------------------------------------------------------------
    def _emit_row(
        self,
        table: str,
        row: str,
        columns: tuple[str, ...],
        column_labels: list[str],
        label_index: int,
        run: _Run,
        block: int | None = None,
        label: str | None = None,
    ) -> None:
        label = label if label is not None else self.cells.raw[label_index]
        inferred = False
        candidates = self._glued_candidates(run, len(columns), block)
        if len(run.indices) == len(columns):
            cells = [self.cells.values[i] for i in run.indices]
        elif candidates is not None and candidates.only is not None:
            cells = [read_value(piece) for piece in candidates.only]
        elif (
            candidates is not None
            and candidates.complete
            and len(candidates.splits) > 1
            and table == "applications"
        ):
            # Settled, if at all, by the column identities once every row is read.
            self.ambiguous.append(_Ambiguous(row, label_index, candidates.splits))
            return
        elif not run.indices and run.ended_by == "label":
            # Renderings that drop blank cells print a blank row as its label alone.
            cells = [CellValue("blank", "")] * len(columns)
            inferred = True
        else:
            where = {"end": "the document ends", "label": "the next label"}.get(
                run.ended_by, "other text"
            )
            self.result.findings.append(
                Finding(
                    check="row_incomplete",
                    status="warning",
                    table=table,
                    row=row,
                    message=(
                        f"row {label!r}: {len(run.indices)} value cells before {where}, "
                        f"expected {len(columns)}{_glue_note(candidates, block)}; row left out"
                    ),
                )
            )
            if run.ended_by == "end":
                self.result.ended_inside_table = True
            if not run.indices and run.ended_by == "text":
                self.layout_sound = False
            return
        self.layout_sound = True
        if (
            block is not None
            and self._is_flat(run.indices)
            and not self._flat_sums_hold(cells, block, table, row)
        ):
            return
        for column, column_label, cell in zip(columns, column_labels, cells, strict=True):
            assert cell is not None
            self._add_fact(table, row, column, cell, label, column_label, inferred)

    def _review_readings(
        self, splits: tuple[tuple[str, ...], ...], block: int
    ) -> list[CellValue | None]:
        """Table 4 glued: each case type read where every fitting split agrees on it;
        the others are left out (``None``) with a finding."""
        read: list[CellValue | None] = []
        for start, row in zip(range(0, len(splits[0]), block), layout.REVIEW_ROWS, strict=True):
            readings = {split[start : start + block] for split in splits}
            if len(readings) == 1:
                read += [read_value(piece) for piece in readings.pop()]
                continue
            read += [None] * block
            self.result.findings.append(
                Finding(
                    check="row_ambiguous",
                    status="warning",
                    table="reviews_lawsuits",
                    row=row,
                    message=f"figures printed with no separator: {len(readings)} splits fit "
                    f"this case type's total ({', '.join(sorted('|'.join(r) for r in readings))}"
                    "); left out",
                )
            )
        return read

    def _is_flat(self, indices: list[int]) -> bool:
        return bool(indices) and all(i in self.flat for i in indices)

    def _flat_sums_hold(
        self, cells: list[CellValue | None], block: int, table: str, row: str | None = None
    ) -> bool:
        """In flattened text a table row and a sentence with numbers look alike: a "row"
        whose printed figures break its own total (总计 = the sum of the others) is taken
        for running text and left out, with a finding."""
        for start in range(0, len(cells), block):
            numbers = [c.number if c is not None else None for c in cells[start : start + block]]
            if any(n is None for n in numbers):
                continue  # blank or marked cells: nothing to check
            if numbers[-1] != sum(numbers[:-1]):  # type: ignore[arg-type]
                raw = " ".join(c.raw if c is not None else "?" for c in cells)
                self.result.findings.append(
                    Finding(
                        check="not_a_table_row",
                        status="warning",
                        table=table,
                        row=row,
                        message=f"figures {raw!r} in flattened text break the row's own total; "
                        "read as running text, left out",
                    )
                )
                return False
        return True

    def _glued_candidates(
        self, run: _Run, width: int, block: int | None
    ) -> run_together.Candidates | None:
        """The readings of figures printed run together with no separator; ``None`` when
        the run's cells are not glued (their count is then what it is)."""
        if (
            run.ended_by == "end"
            or not run.indices
            or len(run.indices) >= width
            or any(i not in self.glued for i in run.indices)
        ):
            return None
        return run_together.candidate_splits(
            [self.cells.raw[i].strip() for i in run.indices], width, block, MAX_ROW_SPLITS
        )

    def _add_fact(
        self,
        table: str,
        row: str,
        column: str,
        cell: CellValue,
        row_label: str,
        column_label: str,
        inferred: bool = False,
    ) -> None:
        value, amount, unit = _figure(table, row, column, cell)
        if cell.semantic == "number" and value is None and amount is None:
            too_long = cell.number is None  # read_value left out a run of too many digits
            self.result.findings.append(
                Finding(
                    check="number_out_of_range" if too_long else "not_an_integer",
                    status="warning",
                    table=table,
                    row=row,
                    column=column,
                    message=(
                        f"{cell.raw[:40]!r}… has more digits than any figure; left out"
                        if too_long
                        else f"{cell.raw!r} is not a whole number; left out"
                    ),
                )
            )
            return
        key = f"{table}/{row}/{column}"
        previous = self.seen_keys.get(key)
        if previous is not None and inferred:
            return  # a label standing alone again says nothing new
        fact = Fact(
            table,
            row,
            column,
            value,
            amount,
            unit,
            cell.raw,
            cell.semantic,
            row_label,
            column_label,
        )
        if previous is not None and key in self.inferred_blank:
            self.inferred_blank.discard(key)
            self.result.facts.remove(previous)
            previous = None
        if previous is not None:
            if previous.number != fact.number or previous.semantic != fact.semantic:
                self.result.findings.append(
                    Finding(
                        check="duplicate_row",
                        status="warning",
                        table=table,
                        row=row,
                        column=column,
                        message=(
                            f"printed twice with different figures ({previous.raw!r}, "
                            f"{fact.raw!r}); the first is kept"
                        ),
                    )
                )
            return
        self.seen_keys[key] = fact
        self.result.facts.append(fact)
        if inferred:
            self.inferred_blank.add(key)

    def _unmapped(self, table: str, label: str, why: str) -> None:
        self.result.findings.append(
            Finding(
                check="label_unmapped",
                status="warning",
                table=table,
                message=f"row {label!r}: {why}",
            )
        )

    # -- the three tables -------------------------------------------------------------
    def _active_row(self, i: int, last: int | None = None) -> int:
        """Read the Table 2 row whose label runs from cell ``i`` to ``last`` (or ``i``)."""
        last = i if last is None else last
        form = "".join(self.cells.forms[i : last + 1])
        row = layout.active_row(form)
        assert row is not None
        fmt = self.format or "2021"
        columns = layout.ACTIVE_COLUMNS[fmt].get(row)
        if columns is None:
            self._unmapped("active_disclosure", self.cells.raw[i], f"not a row of the {fmt} format")
            return i + 1
        headers = self.active_headers
        labels = (
            headers
            if len(headers) == len(columns)
            else [layout.ACTIVE_COLUMN_LABELS[c] for c in columns]
        )
        run = self._run(last + 1, len(columns), "active_disclosure")
        label = "".join(self.cells.raw[i : last + 1])
        self._emit_row("active_disclosure", row, columns, labels, i, run, None, label)
        return run.next_index

    def _active_headers(self, i: int) -> int:
        """Read the column headings after a 信息内容 cell."""
        headers: list[str] = []
        j = i + 1
        while j < self.cells.size and self.cells.is_text(j):
            form = self.cells.forms[j]
            if layout.active_row(form) is not None or layout.starts_active(form):
                break
            headers.append(self.cells.raw[j])
            j += 1
        self.active_headers = headers
        return j

    def _wrapped_label(self, i: int, name: Callable[[str], str | None]) -> str | None:
        """The row named by a label wrapped in two cells ("5.要求行政机关确认或重" /
        "新出具已获取信息"), when neither cell names a row alone."""
        cells = self.cells
        if not self.layout_sound or i + 1 >= cells.size or not cells.is_text(i + 1):
            return None
        if not self._continues(i + 1):
            return None
        return name(cells.forms[i] + cells.forms[i + 1])

    def _application_row(self, i: int, previous_row: str | None) -> tuple[int, str | None]:
        form = self.cells.forms[i]
        row = layout.application_row(form)
        if row is None and layout.is_other_other(form) and previous_row == "other_unpaid_fee":
            row = "other_other"
        elif row is None and layout.is_total_handled(form) and previous_row in _BEFORE_TOTAL:
            row = "total_handled"
        elif row is None and layout.is_other_group(form):
            if not self._other_is_single_row(i):
                return i + 1, previous_row
            row = "other"
        if row is None and not layout.is_application_group(form):
            wrapped = self._wrapped_label(i, layout.application_row)
            if wrapped is not None:
                return self._emit_application_row(i, i + 1, wrapped, previous_row)
        if row is None:
            self._note_unrecognised(i, "applications")
            if not (layout.is_application_group(form) or layout.is_column_word(form)):
                self.layout_sound = False  # a stray fragment: labels may float apart
            return i + 1, previous_row
        if (row == "other" and self.format == "2021") or (
            row in layout.OTHER_2021 and (self.format == "2019")
        ):
            self._unmapped(
                "applications",
                self.cells.raw[i],
                f"a row of the other national format than {self.format}; kept as printed",
            )
        return self._emit_application_row(i, i, row, previous_row)

    def _emit_application_row(
        self, i: int, last: int, row: str, previous_row: str | None
    ) -> tuple[int, str | None]:
        """Read the row whose label runs from cell ``i`` to cell ``last``."""
        labels = [layout.APPLICANT_COLUMN_LABELS[c] for c in layout.APPLICANT_COLUMNS]
        run = self._run(last + 1, len(layout.APPLICANT_COLUMNS), "applications")
        label = "".join(self.cells.raw[i : last + 1])
        self._emit_row(
            "applications",
            row,
            layout.APPLICANT_COLUMNS,
            labels,
            i,
            run,
            len(layout.APPLICANT_COLUMNS),
            label,
        )
        return run.next_index, row

    def _other_is_single_row(self, i: int) -> bool:
        """（六）其他处理 is one row in the 2019 format and a group of three in 2021."""
        if self.format == "2019":
            return True
        j = i + 1
        while j < self.cells.size and not self.cells.is_text(j) and not self.cells.raw[j]:
            j += 1  # empty filler cells
        if j >= self.cells.size:
            return self.format != "2021"
        if not self.cells.is_text(j):
            return True
        return layout.application_row(self.cells.forms[j]) != "other_no_correction" and (
            self.format != "2021"
        )

    def _reviews(self, i: int) -> int:
        """Table 4: header words, then 15 figures (possibly in three groups of five)."""
        cells = self.cells
        wanted = len(layout.REVIEW_CELLS)
        collected: list[int] = []
        current: list[int] = []
        ended_by_label = ended_by_prose = saw_header = False
        j = i + 1
        while j < cells.size:
            if not cells.is_text(j):
                current.append(j)
                j += 1
                continue
            form = cells.forms[j]
            if layout.is_prose(form):
                ended_by_prose = True
                break
            if layout.is_boundary(form) and not layout.starts_reviews(form):
                ended_by_label = True
                break
            saw_header |= layout.is_review_header(form)
            # Blank cells followed by more header words are header filler, not figures.
            if any(_semantic(cells.values[k]) != "blank" for k in current):
                collected += current
            current = []
            if len(collected) >= wanted:
                ended_by_label = True
                break
            j += 1
        collected += current
        # Filler cells around the figures (an empty header row, a border-less blank row).
        while len(collected) > wanted and _semantic(cells.values[collected[0]]) == "blank":
            collected.pop(0)
        while len(collected) > wanted and _semantic(cells.values[collected[-1]]) == "blank":
            collected.pop()
        ended_by = "label" if ended_by_label else "text" if ended_by_prose else "end"
        run = _Run(collected, j, ended_by)
        block = len(layout.REVIEW_COLUMNS)
        candidates = self._glued_candidates(run, wanted, block)
        read: list[CellValue | None]
        if len(collected) == wanted:
            read = [cells.values[k] for k in collected]
        elif candidates is not None and candidates.complete and candidates.splits:
            read = self._review_readings(candidates.splits, block)
        elif not collected and ended_by_label and saw_header:
            # The table's headings and nothing printed under them.
            read = [CellValue("blank", "")] * wanted
        else:
            where = "the document ends" if ended_by == "end" else "the table ends"
            self.result.findings.append(
                Finding(
                    check="row_incomplete",
                    status="warning",
                    table="reviews_lawsuits",
                    message=f"{len(collected)} value cells before {where}, expected {wanted}; "
                    "table left out",
                )
            )
            self.result.ended_inside_table |= ended_by == "end"
            return j
        if self._is_flat(collected) and not self._flat_sums_hold(read, block, "reviews_lawsuits"):
            return j
        for (row, column), cell in zip(layout.REVIEW_CELLS, read, strict=True):
            if cell is None:
                continue  # a case type whose figures more than one split fits
            self._add_fact(
                "reviews_lawsuits",
                row,
                column,
                cell,
                layout.REVIEW_ROW_LABELS[row],
                layout.REVIEW_COLUMN_LABELS[column],
            )
        return j

    # -- the walk -----------------------------------------------------------------------
    def parse(self) -> ParsedTables:
        cells = self.cells
        section: str | None = None
        previous_row: str | None = None
        started = False  # has any table begun (its heading, or a row at the page start)?
        i = 0
        while i < cells.size:
            if not cells.is_text(i):
                i += 1
                continue
            form = cells.forms[i]
            if layout.is_prose(form):
                # Running text: no label, and no table goes on through it.
                section = None
                i += 1
                continue
            if not started and section is None:
                section = self._cut_off_table(i)
            started |= section is not None or layout.is_boundary(form)
            if layout.starts_applications(form):
                section = "applications"
            elif layout.starts_reviews(form):
                i = self._reviews(i)
                section = None
                continue
            elif layout.ends_tables(form):
                section = None
            elif layout.starts_active(form) and section != "applications":
                section = "active_disclosure"
                if form == "信息内容":
                    i = self._active_headers(i)
                    continue
            elif section == "active_disclosure" and layout.active_row(form) is not None:
                i = self._active_row(i)
                continue
            elif (
                section == "active_disclosure"
                and not layout.is_boundary(form)
                and self._wrapped_label(i, layout.active_row) is not None
            ):
                i = self._active_row(i, i + 1)
                continue
            elif section == "applications":
                i, previous_row = self._application_row(i, previous_row)
                continue
            elif section is not None:
                self._note_unrecognised(i, section)
            i += 1
        self._resolve_ambiguous()
        self._report_unrecognised()
        return self.result

    # -- glued rows settled by the column identities ------------------------------------
    def _resolve_ambiguous(self) -> None:
        """Take the one reading of the ambiguous glued rows under which every column
        identity they take part in holds; with none or several, leave them out."""
        if not self.ambiguous:
            return
        fixed = {
            (f.row, f.column): f.number for f in self.result.facts if f.table == "applications"
        }
        rows = [a.row for a in self.ambiguous]
        readings = [a.splits for a in self.ambiguous]
        consistent: list[tuple[tuple[str, ...], ...]] = []
        count = 1
        for splits in readings:
            count *= len(splits)
        if (
            len(set(rows)) == len(rows)
            and not any((r, "total") in fixed for r in rows)
            and (count <= MAX_COMBINATIONS)
        ):
            fmt = self.format or "2021"
            for combination in islice(product(*readings), MAX_COMBINATIONS):
                values = dict(fixed)
                for row, split in zip(rows, combination, strict=True):
                    for column, piece in zip(layout.APPLICANT_COLUMNS, split, strict=True):
                        values[(row, column)] = int(piece)
                if _column_identities_hold(values, set(rows), fmt):
                    consistent.append(combination)
                    if len(consistent) > 1:
                        break
        if len(consistent) == 1:
            labels = [layout.APPLICANT_COLUMN_LABELS[c] for c in layout.APPLICANT_COLUMNS]
            for item, split in zip(self.ambiguous, consistent[0], strict=True):
                label = self.cells.raw[item.label_index]
                for column, column_label, piece in zip(
                    layout.APPLICANT_COLUMNS, labels, split, strict=True
                ):
                    cell = read_value(piece)
                    assert cell is not None
                    self._add_fact("applications", item.row, column, cell, label, column_label)
            self.result.findings.append(
                Finding(
                    check="glued_split",
                    status="info",
                    table="applications",
                    message=f"{len(rows)} row(s) printed with no separator between figures "
                    f"read by the one split that the column identities allow: {', '.join(rows)}",
                )
            )
            return
        why = "several splits fit" if consistent or count > MAX_COMBINATIONS else "no split fits"
        for item in self.ambiguous:
            self.result.findings.append(
                Finding(
                    check="row_ambiguous",
                    status="warning",
                    table="applications",
                    row=item.row,
                    message=f"row {self.cells.raw[item.label_index]!r}: figures printed with no "
                    f"separator and {len(item.splits)} splits fit its total; with the column "
                    f"identities {why}; row left out",
                )
            )

    def _cut_off_table(self, i: int) -> str | None:
        """A page-start excerpt cut inside a table: a row label followed by a figure
        before any table heading, in a document that never prints that table's heading,
        begins its table there. Table 2 only where the national format is known (its rows
        have different columns in the two formats)."""
        following = self.cells.values[i + 1] if i + 1 < self.cells.size else None
        if following is None or following.semantic != "number":
            return None
        form = self.cells.forms[i]
        if layout.application_row(form) is not None and not self._anchors["applications"]:
            return "applications"
        if (
            layout.active_row(form) is not None
            and self.format is not None
            and not self._anchors["active_disclosure"]
        ):
            return "active_disclosure"
        return None

    def _note_unrecognised(self, i: int, table: str) -> None:
        """A label followed by figures that names no row: noted rather than guessed at."""
        following = self.cells.values[i + 1] if i + 1 < self.cells.size else None
        if following is not None and following.semantic == "number":
            self.unrecognised.setdefault(table, []).append(self.cells.raw[i])

    def _report_unrecognised(self) -> None:
        for table, labels in self.unrecognised.items():
            examples = ", ".join(repr(label[:30]) for label in labels[:3])
            self.result.findings.append(
                Finding(
                    check="row_unrecognised",
                    status="warning",
                    table=table,
                    message=f"{len(labels)} label(s) followed by figures name no row of the "
                    f"national tables (e.g. {examples}); their figures are left out",
                )
            )


def parse_tables(
    cells: list[str],
    *,
    glued: Collection[int] = (),
    flat: Collection[int] = (),
    pre2019: Literal["always", "with_facts"] = "always",
) -> ParsedTables:
    """Read the tables. ``glued``: indices of figure cells printed run together with the
    text before them, which may be split into several cells; ``flat``: indices of cells
    of flattened lines, where a row must keep its own total to count as a table row (see
    ``text_cells.read_text_cells``); ``pre2019="with_facts"`` reads a pre-2019 table only
    where national figures were read (a fallback reading kept only then need not pay
    for it otherwise)."""
    parsed = _Parser(cells, glued, flat).parse()
    if pre2019 != "always" and not parsed.facts:
        return parsed
    old_table = read_pre2019(cells, glued)
    parsed.pre2019 = old_table.figures
    parsed.findings += old_table.findings
    return parsed


def _column_identities_hold(
    values: dict[tuple[str, str], int | Decimal | None], rows: set[str], fmt: layout.Format
) -> bool:
    """Every per-column identity of Table 3 that involves one of ``rows`` and whose cells
    are all printed figures holds (一+二 = 三（七）+四, （七） = the sum of the outcomes)."""
    outcome_rows = ("total_handled", *layout.OUTCOME_ROWS[fmt])
    balance_rows = ("new_received", "carried_over", "total_handled", "carried_forward")
    for column in layout.APPLICANT_COLUMNS:
        for involved in (outcome_rows, balance_rows):
            if rows.isdisjoint(involved):
                continue
            numbers = [values.get((row, column)) for row in involved]
            if any(n is None for n in numbers):
                continue  # not assessable: constrains nothing
            if involved is outcome_rows:
                holds = numbers[0] == sum(numbers[1:])  # type: ignore[arg-type]
            else:
                holds = numbers[0] + numbers[1] == numbers[2] + numbers[3]  # type: ignore[operator]
            if not holds:
                return False
    return True


def _glue_note(candidates: run_together.Candidates | None, block: int | None) -> str:
    if candidates is None:
        return ""
    if not candidates.complete:
        return " (figures run together; too many ways to split them, search stopped)"
    if block is None:
        return " (figures run together, and no identity tells how to split them)"
    return " (figures run together; no split fits the row's total)"


def _semantic(cell: CellValue | None) -> str | None:
    return None if cell is None else cell.semantic


def _figure(
    table: str, row: str, column: str, cell: CellValue
) -> tuple[int | None, Decimal | None, str | None]:
    """Split a cell's number into the integer ``value`` or the money ``amount``."""
    if cell.number is None:
        return None, None, None
    if (row, column) in layout.MONEY_CELLS:
        unit = cell.unit or ("万元" if column == "amount_10k_yuan" else None)
        return None, cell.number, unit
    if cell.integer is not None:  # read once per cell text (see read_value)
        return cell.integer, None, cell.unit
    if not cell.is_integral:
        return None, None, cell.unit
    return int(cell.number), None, cell.unit


# So many figures read as national rows are the national tables, whatever year was read
# (the year of a report comes from its text and can be misread); fewer are not.
NATIONAL_TABLES_PRINTED = 100


def _national_format(parsed: ParsedTables, report_year: int | None) -> NationalFormat:
    if report_year is not None and report_year < 2019:
        if len(parsed.facts) >= NATIONAL_TABLES_PRINTED and parsed.national_format:
            parsed.findings.append(
                Finding(
                    check="year_conflict",
                    status="warning",
                    message=f"the year read is {report_year}, but the national tables (first "
                    "printed in reports on 2019) are there; the year is likely misread",
                )
            )
            return parsed.national_format
        return "pre2019"  # the national tables were first printed in reports on 2019
    if report_year is None and parsed.pre2019:
        return "pre2019"  # a 政府信息公开情况统计表 and no year that says otherwise
    if parsed.national_format is not None:
        return parsed.national_format
    return "unknown"


def _drop_canonical(parsed: ParsedTables) -> None:
    """A report before 2019 has none of the national tables: whatever was read as their
    rows came from running text or another table, and is left out."""
    if parsed.facts:
        parsed.findings.append(
            Finding(
                check="pre2019_no_national_tables",
                status="warning",
                message="a report on a year before 2019 has no national tables; "
                f"{len(parsed.facts)} figure(s) read as their rows are left out",
            )
        )
    parsed.facts.clear()
    parsed.ended_inside_table = False


def settle_national_format(parsed: ParsedTables, report_year: int | None) -> NationalFormat:
    """The report's national format, given the year its text states; for a report before
    2019 the figures read as national rows are dropped (with a finding)."""
    national_format = _national_format(parsed, report_year)
    if national_format == "pre2019":
        _drop_canonical(parsed)
    return national_format
