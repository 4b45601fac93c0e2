"""Pure conversion of extracted :class:`~pipeline.model.Report` objects to Arrow tables."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa

from pipeline.datasets import (
    AMOUNT_TYPE,
    BUCKETS,
    FACTS_SCHEMA,
    FINDINGS_SCHEMA,
    PRE2019_SCHEMA,
    REPORTS_SCHEMA,
    bucket_of,
)
from pipeline.dates import parse_iso_date
from pipeline.model import Report
from pipeline.stage.publisher import publisher_kind, publisher_level
from pipeline.urls import canonical_url

__all__ = ["BUCKETS", "bucket_of"]  # re-exported from pipeline.datasets (the layout)

_AMOUNT_QUANTUM = Decimal(1).scaleb(-AMOUNT_TYPE.scale)


def report_id_for(url: str) -> str:
    """A stable id for the report at ``url``: 16 hex digits of SHA-256 of its canonical URL
    (:func:`pipeline.urls.canonical_url`: no session id, fragment, default port or tracking
    parameter, one case of scheme and host), so the spellings of one page share one id."""
    return hashlib.sha256(canonical_url(url.strip()).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class StageItem:
    """One report to stage and where it came from."""

    report: Report
    url: str
    region: str | None
    region_code: str | None
    fetched_at: datetime | None
    content_type: str | None = None
    extracted_at: datetime | None = None
    page_url: str | None = None  # the report page whose attached file this is
    #: :attr:`report_id`, once computed: staging reads it for every row of the report (a
    #: URL canonicalisation each time was 0.5 ms of a report's staging)
    _report_id: str | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    @property
    def report_id(self) -> str:
        found = self._report_id
        if found is None:
            found = report_id_for(self.url)
            object.__setattr__(self, "_report_id", found)  # a cache: the item stays frozen
        return found

    @property
    def year(self) -> int | None:
        return self.report.meta.report_year


def utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime; naive datetimes are taken to be UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def money(amount: Decimal | None) -> Decimal | None:
    """Fit a decimal into :data:`AMOUNT_TYPE` (only digits beyond 8 places are rounded)."""
    if amount is None:
        return None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > AMOUNT_TYPE.scale:
        return amount.quantize(_AMOUNT_QUANTUM)
    return amount


def _dict_array(values: list[str | None], index: pa.DataType) -> pa.Array:
    return (
        pa.array(values, type=pa.string())
        .dictionary_encode()
        .cast(pa.dictionary(index, pa.string()))
    )


def reports_table(items: list[StageItem], now: datetime) -> pa.Table:
    """One row per report (``report_year`` is not a column: it is the partition)."""
    rows: dict[str, list[object]] = {name: [] for name in REPORTS_SCHEMA.names}
    for item in items:
        meta = item.report.meta
        rows["report_id"].append(item.report_id)
        rows["url"].append(item.url)
        rows["source"].append(meta.source)
        rows["title"].append(meta.title)
        rows["agency"].append(meta.agency)
        rows["region"].append(item.region)
        rows["region_code"].append(item.region_code)
        rows["published"].append(parse_iso_date(meta.published))
        rows["index_no"].append(meta.index_no)
        rows["national_format"].append(meta.national_format)
        rows["status"].append(meta.status)
        rows["sha256"].append(meta.sha256)
        rows["content_type"].append(item.content_type)
        rows["document_format"].append(meta.document_format)
        rows["page_url"].append(item.page_url)
        rows["extractor_version"].append(meta.extractor_version)
        rows["fetched_at"].append(utc(item.fetched_at))
        rows["extracted_at"].append(utc(item.extracted_at) or now)
        facts, findings = item.report.fact_list, item.report.finding_list
        rows["fact_rows"].append(len(facts))
        rows["number_facts"].append(sum(f.semantic == "number" for f in facts))
        rows["identity_failures"].append(sum(f.status == "fail" for f in findings))
        rows["warnings"].append(sum(f.status == "warning" for f in findings))
        rows["publisher_level"].append(publisher_level(meta.agency, item.region_code))
        rows["publisher_kind"].append(publisher_kind(meta.agency))
    return pa.table(
        [pa.array(rows[f.name], type=f.type) for f in REPORTS_SCHEMA], schema=REPORTS_SCHEMA
    )


def facts_table(items: list[StageItem]) -> pa.Table:
    ids: list[str] = []
    cols: dict[str, list[object]] = {name: [] for name in FACTS_SCHEMA.names}
    for item in items:
        facts = item.report.fact_list
        ids.extend([item.report_id] * len(facts))
        cols["table"].extend([f.table for f in facts])
        cols["row"].extend([f.row for f in facts])
        cols["column"].extend([f.column for f in facts])
        cols["value"].extend([f.value for f in facts])
        cols["amount"].extend([money(f.amount) for f in facts])
        cols["unit"].extend([f.unit for f in facts])
        cols["raw"].extend([f.raw for f in facts])
        cols["semantic"].extend([f.semantic for f in facts])
        cols["row_label"].extend([f.row_label for f in facts])
        cols["column_label"].extend([f.column_label for f in facts])
        cols["method"].extend([f.method for f in facts])
    cols["report_id"] = ids  # type: ignore[assignment]
    return _build(FACTS_SCHEMA, cols)


def findings_table(items: list[StageItem]) -> pa.Table:
    cols: dict[str, list[object]] = {name: [] for name in FINDINGS_SCHEMA.names}
    for item in items:
        for finding in item.report.finding_list:
            cols["report_id"].append(item.report_id)
            for name in FINDINGS_SCHEMA.names[1:]:
                cols[name].append(getattr(finding, name))
    return _build(FINDINGS_SCHEMA, cols)


def pre2019_table(items: list[StageItem]) -> pa.Table:
    """The figures of the reports' pre-2019 statistics tables, in printed order."""
    cols: dict[str, list[object]] = {name: [] for name in PRE2019_SCHEMA.names}
    for item in items:
        figures = item.report.pre2019_list
        if not figures:  # most reports: skip before the report_id (a URL canonicalisation)
            continue
        cols["report_id"].extend([item.report_id] * len(figures))
        cols["position"].extend(range(len(figures)))
        cols["amount"].extend([money(f.amount) for f in figures])
        for name in _PRE2019_PLAIN:
            cols[name].extend([getattr(f, name) for f in figures])
    return _build(PRE2019_SCHEMA, cols)


#: Columns of ``pre2019`` taken from :class:`~pipeline.model.Pre2019Figure` as they are.
_PRE2019_PLAIN = [n for n in PRE2019_SCHEMA.names if n not in ("report_id", "position", "amount")]


def _build(schema: pa.Schema, cols: dict[str, list[object]]) -> pa.Table:
    arrays = []
    for field in schema:
        if pa.types.is_dictionary(field.type):
            arrays.append(_dict_array(cols[field.name], field.type.index_type))  # type: ignore[arg-type]
        else:
            arrays.append(pa.array(cols[field.name], type=field.type))
    return pa.table(arrays, schema=schema)
