"""Reports built from the hand-checked gold files: real figures from real pages.

These stand in for the extractor's output where a test is about staging, not extraction,
so the staged figures are exactly the gold ones.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal

from pipeline.model import Fact, Finding, Report, ReportMeta
from pipeline.stage import StageItem
from tests.corpus import CORPUS

MONEY = {
    "active_disclosure/fees/amount_10k_yuan": "万元",
    "active_disclosure/procurement/amount": "元",
}
FETCHED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def gold(doc: str) -> dict:
    return json.loads((CORPUS / "gold" / f"{doc}.json").read_text(encoding="utf-8"))


def sources() -> dict[str, dict[str, str]]:
    with open(CORPUS / "SOURCES.csv", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def url_of(doc: str) -> str:
    return f"http://example.test/corpus/{doc}.html"


def gold_report(doc: str, *, extractor_version: str = "gold") -> Report:
    data = gold(doc)
    facts = []
    for key, number in data["facts"].items():
        table, row, column = key.split("/")
        mark = data.get("marks", {}).get(key)
        amount = Decimal(str(number)) if key in MONEY and number is not None else None
        value = None if amount is not None or number is None else int(number)
        facts.append(
            Fact(
                table=table,
                row=row,
                column=column,
                value=value,
                amount=amount,
                unit=MONEY.get(key) if amount is not None else None,
                raw=str(number) if number is not None else (mark or ""),
                semantic="number" if number is not None else ("mark" if mark else "blank"),
                row_label=row,
                column_label=column,
            )
        )
    meta = ReportMeta(
        source=url_of(doc),
        sha256=f"{int(doc):064x}",
        extractor_version=extractor_version,
        title=(
            f"{data['agency']}{data['report_year']}年政府信息公开工作年度报告"
            if data["agency"] and data["report_year"]
            else None
        ),
        agency=data["agency"],
        report_year=data["report_year"],
        national_format=data["template"],
        status="ok" if data["complete"] else "partial",
    )
    findings = [Finding(check="gold", status="info", message=data.get("notes", "")[:80])]
    return Report(meta=meta, fact_list=facts, finding_list=findings)


def gold_item(doc: str, **kwargs: object) -> StageItem:
    region = sources()[doc]["region"]
    return StageItem(
        report=gold_report(doc, **kwargs),  # type: ignore[arg-type]
        url=url_of(doc),
        region=region,
        region_code=None,
        fetched_at=FETCHED,
    )
