"""The canonical fields: the keys of the three national tables, their Chinese and English
labels and units; and the keys of the pre-2019 statistics tables (:func:`pre2019_keys`).

Shared by the extractor (which maps printed labels to these keys), staging (cross-year
checks) and loading (labels); every canonical figure is listed in
``pipeline/spec/fields.csv``, read by :func:`fields`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

#: The three statistical tables: key -> (Chinese title, English title).
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

# Table 2 (主动公开): the columns' national headings.
ACTIVE_COLUMN_LABELS = {
    "issued": "本年制发件数",
    "repealed": "本年废止件数",
    "in_force": "现行有效件数",
    "decisions": "本年处理决定数量",
    "amount_10k_yuan": "本年收费金额(单位:万元)",
    "made": "本年新制作数量",
    "published": "本年新公开数量",
    "total_published": "对外公开总数量",
    "previous_count": "上一年项目数量",
    "change": "本年增/减",
    "count": "采购项目数量",
    "amount": "采购总金额",
}

# Table 3 (收到和处理申请): seven applicant columns, in national order.
APPLICANT_COLUMNS = (
    "natural_person",
    "commercial",
    "research",
    "social_welfare",
    "legal_services",
    "other_org",
    "total",
)
APPLICANT_COLUMN_LABELS = {
    "natural_person": "自然人",
    "commercial": "商业企业",
    "research": "科研机构",
    "social_welfare": "社会公益组织",
    "legal_services": "法律服务机构",
    "other_org": "其他",
    "total": "总计",
}

# Table 4 (行政复议、行政诉讼): rows and columns in national order.
REVIEW_ROWS = ("review", "lawsuit_direct", "lawsuit_after_review")
REVIEW_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
REVIEW_ROW_LABELS = {
    "review": "行政复议",
    "lawsuit_direct": "行政诉讼·未经复议直接起诉",
    "lawsuit_after_review": "行政诉讼·复议后起诉",
}
REVIEW_COLUMN_LABELS = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    "total": "总计",
}


# --------------------------------------------------------------------------- fields

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
    "active_disclosure": ACTIVE_COLUMN_LABELS,
    "applications": APPLICANT_COLUMN_LABELS,
    "reviews_lawsuits": REVIEW_COLUMN_LABELS,
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
        return REVIEW_ROW_LABELS[row]
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


# --------------------------------------------------------------------------- pre-2019


@dataclass(frozen=True, slots=True)
class Pre2019Key:
    """An indicator of the pre-2019 statistics tables that recurs nationally
    (``pipeline/spec/pre2019.csv``; the extractor matches labels with its ``pattern``)."""

    key: str
    label_zh: str  # a typical printed label
    label_en: str  # what it counts
    notes: str


@cache
def pre2019_keys() -> tuple[Pre2019Key, ...]:
    """The canonical keys of the ``pre2019`` dataset, in the order of the spec."""
    text = resources.files("pipeline").joinpath("spec/pre2019.csv").read_text("utf-8")
    return tuple(
        Pre2019Key(row["key"], row["label_zh"], row["label_en"], row["notes"])
        for row in csv.DictReader(text.splitlines())
    )


def pre2019_frame() -> pd.DataFrame:
    """The pre-2019 keys as a DataFrame (key, label_zh, label_en, notes)."""
    return pd.DataFrame(
        [
            {"key": k.key, "label_zh": k.label_zh, "label_en": k.label_en, "notes": k.notes}
            for k in pre2019_keys()
        ]
    )
