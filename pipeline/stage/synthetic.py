"""Synthetic reports in the 2021 national format, for the staging benchmark and tests.

Every canonical 2021 figure is present with a pseudo-random count (seeded by the report
number, so a run is reproducible); none of these is a real figure.
"""

from __future__ import annotations

import random
from decimal import Decimal

from pipeline.dictionary import fields
from pipeline.model import Fact, Finding, Report, ReportMeta

EXTRACTOR_VERSION = "synthetic"


def synthetic_report(number: int, year: int, *, bump: int = 0) -> Report:
    """Report ``number`` for ``year``; ``bump`` shifts every count (a "re-extraction")."""
    rng = random.Random(number)
    facts = []
    for field in fields():
        if "2021" not in field.templates:
            continue
        if field.column == "amount_10k_yuan":
            value, amount, unit = None, Decimal(rng.randrange(0, 10**7)) / 100, "万元"
        else:
            value, amount, unit = rng.randrange(0, 50) + bump, None, None
        facts.append(
            Fact(
                table=field.table,
                row=field.row,
                column=field.column,
                value=value,
                amount=amount,
                unit=unit,
                raw=str(value if amount is None else amount),
                semantic="number",
                row_label=field.row_zh,
                column_label=field.column_zh,
            )
        )
    meta = ReportMeta(
        source=synthetic_url(number),
        sha256=f"{number:064x}",
        extractor_version=EXTRACTOR_VERSION,
        title=f"合成机关{number}{year}年政府信息公开工作年度报告",
        agency=f"合成机关{number}",
        report_year=year,
        national_format="2021",
        status="ok",
    )
    findings = [Finding(check="applications_balance", status="pass", message="synthetic")]
    return Report(meta=meta, fact_list=facts, finding_list=findings)


def synthetic_url(number: int) -> str:
    return f"http://127.0.0.1/synthetic/{number}.html"
