"""Figures read by OCR are kept only when the tables' identities prove them.

A misread digit ("71" as "7", "1" as "7") is an ordinary number to every later rule, so
OCR output is never taken on its own. The identities of the national tables are the
proof: each row total (总计 = the six applicant columns; Table 4's 总计 per case type),
each column's balance (一 + 二 = 三（七）+ 四) and outcome sum (（七）总计 = the outcome
rows). A figure is kept when

- at least one identity that covers it holds with every one of its cells read (a blank
  or a mark counts as 0, as in :mod:`identities`; OCR gives a blank only for a cell with
  no ink at all, and a cell whose ink it cannot read as text, which no identity
  assesses), and that is not made of blanks and marks alone (0 = 0 + 0 with nothing
  printed holds for a reading that lost every figure; printed zeros are read) unless
  another identity proves its total 0 (counts summing to 0 are all 0 or not printed), and
- no identity that covers it fails.

An identity whose total is blank beside figures, or whose parts are all blank beside a
total, checks nothing (the report printed no total, or no parts): it neither proves nor
breaks. Then only the column identities are left to prove a row, and they hold just as
well for a table read one column off (a ruling line lost beside the labels moves every
figure one column left, the totals into 其他, and leaves the total column blank). So the
column identities prove figures only when a row total of the same table holds: that
witnesses the columns are where the headings say.

A single misread digit breaks its row total (and its column identity), so the whole row
and column go. Everything else — Table 1 (which has no identity), rows whose identities
cannot be assessed, rows that break one — is left out with an ``ocr_unverified``
finding, never guessed. Kept figures are marked ``method="ocr"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal

from pipeline.extract import layout
from pipeline.model import Fact, Finding

#: One identity: (name, total key, addend keys); total = sum(addends).
Identity = tuple[str, str, tuple[str, ...]]

#: Identities down a column of Table 3: they hold for a table read one column off too.
_COLUMN_IDENTITIES = ("outcome_sum", "balance")


def identities(national_format: str | None) -> Iterator[Identity]:
    """Every identity of the tables, as keys (those of :mod:`identities`)."""
    fmt: layout.Format = "2019" if national_format == "2019" else "2021"

    def app(row: str, column: str) -> str:
        return f"applications/{row}/{column}"

    applicants = layout.APPLICANT_COLUMNS[:-1]
    for row in layout.APPLICATION_ROWS[fmt]:
        yield "row_total", app(row, "total"), tuple(app(row, c) for c in applicants)
    for column in layout.APPLICANT_COLUMNS:
        yield (
            "outcome_sum",
            app("total_handled", column),
            tuple(app(row, column) for row in layout.OUTCOME_ROWS[fmt]),
        )
        # 一 + 二 = 三（七）+ 四, as 一 + 二 - 四 = 三（七）: checked with signs below.
        yield (
            "balance",
            app("total_handled", column),
            (
                app("new_received", column),
                app("carried_over", column),
                "-" + app("carried_forward", column),
            ),
        )
    for row in layout.REVIEW_ROWS:
        yield (
            "review_total",
            f"reviews_lawsuits/{row}/total",
            tuple(f"reviews_lawsuits/{row}/{c}" for c in layout.REVIEW_COLUMNS[:-1]),
        )


def _as_number(fact: Fact) -> Decimal:
    """A figure, or 0 for a blank or a mark: OCR gives a blank only for a cell with no
    ink at all (a cell whose ink it cannot read is text, and no identity assesses it)."""
    return Decimal(0) if fact.number is None else Decimal(fact.number)


def _holds(total: Decimal, addends: list[tuple[int, Decimal]]) -> bool:
    return total == sum((sign * value for sign, value in addends), Decimal(0))


def verify(facts: list[Fact], national_format: str | None) -> tuple[list[Fact], list[Finding]]:
    """The facts the identities prove (marked ``method="ocr"``), and a finding for the
    rows left out."""
    by_key = {f.key: f for f in facts}
    proven: set[str] = set()
    broken: set[str] = set()
    by_columns: set[str] = set()  # proven by a column identity: kept if the columns are
    aligned = False  # ... which a row total of Table 3 that holds witnesses
    # Zeros with blanks: they prove nothing on their own, but see below.
    zero_rows: list[tuple[str, list[str]]] = []
    for name, total_key, addend_keys in identities(national_format):
        keys = [total_key, *(k.lstrip("-") for k in addend_keys)]
        present = [by_key.get(k) for k in keys]
        if any(f is None or (f.semantic == "number" and f.number is None) for f in present):
            continue  # not assessable: proves nothing, and blames nothing
        numbers = [_as_number(f) for f in present]  # type: ignore[arg-type]
        blank = [f.semantic == "blank" for f in present]  # type: ignore[union-attr]
        if any(numbers) and (blank[0] or all(blank[1:])):
            # A total left blank beside figures, or figures beside a column or row left
            # blank: the report printed no total, or no parts (OCR gives a blank only for
            # a cell without ink). Nothing to check against.
            continue
        if not any(numbers) and any(f.semantic != "number" for f in present):  # type: ignore[union-attr]
            # Blanks that add up to blanks hold for a reading that lost every figure (a
            # row whose figures went to the wrong cells): proves nothing. A row of printed
            # zeros is fooled only by two figures both misread as 0, in one row.
            if not any(k.startswith("-") for k in addend_keys):
                zero_rows.append((total_key, keys))
            continue
        addends = [
            (-1 if key.startswith("-") else 1, n)
            for key, n in zip(addend_keys, numbers[1:], strict=True)
        ]
        if not _holds(numbers[0], addends):
            broken.update(keys)
        else:
            (by_columns if name in _COLUMN_IDENTITIES else proven).update(keys)
            aligned = aligned or name == "row_total"
    if aligned:
        proven |= by_columns
    # A total another identity proves to be 0 makes every count it sums 0: those read as 0,
    # or blank (no ink), are right. Each round can prove the total of another row.
    while True:
        settled = [
            keys
            for total_key, keys in zero_rows
            if total_key in proven
            and total_key not in broken
            and by_key[total_key].semantic == "number"
            and not set(keys) <= proven
        ]
        if not settled:
            break
        for keys in settled:
            proven.update(keys)
    kept = [
        dataclasses.replace(f, method="ocr")
        for f in facts
        if f.key in proven and f.key not in broken
    ]
    left_out = [f for f in facts if f.key not in proven or f.key in broken]
    findings: list[Finding] = []
    if left_out:
        rows = sorted({f"{f.table}/{f.row}" for f in left_out})
        failed = sorted({f"{f.table}/{f.row}" for f in left_out if f.key in broken})
        message = (
            f"{len(left_out)} figure(s) read by OCR left out, not proven by the tables' "
            f"identities, in {len(rows)} row(s): {', '.join(rows)}"
        )
        if failed:
            message += f"; identities broken in: {', '.join(failed)}"
        findings.append(Finding(check="ocr_unverified", status="warning", message=message))
    return kept, findings
