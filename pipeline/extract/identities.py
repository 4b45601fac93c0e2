"""The identities the national tables carry, checked on the printed figures.

A broken identity is a finding; it never changes a printed number. Blank and marked
cells are missing, not zero: an identity that holds when they are read as 0 passes (the
message says so), one that does not is ``not_assessable``, since the blank might hide
the difference. A row that was not extracted at all makes its identities not assessable.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import cast

from pipeline.extract import layout
from pipeline.model import Fact, Finding

_APPLICANTS = layout.APPLICANT_COLUMNS[:-1]


def _check(
    check: str,
    table: str,
    row: str | None,
    column: str | None,
    numbers: Mapping[str, int | Decimal | None],
    keys: tuple[str, ...],
    description: str,
) -> Finding:
    """``keys``: the total's key, then its addends'; ``numbers``: each extracted key's
    figure (None where blank or marked)."""

    def finding(status: str, message: str, expected=None, printed=None) -> Finding:
        return Finding(
            check=check,
            status=status,  # type: ignore[arg-type]
            table=table,
            row=row,
            column=column,
            expected=None if expected is None else float(expected),
            printed=None if printed is None else float(printed),
            message=f"{description}: {message}",
        )

    try:
        figures = [numbers[k] for k in keys]
    except KeyError:
        missing = [k for k in keys if k not in numbers]
        return finding("not_assessable", f"not extracted: {', '.join(missing)}")
    total = figures[0]
    blanks = figures.count(None)
    printed = [n for n in figures[1:] if n is not None]
    # Counts are ints: summed as ints, then made the Decimal that adding them one by one
    # to Decimal(0) gave (the same while a sum stays under Decimal's 28 digits, as sums
    # of a few dozen figures of at most 18 digits do).
    if all(type(n) is int for n in printed):
        expected = Decimal(sum(printed))
    else:
        expected = cast(Decimal, sum(printed, Decimal(0)))
    if total is None:
        return finding("not_assessable", "the total is not printed", expected=expected)
    if expected == total:
        note = f" (reading {blanks} blank cell(s) as 0)" if blanks else ""
        return finding("pass", f"holds{note}", expected=expected, printed=total)
    if blanks:
        return finding(
            "not_assessable",
            f"printed {total}, the printed parts add to {expected}, and {blanks} cell(s) are blank",
            expected=expected,
            printed=total,
        )
    message = f"printed {total}, expected {expected}"
    return finding("fail", message, expected=expected, printed=total)


# The keys each identity reads, total first: the same for every report of a format.
@cache
def _outcome_keys(fmt: layout.Format, column: str) -> tuple[str, ...]:
    rows = ("total_handled", *layout.OUTCOME_ROWS[fmt])
    return tuple(f"applications/{row}/{column}" for row in rows)


@cache
def _row_keys(row: str) -> tuple[str, ...]:
    return tuple(f"applications/{row}/{c}" for c in ("total", *_APPLICANTS))


@cache
def _review_keys(row: str) -> tuple[str, ...]:
    columns = ("total", *layout.REVIEW_COLUMNS[:-1])
    return tuple(f"reviews_lawsuits/{row}/{c}" for c in columns)


def check_identities(facts_list: list[Fact], national_format: str | None) -> list[Finding]:
    numbers = {f.key: f.number for f in facts_list}  # each figure read once
    fmt: layout.Format = "2019" if national_format == "2019" else "2021"
    findings: list[Finding] = []
    has_applications = any(f.table == "applications" for f in facts_list)
    has_reviews = any(f.table == "reviews_lawsuits" for f in facts_list)
    if has_applications:
        for column in layout.APPLICANT_COLUMNS:
            # 第一项加第二项之和，等于第三项加第四项之和, rearranged as a sum.
            balance = _balance(numbers, column)
            if balance is not None:
                findings.append(balance)
            findings.append(
                _check(
                    "outcome_sum",
                    "applications",
                    "total_handled",
                    column,
                    numbers,
                    _outcome_keys(fmt, column),
                    "（七）总计 = sum of the outcome rows",
                )
            )
        for row in layout.APPLICATION_ROWS[fmt]:
            keys = _row_keys(row)
            if not any(k in numbers for k in keys):
                continue
            findings.append(
                _check(
                    "row_total",
                    "applications",
                    row,
                    "total",
                    numbers,
                    keys,
                    "总计 = sum of the six applicant columns",
                )
            )
    if has_reviews:
        for row in layout.REVIEW_ROWS:
            findings.append(
                _check(
                    "review_total",
                    "reviews_lawsuits",
                    row,
                    "total",
                    numbers,
                    _review_keys(row),
                    "总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
                )
            )
    return findings


def _balance(numbers: Mapping[str, int | Decimal | None], column: str) -> Finding | None:
    """new_received + carried_over = total_handled + carried_forward, for one column."""
    keys = {
        row: f"applications/{row}/{column}"
        for row in ("new_received", "carried_over", "total_handled", "carried_forward")
    }
    description = "一 + 二 = 三（七）+ 四"
    missing = [k for k in keys.values() if k not in numbers]

    def finding(status: str, message: str, expected=None, printed=None) -> Finding:
        return Finding(
            check="balance",
            status=status,  # type: ignore[arg-type]
            table="applications",
            row="total_handled",
            column=column,
            expected=None if expected is None else float(expected),
            printed=None if printed is None else float(printed),
            message=f"{description}: {message}",
        )

    if missing:
        return finding("not_assessable", f"not extracted: {', '.join(missing)}")
    figures = {row: numbers[key] for row, key in keys.items()}
    left = (figures["new_received"] or 0) + (figures["carried_over"] or 0)
    right = (figures["total_handled"] or 0) + (figures["carried_forward"] or 0)
    blanks = [row for row, n in figures.items() if n is None]
    if left == right:
        note = f" (reading {len(blanks)} blank cell(s) as 0)" if blanks else ""
        return finding("pass", f"{left} = {right}{note}", expected=left, printed=right)
    if blanks:
        return finding(
            "not_assessable", f"{left} vs {right} with blank cells", expected=left, printed=right
        )
    message = f"一 + 二 = {left} but 三（七）+ 四 = {right}"
    return finding("fail", message, expected=left, printed=right)
