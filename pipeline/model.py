"""Data classes that flow between the pipeline's steps.

crawl -> raw archive -> extract (produces a :class:`Report`) -> stage.
The extractor fills these; staging and loading read them. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Literal

import pandas as pd

Semantic = Literal["number", "blank", "mark"]
FindingStatus = Literal["pass", "fail", "not_assessable", "warning", "info"]
FINDING_STATUSES: tuple[FindingStatus, ...] = ("pass", "fail", "not_assessable", "warning", "info")
ReportStatus = Literal["ok", "partial", "no_tables", "image_only", "unreadable"]
#: What a report's figures were read from (see :mod:`pipeline.extract.formats`).
DocumentFormat = Literal["pdf", "docx", "doc", "xls", "ole2", "zip", "html", "text"]
NationalFormat = Literal["2021", "2019", "pre2019", "unknown"]
PeriodKind = Literal["this_year", "cumulative"]

#: Columns of :attr:`Report.facts`, in order.
FACT_COLUMNS = (
    "table",
    "row",
    "column",
    "value",
    "amount",
    "unit",
    "raw",
    "semantic",
    "row_label",
    "column_label",
    "method",
)
#: Columns of :attr:`Report.pre2019`, in order.
PRE2019_COLUMNS = (
    "label",
    "numbering",
    "parent",
    "period",
    "period_kind",
    "unit",
    "value",
    "amount",
    "raw",
    "semantic",
    "key",
)
#: Columns of :attr:`Report.findings`, in order.
FINDING_COLUMNS = (
    "check",
    "status",
    "table",
    "row",
    "column",
    "expected",
    "printed",
    "message",
)


@dataclass(slots=True)
class Fact:
    """One printed figure of a statistical table.

    ``value`` holds integer figures (counts, signed changes). Money figures (the 2021
    fee amount in 万元, the 2019 procurement amount in its printed unit) are decimals and
    go in ``amount`` instead, so that ``value`` stays a plain nullable integer column.
    Blank and marked cells ("/", "—", "无") carry neither.
    """

    table: str
    row: str
    column: str
    value: int | None
    amount: Decimal | None
    unit: str | None
    raw: str
    semantic: Semantic
    row_label: str
    column_label: str
    #: How the figure was read: "text" (a text layer, markup, a Word table) or "ocr"
    #: (from an image, and then only when the tables' identities prove it).
    method: str = "text"

    @property
    def key(self) -> str:
        return f"{self.table}/{self.row}/{self.column}"

    @property
    def number(self) -> int | Decimal | None:
        """The figure whatever its type (integer or decimal), ``None`` if not printed."""
        return self.value if self.amount is None else self.amount


@dataclass(slots=True)
class Pre2019Figure:
    """One printed figure of a pre-2019 政府信息公开情况统计表 (指标名称 / 计量单位 /
    本年度 / 历年累计), in long form.

    ``label`` is the 指标名称 cell as printed (white space removed), with its numbering
    (``numbering``: "1.", "2、", None) and, for the "其中" items, the label of the row they
    belong to (``parent``). ``period`` is the column heading as printed ("2016年度",
    "本年度", "历年累计"), ``period_kind`` what it means. ``key`` names the indicators that
    recur across provinces and years (``pipeline/spec/pre2019.csv``); other labels keep
    ``None``. Whole figures go in ``value``, others (money) in ``amount``.
    """

    label: str
    numbering: str | None
    parent: str | None
    period: str
    period_kind: PeriodKind | None
    unit: str | None
    value: int | None
    amount: Decimal | None
    raw: str
    semantic: Semantic
    key: str | None

    @property
    def number(self) -> int | Decimal | None:
        return self.value if self.amount is None else self.amount


@dataclass(frozen=True, slots=True)
class Finding:
    """An identity check result or a structural observation about one report."""

    check: str
    status: FindingStatus
    message: str
    table: str | None = None
    row: str | None = None
    column: str | None = None
    expected: float | None = None
    printed: float | None = None


@dataclass(slots=True)
class ReportMeta:
    source: str
    sha256: str
    extractor_version: str
    title: str | None = None
    agency: str | None = None
    report_year: int | None = None
    published: str | None = None  # ISO date (YYYY-MM-DD) where the page prints one
    index_no: str | None = None  # 索引号
    national_format: NationalFormat = "unknown"
    status: ReportStatus = "no_tables"
    document_format: DocumentFormat | None = None


@dataclass(slots=True)
class Report:
    """Everything extracted from one report document."""

    meta: ReportMeta
    fact_list: list[Fact] = field(default_factory=list)
    finding_list: list[Finding] = field(default_factory=list)
    pre2019_list: list[Pre2019Figure] = field(default_factory=list)
    #: An ``image_only`` page's pictured tables still to fetch: each picture's address as
    #: written in the page (``src``, or ``data-src``/``data-original`` when it lazy-loads).
    #: Extracting the page again with their bytes (``images=``) reads them by OCR.
    table_images: list[str] = field(default_factory=list)

    @property
    def facts(self) -> pd.DataFrame:
        frame = pd.DataFrame(
            [[getattr(f, c) for c in FACT_COLUMNS] for f in self.fact_list],
            columns=list(FACT_COLUMNS),
        )
        frame["value"] = frame["value"].astype("Int64")
        # exact decimals as printed, as pipeline.load gives them (never binary floats)
        frame["amount"] = frame["amount"].astype(object)
        return frame

    @property
    def pre2019(self) -> pd.DataFrame:
        """The figures of a pre-2019 statistics table, one row per printed figure."""
        frame = pd.DataFrame(
            [[getattr(f, c) for c in PRE2019_COLUMNS] for f in self.pre2019_list],
            columns=list(PRE2019_COLUMNS),
        )
        frame["value"] = frame["value"].astype("Int64")
        frame["amount"] = pd.array(
            [None if a is None else float(a) for a in frame["amount"]], dtype="Float64"
        )
        return frame

    @property
    def findings(self) -> pd.DataFrame:
        frame = pd.DataFrame(
            [[getattr(f, c) for c in FINDING_COLUMNS] for f in self.finding_list],
            columns=list(FINDING_COLUMNS),
        )
        for column in ("expected", "printed"):
            frame[column] = frame[column].astype("Float64")
        return frame

    @property
    def meta_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(self.meta)])

    def fact(self, key: str) -> Fact | None:
        """The fact for ``table/row/column``, or ``None`` if it was not extracted."""
        for item in self.fact_list:
            if item.key == key:
                return item
        return None
