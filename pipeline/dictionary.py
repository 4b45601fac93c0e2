"""The data dictionary: every canonical figure with Chinese and English labels and units.

Generated from ``pipeline/spec/fields.csv`` (the canonical fields) plus the English labels
below; ``python -m pipeline.dictionary`` prints the Markdown kept in
``docs/data-dictionary.md`` (a test keeps the two equal).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

from pipeline.extract import layout
from pipeline.extract.layout import APPLICANT_COLUMNS
from pipeline.stage.schema import DATASETS, PARTITION_FIELD

TABLE_LABELS = {
    "active_disclosure": ("主动公开政府信息情况", "Proactive disclosure"),
    "applications": (
        "收到和处理政府信息公开申请情况",
        "Disclosure applications received and handled",
    ),
    "reviews_lawsuits": (
        "政府信息公开行政复议、行政诉讼情况",
        "Administrative reviews and lawsuits",
    ),
}

#: English labels of the row keys (table-specific where the key is shared).
ROW_EN = {
    "regulations": "Regulations (规章)",
    "normative_documents": "Normative documents",
    "licensing": "Administrative licensing",
    "penalty": "Administrative penalties",
    "coercion": "Administrative coercion",
    "fees": "Administrative fees",
    "other_services": "Other public services",
    "procurement": "Centralised government procurement",
    "new_received": "New applications received this year",
    "carried_over": "Carried over from last year",
    "granted": "Disclosed in full",
    "partially_granted": "Partly disclosed",
    "denied_state_secret": "Withheld: state secret",
    "denied_prohibited_by_law": "Withheld: other law or regulation forbids disclosure",
    "denied_three_safeties": "Withheld: endangers the 'three safeties and one stability'",
    "denied_third_party": "Withheld: protects a third party's lawful rights",
    "denied_internal_affairs": "Withheld: internal affairs information",
    "denied_process_info": "Withheld: process information",
    "denied_enforcement_files": "Withheld: administrative enforcement files",
    "denied_inquiry": "Withheld: administrative inquiry matter",
    "unavailable_not_held": "Cannot provide: agency does not hold the information (不掌握)",
    "unavailable_needs_creation": "Cannot provide: would have to be newly created",
    "unavailable_unclear": "Cannot provide: request still unclear after correction",
    "not_processed_petition": "Not processed: petition, complaint or report",
    "not_processed_duplicate": "Not processed: duplicate application",
    "not_processed_publication": "Not processed: asks for a publication",
    "not_processed_excessive": "Not processed: excessive repeated applications",
    "not_processed_confirmation": "Not processed: asks to confirm or reissue information",
    "other_no_correction": "Other: applicant did not supply corrections in time",
    "other_unpaid_fee": "Other: applicant did not pay the fee in time",
    "other_other": "Other: other",
    "other": "Other handling",
    "total_handled": "Total handled",
    "carried_forward": "Carried forward to next year",
    "review": "Administrative review",
    "lawsuit_direct": "Lawsuit without prior review",
    "lawsuit_after_review": "Lawsuit after review",
}

#: English labels of the column keys (the Chinese ones are the layout's).
COLUMN_EN = {
    "issued": "Issued this year",
    "repealed": "Repealed this year",
    "in_force": "In force",
    "decisions": "Decisions this year",
    "amount_10k_yuan": "Fees collected (10,000 yuan)",
    "made": "Newly made this year",
    "published": "Newly published this year",
    "total_published": "Total published",
    "previous_count": "Items last year",
    "change": "Change this year (signed)",
    "count": "Procurement items",
    "amount": "Procurement amount (printed unit)",
    "natural_person": "Natural persons",
    "commercial": "Commercial enterprises",
    "research": "Research institutions",
    "social_welfare": "Public-interest organisations",
    "legal_services": "Legal service providers",
    "other_org": "Other organisations",
    "total": "Total",
    "upheld": "Upheld",
    "corrected": "Corrected",
    "other": "Other result",
    "pending": "Pending",
}
_COLUMN_ZH = {
    "active_disclosure": layout.ACTIVE_COLUMN_LABELS,
    "applications": layout.APPLICANT_COLUMN_LABELS,
    "reviews_lawsuits": layout.REVIEW_COLUMN_LABELS,
}


@dataclass(frozen=True, slots=True)
class Field:
    table: str
    row: str
    column: str
    templates: tuple[str, ...]
    row_zh: str
    row_en: str
    column_zh: str
    column_en: str
    unit: str
    notes: str

    @property
    def key(self) -> str:
        return f"{self.table}/{self.row}/{self.column}"


def _unit(column: str) -> str:
    if column == "amount_10k_yuan":
        return "万元 (decimal)"
    if column == "amount":
        return "元 or 万元 as printed (decimal; see `unit`)"
    if column in ("previous_count", "change", "count"):
        return "项 (items)"
    return "件"


def _row_zh(table: str, row: str, label: str) -> str:
    if table == "reviews_lawsuits":
        return layout.REVIEW_ROW_LABELS[row]
    if table == "active_disclosure":
        return label.split(" × ")[0]
    return label


def _columns(table: str, spec: str) -> list[str]:
    if spec == "*":
        return list(APPLICANT_COLUMNS)
    return spec.split("|")


@cache
def fields() -> tuple[Field, ...]:
    """Every canonical figure, one per table/row/column key, in the spec's order."""
    text = resources.files("pipeline").joinpath("spec/fields.csv").read_text(encoding="utf-8")
    out: list[Field] = []
    for rec in csv.DictReader(text.splitlines()):
        table, row = rec["table"], rec["row"]
        for column in _columns(table, rec["column"]):
            zh, en = _COLUMN_ZH[table][column], COLUMN_EN[column]
            if table == "active_disclosure" and " × " in rec["label_zh"]:
                zh = rec["label_zh"].split(" × ", 1)[1]
            out.append(
                Field(
                    table=table,
                    row=row,
                    column=column,
                    templates=tuple(rec["templates"].split()),
                    row_zh=_row_zh(table, row, rec["label_zh"]),
                    row_en=ROW_EN[row],
                    column_zh=zh,
                    column_en=en,
                    unit=_unit(column),
                    notes=rec["notes"],
                )
            )
    return tuple(out)


def frame() -> pd.DataFrame:
    """The data dictionary as a DataFrame (one row per canonical figure)."""
    return pd.DataFrame(
        [
            {
                "key": f.key,
                "table": f.table,
                "row": f.row,
                "column": f.column,
                "label_zh": f"{f.row_zh} × {f.column_zh}",
                "label_en": f"{f.row_en} × {f.column_en}",
                "row_zh": f.row_zh,
                "row_en": f.row_en,
                "column_zh": f.column_zh,
                "column_en": f.column_en,
                "unit": f.unit,
                "format_2021": "2021" in f.templates,
                "format_2019": "2019" in f.templates,
                "notes": f.notes,
            }
            for f in fields()
        ]
    )


def labels(table: str, axis: str, language: str) -> dict[str, str]:
    """Key -> label for the rows or columns of ``table`` in ``zh`` or ``en``."""
    result: dict[str, str] = {}
    for f in fields():
        if f.table != table:
            continue
        if axis == "row":
            result[f.row] = f.row_zh if language == "zh" else f.row_en
        else:
            result[f.column] = f.column_zh if language == "zh" else f.column_en
    return result


_COLUMN_DOCS = {
    "report_id": "16 hex digits of SHA-256 of the report URL; joins the three datasets",
    "url": "URL the report was fetched from",
    "source": "source as the extractor recorded it",
    "title": "report title as printed",
    "agency": "publishing agency (发布机构) as printed",
    "region": "region name from the portal configuration",
    "region_code": "6-digit administrative division code where known",
    "published": "publication date printed on the page",
    "index_no": "索引号 where printed",
    "national_format": "national table format detected: 2021, 2019, pre2019 or unknown",
    "status": "ok (all tables), partial (cut off / some tables), no_tables, image_only (tables "
    "printed as images), unreadable (encrypted, damaged, converter missing, unsupported format)",
    "sha256": "SHA-256 of the fetched page (the raw archive key)",
    "content_type": "HTTP Content-Type of the page",
    "extractor_version": "version of the extractor that produced the rows",
    "fetched_at": "when the page was fetched (UTC)",
    "extracted_at": "when the page was extracted and staged (UTC)",
    "fact_count": "number of printed figures extracted",
    "failed_checks": "number of identity checks that failed",
    "table": "statistical table key (see the fields below)",
    "row": "row key",
    "column": "column key",
    "value": "integer figure as printed (nullable; signed for 本年增/减)",
    "amount": (
        "money figure as printed (fees in 万元, procurement in its unit); decimal(28, 8) in "
        "Parquet, so raw readers see it padded to 8 places (`Decimal('0E-8')` for 0); "
        "`pipeline.load` returns exact Decimals at the printed scale (`0`, `9116.36`) "
        "and the figure as a float in `number`"
    ),
    "unit": "unit printed with the figure, where any",
    "raw": "cell text as printed",
    "semantic": "number, blank, or mark (a printed '/', '—', '无')",
    "row_label": "row label as printed",
    "column_label": "column label as printed",
    "check": "name of the check (identities; cross_year_carry compares years)",
    "expected": "figure the check expected",
    "printed": "figure the report printed",
    "message": "human-readable explanation",
    "report_year": "year the report covers (partition key; 0 = not stated)",
}


def render_markdown() -> str:
    """``docs/data-dictionary.md``."""
    lines = [
        "# Data dictionary",
        "",
        "Generated by `python -m pipeline.dictionary` from `pipeline/spec/fields.csv`;",
        "do not edit by hand. In Python: `pipeline.load.dictionary()`.",
        "",
        "## Datasets",
        "",
        "Under `<data dir>/parquet/`, each partitioned by `report_year` (hive style,",
        "`report_year=2023/`; `report_year=0` holds reports whose year is not stated).",
        "",
        "Every report lives in one bucket file per dataset and year; each file is replaced",
        "in one rename. A report whose year changes on re-extraction is written to its new",
        "year first and removed from the old one after: if that write is killed in between,",
        "a raw reader (`pandas.read_parquet`, DuckDB, Polars) can see the report in both",
        "years (in the new year possibly only its `facts`/`findings`) until the next write,",
        "which first keeps only the copy whose `reports` row has the newest `extracted_at`",
        "(and undoes a move whose `reports` row was never written). `pipeline.load` always",
        "shows one copy.",
        "",
    ]
    for name, schema in DATASETS.items():
        lines += [f"### `{name}`", "", "| column | type | meaning |", "| --- | --- | --- |"]
        for f in [*schema, PARTITION_FIELD]:
            lines.append(f"| `{f.name}` | {_type_name(f.type)} | {_COLUMN_DOCS[f.name]} |")
        lines.append("")
    lines += [
        "## Figures (`facts`)",
        "",
        "One row per printed figure, keyed by `table`/`row`/`column`. `2021` and `2019` say",
        "which national format prints the figure.",
        "",
    ]
    for table, (zh, en) in TABLE_LABELS.items():
        lines += [
            f"### `{table}` — {zh} / {en}",
            "",
            "| key | 中文 | English | unit | 2021 | 2019 |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for f in fields():
            if f.table != table:
                continue
            lines.append(
                f"| `{f.row}/{f.column}` | {f.row_zh} × {f.column_zh} | {f.row_en} × "
                f"{f.column_en} | {f.unit} | {'✓' if '2021' in f.templates else ''} | "
                f"{'✓' if '2019' in f.templates else ''} |"
            )
        lines.append("")
    lines += [
        "## Derived rates (`pipeline.load.rates()`)",
        "",
        "| rate | definition |",
        "| --- | --- |",
    ]
    from pipeline.load import RATE_DEFINITIONS

    for name, text in RATE_DEFINITIONS.items():
        lines.append(f"| `{name}` | {text} |")
    return "\n".join(lines) + "\n"


def _type_name(dtype: object) -> str:
    text = str(dtype)
    if text.startswith("dictionary<"):
        return "categorical string"
    return {
        "string": "string",
        "int64": "nullable int64",
        "int32": "int32",
        "int16": "int16",
        "double": "float64",
        "date32[day]": "date",
        "timestamp[us, tz=UTC]": "timestamp (UTC)",
    }.get(text, text)


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
