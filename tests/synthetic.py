"""Synthetic reports in the 2021 national format (and before 2019), for the staging
benchmark and tests.

Every canonical 2021 figure is present with a pseudo-random count (seeded by the report
number, so a run is reproducible); none of these is a real figure.
"""

from __future__ import annotations

import random
from decimal import Decimal
from functools import cache

from pipeline.canonical import fields, pre2019_keys
from pipeline.model import (
    Fact,
    Finding,
    NationalFormat,
    Pre2019Figure,
    Report,
    ReportMeta,
    ReportStatus,
)

EXTRACTOR_VERSION = "synthetic"


@cache
def _fact(index: int, value: int) -> Fact:
    field = _FIELDS[index]
    if field.column == "amount_10k_yuan":
        amount: Decimal | None = Decimal(value) / 100
        number, unit = None, "万元"
    else:
        amount, number, unit = None, value, None
    return Fact(
        table=field.table,
        row=field.row,
        column=field.column,
        value=number,
        amount=amount,
        unit=unit,
        raw=str(number if amount is None else amount),
        semantic="number",
        row_label=field.row_zh,
        column_label=field.column_zh,
    )


_FIELDS = [f for f in fields() if "2021" in f.templates]


def synthetic_report(number: int, year: int, *, bump: int = 0) -> Report:
    """Report ``number`` for ``year``; ``bump`` shifts every count (a "re-extraction")."""
    rng = random.Random(number)
    facts = [
        _fact(
            i,
            rng.randrange(0, 10**6) if f.column == "amount_10k_yuan" else rng.randrange(50) + bump,
        )
        for i, f in enumerate(_FIELDS)
    ]
    meta = _meta(number, year, "2021", "ok")
    findings = [Finding(check="applications_balance", status="pass", message="synthetic")]
    return Report(meta=meta, fact_list=facts, finding_list=findings)


def synthetic_url(number: int) -> str:
    return f"http://127.0.0.1/synthetic/{number}.html"


def _meta(
    number: int, year: int, national_format: NationalFormat, status: ReportStatus
) -> ReportMeta:
    """The metadata of synthetic report ``number`` for ``year``."""
    return ReportMeta(
        source=synthetic_url(number),
        sha256=f"{number:064x}",
        extractor_version=EXTRACTOR_VERSION,
        title=f"合成机关{number}{year}年政府信息公开工作年度报告",
        agency=f"合成机关{number}",
        report_year=year,
        national_format=national_format,
        status=status,
    )


def synthetic_pre2019_report(number: int, year: int, *, bump: int = 0) -> Report:
    """Report ``number`` for ``year`` (2008-2018) with no national table and a 统计表 of
    every pre-2019 key, this year and cumulative (50 figures, none of them real)."""
    rng = random.Random(number)
    figures = [
        Pre2019Figure(
            label=key.label_zh,
            numbering=None,
            parent=None,
            period=period,
            period_kind=kind,  # type: ignore[arg-type]
            unit="件",
            value=value,
            amount=None,
            raw=str(value),
            semantic="number",
            key=key.key,
        )
        for key in pre2019_keys()
        for period, kind, value in (
            (f"{year}年度", "this_year", rng.randrange(50) + bump),
            ("历年累计", "cumulative", rng.randrange(1000) + bump),
        )
    ]
    meta = _meta(number, year, "pre2019", "no_tables")
    findings = [Finding(check="synthetic", status="info", message="synthetic")]
    return Report(meta=meta, finding_list=findings, pre2019_list=figures)
