"""The staged Parquet datasets: their explicit Arrow schemas and their layout on disk,
shared by the writer (:mod:`pipeline.stage`) and the readers (:mod:`pipeline.load`).

Four datasets live under ``<data dir>/parquet/``: ``reports`` (one row per report),
``facts`` (one row per printed figure), ``findings`` (identity checks and structural
observations, cross-year checks included) and ``pre2019`` (one row per printed figure of
a pre-2019 statistics table, 政府信息公开情况统计表). Each is hive-partitioned by ``report_year``
(``report_year=2023/``; ``report_year=0`` where the year is unknown), so the year lives in
the directory name, not in the files.

Those are the published files plain Parquet readers see. Staging writes land first in
pending writes beside them (``_pending/``), and :func:`read_live` gives every report's
newest version from both: the layout and the reading rules are below, so the writer
(:mod:`pipeline.stage`) and the readers (:mod:`pipeline.load`, ``reextract``) share them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.datadir import parquet_dir

#: Bumped whenever a column is added, removed or changes type, or a dataset is added.
#: 3: the ``pre2019`` dataset (data directories staged before have none: it reads empty).
#: 4: ``method`` in ``facts`` (text or ocr; empty in facts staged before, all read from text).
SCHEMA_VERSION = "4"

#: Money figures: up to 20 integer digits and 8 decimal places (fees in 万元 print 6).
AMOUNT_TYPE = pa.decimal128(28, 8)

_KEY = pa.dictionary(pa.int32(), pa.string())  # categorical key
_ID = pa.dictionary(pa.int32(), pa.string())

PARTITION_FIELD = pa.field("report_year", pa.int16())
PARTITION_SCHEMA = pa.schema([PARTITION_FIELD])

REPORTS_SCHEMA = pa.schema(
    [
        pa.field("report_id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("title", pa.string()),
        pa.field("agency", pa.string()),
        pa.field("region", _KEY),
        pa.field("region_code", _KEY),
        pa.field("published", pa.date32()),
        pa.field("index_no", pa.string()),
        pa.field("national_format", _KEY),
        pa.field("status", _KEY),
        pa.field("sha256", pa.string()),
        pa.field("content_type", _KEY),
        pa.field("document_format", _KEY),
        pa.field("page_url", pa.string()),
        pa.field("extractor_version", _KEY),
        pa.field("fetched_at", pa.timestamp("us", tz="UTC")),
        pa.field("extracted_at", pa.timestamp("us", tz="UTC")),
        pa.field("fact_rows", pa.int32()),
        pa.field("number_facts", pa.int32()),
        pa.field("identity_failures", pa.int32()),
        pa.field("warnings", pa.int32()),
        pa.field("publisher_level", _KEY),
        pa.field("publisher_kind", _KEY),
    ]
)

FACTS_SCHEMA = pa.schema(
    [
        pa.field("report_id", _ID, nullable=False),
        pa.field("table", _KEY, nullable=False),
        pa.field("row", _KEY, nullable=False),
        pa.field("column", _KEY, nullable=False),
        pa.field("value", pa.int64()),
        pa.field("amount", AMOUNT_TYPE),
        pa.field("unit", _KEY),
        pa.field("raw", pa.string()),
        pa.field("semantic", _KEY),
        pa.field("row_label", _KEY),
        pa.field("column_label", _KEY),
        pa.field("method", _KEY),
    ]
)

FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("report_id", _ID, nullable=False),
        pa.field("check", _KEY, nullable=False),
        pa.field("status", _KEY, nullable=False),
        pa.field("table", _KEY),
        pa.field("row", _KEY),
        pa.field("column", _KEY),
        pa.field("expected", pa.float64()),
        pa.field("printed", pa.float64()),
        pa.field("message", pa.string()),
    ]
)

PRE2019_SCHEMA = pa.schema(
    [
        pa.field("report_id", _ID, nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("label", _KEY, nullable=False),
        pa.field("numbering", _KEY),
        pa.field("parent", _KEY),
        pa.field("period", _KEY, nullable=False),
        pa.field("period_kind", _KEY),
        pa.field("unit", _KEY),
        pa.field("value", pa.int64()),
        pa.field("amount", AMOUNT_TYPE),
        pa.field("raw", pa.string()),
        pa.field("semantic", _KEY, nullable=False),
        pa.field("key", _KEY),
    ]
)

DATASETS: dict[str, pa.Schema] = {
    "reports": REPORTS_SCHEMA,
    "facts": FACTS_SCHEMA,
    "findings": FINDINGS_SCHEMA,
    "pre2019": PRE2019_SCHEMA,
}
#: The datasets holding rows of a report besides its ``reports`` row.
REPORT_ROWS = ("facts", "findings", "pre2019")

#: What each column means, per dataset (the data dictionary and datapackage.json).
_SHARED_DOCS = {
    "report_id": "16 hex digits of SHA-256 of the report URL; joins the datasets",
    "table": "statistical table key (see the fields below)",
    "row": "row key",
    "column": "column key",
    "report_year": "year the report covers (partition key; 0 = not stated)",
}
COLUMN_DOCS: dict[str, dict[str, str]] = {
    "reports": {
        "url": "URL the report was fetched from",
        "source": "source as the extractor recorded it",
        "title": "report title as printed",
        "agency": "publishing agency (发布机构) as printed",
        "region": "region name from the portal configuration",
        "region_code": "6-digit administrative division code where known",
        "published": "publication date printed on the page",
        "index_no": "索引号 where printed",
        "national_format": "national table format detected: 2021, 2019, pre2019 or unknown",
        "status": (
            "ok (every figure of the three tables found), partial (some tables or rows not "
            "found: see its warnings; a scan read by OCR is partial), no_tables, image_only "
            "(the tables are printed as images and OCR proved no figure), unreadable "
            "(encrypted, damaged, converter missing, unsupported format)"
        ),
        "sha256": "SHA-256 of the fetched page (the raw archive key)",
        "content_type": "HTTP Content-Type of the page",
        "document_format": (
            "what the figures were read from, recognised from the bytes: html, text, pdf, "
            "docx, doc (also WPS), xls"
        ),
        "page_url": (
            "where the report is a file attached to a report page: that page (`url` is the "
            "file's); empty otherwise"
        ),
        "extractor_version": "version of the extractor that produced the rows",
        "fetched_at": "when the page was fetched (UTC)",
        "extracted_at": "when the page was extracted and staged (UTC)",
        "fact_rows": (
            "rows the report has in `facts`: every printed cell of the three tables "
            "(numbers, blanks and marks)"
        ),
        "number_facts": "of those, the cells that carry a number",
        "identity_failures": (
            "identity checks (balance, outcome_sum, row_total, review_total) that fail: "
            "findings with status `fail`"
        ),
        "warnings": (
            "structural findings (status `warning`): a table or rows not found, a row cut off, "
            "unrecognised or not an integer — a `partial` report has at least one"
        ),
        "publisher_level": (
            "administrative level of the publishing body, read from its name (else the "
            "region code): province, city, county, township or unknown"
        ),
        "publisher_kind": (
            "kind of publishing body, read from its name: government (人民政府, 管委会), "
            "government_office (政府办公室/办公厅), department (局, 委, 办 ...), township "
            "(乡/镇), subdistrict (街道), or unknown"
        ),
    },
    "facts": {
        "report_id": _SHARED_DOCS["report_id"],
        "value": "integer figure as printed (nullable; signed for 本年增/减)",
        "amount": (
            "money figure as printed (fees in 万元, procurement in its unit); decimal(28, 8) in "
            "Parquet, so raw readers see it padded to 8 places (`Decimal('0E-8')` for 0); "
            "`pipeline.load` returns exact Decimals at the printed scale (`0`, `9116.36`) "
            "and the figure as a float in `number`"
        ),
        "unit": "unit printed with the figure, where any",
        "raw": "cell text as printed",
        "semantic": "number, blank (nothing printed), or mark (a printed '/', '—', '无')",
        "row_label": "row label as printed",
        "column_label": "column label as printed",
        "method": (
            "how the figure was read: text (a text layer, the page's markup, a Word table) or "
            "ocr (from an image: kept only when the tables' identities prove it; filter on "
            "it to leave OCR out); empty for facts staged before OCR existed, all from text"
        ),
    },
    "findings": {
        "check": (
            "name of the check: the identities balance, outcome_sum, row_total, review_total; "
            "cross_year_carry (this year's 上年结转 against last year's 结转下年度); or a "
            "structural finding (table_missing, rows_missing, row_incomplete, truncated, "
            "row_unrecognised, label_unmapped, duplicate_row, not_an_integer); for scans, "
            "ocr (info) and ocr_unverified (OCR figures no identity proves, left out)"
        ),
        "status": (
            "pass, fail (the printed figures break the identity), not_assessable (a figure "
            "it needs is blank or missing), warning (a structural finding), info"
        ),
        "table": "table the finding is about, where one",
        "row": "row the finding is about, where one",
        "column": "column the finding is about, where one",
        "expected": "figure the check expected",
        "printed": "figure the report printed",
        "message": "human-readable explanation",
    },
    "pre2019": {
        "position": "the figure's place in the printed table, in reading order (0, 1, ...)",
        "label": (
            "the 指标名称 cell as printed, white space removed, numbering and 其中 kept "
            "(`其中：1.网站公开`)"
        ),
        "numbering": "its numbering as printed (`1.`, `2、`), where any",
        "parent": "for a 其中 item: the label of the row it belongs to",
        "period": "the column heading as printed (`2016年度`, `本年度`, `历年累计`)",
        "period_kind": "what the period means: this_year or cumulative (历年累计)",
        "unit": "the 计量单位 cell as printed (条, 件, 元 ...)",
        "value": "whole figure as printed (nullable)",
        "amount": (
            "a figure that is not a whole number (money), decimal(28, 8) in Parquet; "
            "`pipeline.load.pre2019()` returns exact Decimals at the printed scale"
        ),
        "raw": "cell text as printed",
        "semantic": "number, blank (nothing printed), or mark (a printed '/', '—', '无')",
        "key": (
            "the indicator's canonical key where it recurs nationally "
            "(`pipeline/spec/pre2019.csv`, listed below); empty for other labels"
        ),
    },
}
for _docs in COLUMN_DOCS.values():
    for _name, _text in _SHARED_DOCS.items():
        _docs.setdefault(_name, _text)


def with_metadata(schema: pa.Schema, dataset: str, extractor_versions: list[str]) -> pa.Schema:
    """The schema carrying the dataset name, schema version and extractor version(s)."""
    return schema.with_metadata(
        {
            "pandas": _pandas_metadata(dataset),
            "ogi.dataset": dataset,
            "ogi.schema_version": SCHEMA_VERSION,
            "ogi.extractor_version": ",".join(sorted(set(extractor_versions))),
        }
    )


def full_schema(dataset: str) -> pa.Schema:
    """The dataset's schema as read back, with the ``report_year`` partition column."""
    return DATASETS[dataset].append(PARTITION_FIELD)


@cache
def _pandas_metadata(dataset: str) -> str:
    """pandas' own schema note, so ``pandas.read_parquet`` gives nullable ``Int64`` columns."""
    schema = DATASETS[dataset]
    frame = schema.empty_table().to_pandas(
        types_mapper={pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype()}.get
    )
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    meta = json.loads(table.schema.metadata[b"pandas"])
    for column in meta["columns"]:
        if column["numpy_type"] == "str":
            column["numpy_type"] = "object"
    return json.dumps(meta)


# --------------------------------------------------------------------------- layout
#
# Published files (what plain Parquet readers see): ``<dataset>/report_year=<Y>/part-<b>.parquet``,
# one bucket file per year and bucket ``b`` (:func:`bucket_of`), plus
# ``findings/report_year=<Y>/cross-year.parquet``. A report lives in one bucket file per
# dataset. Only compaction rewrites them, each in one rename.
#
# Pending writes (what :mod:`pipeline.load` adds to them): every staging write appends one
# directory ``_pending/<seq>/`` holding only the reports it wrote, as files named
# ``<dataset>_<seq>_<year>_<chunk>.parquet`` (and ``removed_<seq>_0_0.parquet`` listing the
# report_ids a removal took away). The directory appears in one rename: that is the commit.
# It lies outside the dataset directories, so plain readers never see it; the newest
# version of a report is the one in the highest ``seq``, else the published one.

#: Partition of the reports whose year is unknown (a real null key trips some readers).
UNKNOWN_YEAR = 0

#: Bucket files per year partition; a report always lives in bucket
#: ``int(report_id[0], 16) % BUCKETS``, so each report maps to exactly one file.
BUCKETS = 16

CROSS_YEAR_FILE = "cross-year.parquet"
PENDING_DIR = "_pending"
REMOVED = "removed"
#: Compaction holds it exclusively, readers shared: a reader never sees a half-done compaction.
COMPACT_LOCK = ".compact.lock"


def bucket_of(report_id: str) -> str:
    return format(int(report_id[0], 16) % BUCKETS, "x")


def dataset_dir(data_dir: Path, dataset: str) -> Path:
    return parquet_dir(data_dir) / dataset


def partition_name(year: int | None) -> str:
    return f"report_year={UNKNOWN_YEAR if year is None else int(year)}"


def year_of_partition(name: str) -> int | None:
    value = int(name.split("=", 1)[1])
    return None if value == UNKNOWN_YEAR else value


def partitions(data_dir: Path, dataset: str) -> list[Path]:
    root = dataset_dir(data_dir, dataset)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("report_year="))


def bucket_path(data_dir: Path, dataset: str, year: int | None, bucket: str) -> Path:
    """The published file of ``bucket`` in the ``year`` partition of ``dataset``."""
    return dataset_dir(data_dir, dataset) / partition_name(year) / f"part-{bucket}.parquet"


def published_files(data_dir: Path, dataset: str) -> list[Path]:
    """Every published file of ``dataset`` (names starting with ``.`` are temporaries)."""
    return [
        p
        for part in partitions(data_dir, dataset)
        for p in sorted(part.glob("*.parquet"))
        if not p.name.startswith(".")
    ]


def dict_equals(column: pa.ChunkedArray, key: str) -> pa.ChunkedArray:
    """``column == key`` for a dictionary column, compared on its indices (no decoding);
    null and absent keys compare False."""
    masks = []
    for chunk in column.chunks:
        where = chunk.dictionary.to_pylist()
        if key in where:
            masks.append(pc.equal(chunk.indices, where.index(key)).fill_null(False))
        else:
            masks.append(pa.array(np.zeros(len(chunk), dtype=bool)))
    return pa.chunked_array(masks, type=pa.bool_())


def open_dataset(data_dir: Path, dataset: str) -> ds.Dataset | None:
    """The published files of ``dataset`` with its explicit schema (``None`` if none)."""
    files = [str(p) for p in published_files(data_dir, dataset)]
    if not files:
        return None
    return ds.dataset(
        files,
        schema=full_schema(dataset),
        format="parquet",
        partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
        partition_base_dir=str(dataset_dir(data_dir, dataset)),
    )


# --------------------------------------------------------------------------- pending writes

#: ``<kind>_<seq>_<year>_<chunk>.parquet``: the name says which write and year a file holds.
PENDING_PARTITIONING = ds.FilenamePartitioning(
    pa.schema([("_kind", pa.string()), ("_seq", pa.int64()), PARTITION_FIELD])
)
SEQ_FIELD = pa.field("_seq", pa.int64())
REMOVED_SCHEMA = pa.schema([pa.field("report_id", pa.string(), nullable=False)])
#: One row per version of a report in the pending writes (``_removed``: a tombstone).
VERSIONS_SCHEMA = pa.schema(
    [
        pa.field("report_id", pa.string()),
        SEQ_FIELD,
        PARTITION_FIELD,
        pa.field("_removed", pa.bool_()),
    ]
)


def pending_root(data_dir: Path) -> Path:
    return parquet_dir(data_dir) / PENDING_DIR


def pending_name(kind: str, seq: int, year: int | None, chunk: int) -> str:
    return f"{kind}_{seq}_{UNKNOWN_YEAR if year is None else int(year)}_{chunk}.parquet"


@dataclass(frozen=True, slots=True, order=True)
class Commit:
    """One committed staging write: ``_pending/<seq>/``."""

    seq: int
    path: Path

    def files(self, kind: str) -> list[Path]:
        return sorted(self.path.glob(f"{kind}_*.parquet"))


def commits(data_dir: Path) -> list[Commit]:
    """The committed pending writes, oldest first (hidden names are unfinished writes)."""
    root = pending_root(data_dir)
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(Commit(int(name), root / name) for name in names if name.isdigit())


def _pending_dataset(found: list[Commit], kind: str, schema: pa.Schema) -> ds.Dataset | None:
    files = [str(p) for commit in found for p in commit.files(kind)]
    if not files:
        return None
    return ds.dataset(
        files,
        schema=schema.append(SEQ_FIELD).append(PARTITION_FIELD),
        format="parquet",
        partitioning=PENDING_PARTITIONING,
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The pending writes at one moment: which version of each report they hold.

    ``live`` has one row per report_id some pending write touched: its newest version
    (``_seq``, ``report_year``) or, with ``_removed``, its removal. ``versions`` has them all.
    """

    data_dir: Path
    commits: tuple[Commit, ...]
    versions: pa.Table
    live: pa.Table

    @property
    def touched(self) -> pa.Array:
        """report_ids whose published rows the pending writes replace or remove."""
        return self.live.column("report_id").combine_chunks()

    def kept(self) -> pa.Table:
        """``live`` without the removals."""
        return self.live.filter(pc.invert(self.live.column("_removed")))


def snapshot(data_dir: Path) -> Snapshot:
    found = commits(data_dir)
    if not found:
        empty = VERSIONS_SCHEMA.empty_table()
        return Snapshot(Path(data_dir), (), empty, empty)
    parts = []
    reports = _pending_dataset(found, "reports", pa.schema([REPORTS_SCHEMA.field("report_id")]))
    if reports is not None:
        table = reports.to_table(columns=["report_id", "_seq", "report_year"])
        parts.append(table.append_column("_removed", pa.repeat(False, table.num_rows)))
    removed = _pending_dataset(found, REMOVED, REMOVED_SCHEMA)
    if removed is not None:
        table = removed.to_table(columns=["report_id", "_seq", "report_year"])
        parts.append(table.append_column("_removed", pa.repeat(True, table.num_rows)))
    versions = (
        pa.concat_tables(parts).cast(VERSIONS_SCHEMA) if parts else VERSIONS_SCHEMA.empty_table()
    )
    newest = versions.group_by("report_id").aggregate([("_seq", "max")])
    newest = newest.rename_columns({"_seq_max": "_seq"})
    live = newest.join(versions, keys=["report_id", "_seq"], join_type="inner")
    return Snapshot(Path(data_dir), tuple(found), versions, live.select(VERSIONS_SCHEMA.names))


def _pair_keys(ids: pa.ChunkedArray | pa.Array, seqs: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(
        pc.cast(ids, pa.string()), pc.cast(seqs, pa.string()), "@"
    )


def _year_filter(years: Iterable[int | None] | None) -> ds.Expression | None:
    if years is None:
        return None
    keys = [UNKNOWN_YEAR if y is None else int(y) for y in years]
    return ds.field("report_year").isin(keys)


def _both(a: ds.Expression | None, b: ds.Expression | None) -> ds.Expression | None:
    if a is None:
        return b
    return a if b is None else a & b


def pending_rows(
    snap: Snapshot,
    dataset: str,
    *,
    years: Iterable[int | None] | None = None,
    columns: list[str] | None = None,
    where: ds.Expression | None = None,
    with_seq: bool = False,
) -> pa.Table:
    """The rows of ``dataset`` in the newest pending version of each report (removals and
    older versions left out), with ``report_year``."""
    names = columns or full_schema(dataset).names
    wanted = [*names, "_seq"] if "_seq" not in names else names
    empty = full_schema(dataset).append(SEQ_FIELD).empty_table().select(wanted)
    found = _pending_dataset(list(snap.commits), dataset, DATASETS[dataset])
    if found is None:
        table = empty
    else:
        table = found.to_table(columns=wanted, filter=_both(_year_filter(years), where))
        kept = snap.kept()
        live = _pair_keys(kept.column("report_id"), kept.column("_seq"))
        mask = pc.is_in(
            _pair_keys(table.column("report_id"), table.column("_seq")), value_set=live
        )
        table = table.filter(mask)
    return table if with_seq else table.drop_columns(["_seq"])


def published_rows(
    data_dir: Path,
    dataset: str,
    *,
    years: Iterable[int | None] | None = None,
    columns: list[str] | None = None,
    where: ds.Expression | None = None,
) -> pa.Table:
    found = open_dataset(data_dir, dataset)
    names = columns or full_schema(dataset).names
    if found is None:
        return full_schema(dataset).empty_table().select(names)
    return found.to_table(columns=names, filter=_both(_year_filter(years), where))


def read_live(
    snap: Snapshot,
    dataset: str,
    *,
    years: Iterable[int | None] | None = None,
    columns: list[str] | None = None,
    where: ds.Expression | None = None,
) -> pa.Table:
    """Every live row of ``dataset``: the published rows of the reports no pending write
    touched, and the rows of the newest pending version of the others (``columns`` must
    include ``report_id``). Reports come with their crawl context kept, see
    :func:`keep_context`."""
    years = None if years is None else list(years)
    published = published_rows(snap.data_dir, dataset, years=years, columns=columns, where=where)
    if not snap.commits:
        return published
    untouched = pc.invert(pc.is_in(published.column("report_id"), value_set=snap.touched))
    if dataset != "reports":
        pending = pending_rows(snap, dataset, years=years, columns=columns, where=where)
        return pa.concat_tables([published.filter(untouched), pending])
    pending = pending_rows(snap, dataset, years=years, columns=columns, where=where, with_seq=True)
    pending = keep_context(snap, pending)
    return pa.concat_tables([published.filter(untouched), pending.drop_columns(["_seq"])])


def rows_of(
    snap: Snapshot, dataset: str, year: int | None, ids: Iterable[str], columns: list[str]
) -> pa.Table:
    """The live rows of ``dataset`` of the reports ``ids`` staged in ``year``, read from
    their bucket files and the pending writes only (``columns`` includes report_id)."""
    wanted = pa.array(sorted(set(ids)), pa.string())
    schema = pa.schema([DATASETS[dataset].field(c) for c in columns])
    parts = [schema.empty_table()]
    for bucket in sorted({bucket_of(i) for i in wanted.to_pylist()}):
        path = bucket_path(snap.data_dir, dataset, year, bucket)
        if not path.exists():
            continue
        table = pq.read_table(path, columns=columns)
        rid = table.column("report_id")
        keep = pc.and_(
            pc.is_in(rid, value_set=wanted), pc.invert(pc.is_in(rid, value_set=snap.touched))
        )
        parts.append(table.filter(keep).cast(schema))
    if snap.commits:
        where = ds.field("report_id").isin(wanted)
        pending = pending_rows(snap, dataset, years=[year], columns=columns, where=where)
        parts.append(pending.select(columns).cast(schema))
    return pa.concat_tables(parts)


#: What a reports row staged without a region (``extract URL --stage``) takes from the
#: version it replaces.
CONTEXT = ("region", "region_code", "content_type")


def _without_context(table: pa.Table) -> pa.Array:
    return pc.and_kleene(
        pc.is_null(table.column("region")), pc.is_null(table.column("region_code"))
    ).combine_chunks().fill_null(False)


def keep_context(
    snap: Snapshot, rows: pa.Table, published: pa.Table | None = None
) -> pa.Table:
    """Pending reports ``rows`` (with ``_seq``) staged without a region or region code take
    region, region code and content type from the newest earlier version that had them
    (an earlier pending write, else the published row; ``published``: those rows, when the
    caller has them already)."""
    if rows.num_rows == 0 or not all(c in rows.column_names for c in CONTEXT):
        return rows
    bare = _without_context(rows)
    if not pc.any(bare).as_py():
        return rows
    ids = pc.unique(rows.filter(bare).column("report_id").cast(pa.string()))
    return fill_context(rows, history(snap, ids, published))


_HISTORY_SCHEMA = pa.schema(
    [
        pa.field("report_id", pa.string()),
        *(REPORTS_SCHEMA.field(c) for c in CONTEXT),
        SEQ_FIELD,
    ]
)


def history(snap: Snapshot, ids: pa.Array, published: pa.Table | None = None) -> pa.Table:
    """Every staged version of the reports ``ids``: report_id, :data:`CONTEXT` and ``_seq``
    (0 for the published row), read from their pending writes and bucket files only (or
    taken from ``published``, the published rows with those columns)."""
    columns = ["report_id", *CONTEXT]
    parts = []
    versions = snap.versions.filter(pc.is_in(snap.versions.column("report_id"), value_set=ids))
    pending = _pending_dataset(list(snap.commits), "reports", REPORTS_SCHEMA)
    if pending is not None and len(pc.unique(versions.column("report_id"))) < len(versions):
        where = ds.field("report_id").isin(ids)  # some report has an earlier pending version
        parts.append(pending.to_table(columns=[*columns, "_seq"], filter=where))
    if published is not None:
        old = published.filter(pc.is_in(published.column("report_id"), value_set=ids))
        parts.append(old.select(columns).append_column(SEQ_FIELD, _zeros(old.num_rows)))
    else:
        buckets = {bucket_of(i) for i in ids.to_pylist()}
        for part in partitions(snap.data_dir, "reports"):
            for bucket in sorted(buckets):
                path = part / f"part-{bucket}.parquet"
                if not path.exists():
                    continue
                old = pq.read_table(path, columns=columns)
                old = old.filter(pc.is_in(old.column("report_id"), value_set=ids))
                parts.append(old.append_column(SEQ_FIELD, _zeros(old.num_rows)))
    if not parts:
        return _HISTORY_SCHEMA.empty_table()
    return pa.concat_tables([t.select(_HISTORY_SCHEMA.names).cast(_HISTORY_SCHEMA) for t in parts])


def _zeros(count: int) -> pa.Array:
    return pa.array(np.zeros(count, dtype=np.int64))


def fill_context(rows: pa.Table, history: pa.Table) -> pa.Table:
    """``rows`` (newest versions, with ``_seq``) without region and region code take
    :data:`CONTEXT` from the newest row of ``history`` (older versions, with ``_seq``) of the
    same report that has a region or region code."""
    bare = _without_context(rows).to_pylist()
    if not any(bare) or history.num_rows == 0:
        return rows
    best: dict[str, tuple[int, dict[str, object]]] = {}
    for row in history.to_pylist():
        if row["region"] is None and row["region_code"] is None:
            continue
        rid = str(row["report_id"])
        if rid not in best or row["_seq"] >= best[rid][0]:
            best[rid] = (row["_seq"], row)
    records = rows.to_pylist()
    for record, empty in zip(records, bare, strict=True):
        found = best.get(str(record["report_id"])) if empty else None
        if found is not None and found[0] < record["_seq"]:
            for column in CONTEXT:
                if record[column] is None:
                    record[column] = found[1][column]
    return pa.Table.from_pylist(records, schema=rows.schema)


@contextlib.contextmanager
def reading(data_dir: Path) -> Iterator[None]:
    """Readers share the compaction lock: none sees a compaction half done."""
    try:
        handle = open(parquet_dir(data_dir) / COMPACT_LOCK, "rb")  # noqa: SIM115
    except OSError:  # never compacted (or not ours to lock): nothing can be half done
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- reading


#: Arrow integers as pandas nullable integers, for ``to_pandas(types_mapper=...)``.
NULLABLE_INTEGERS = {
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int16(): pd.Int16Dtype(),
}


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A table as pandas: categorical keys as plain strings, nullable integer columns."""
    plain = pa.schema(
        [
            pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
            for f in table.schema
        ]
    )
    return table.cast(plain).to_pandas(types_mapper=NULLABLE_INTEGERS.get)


_ONE = Decimal(1)


def as_printed(amount: Decimal) -> Decimal:
    """A staged decimal (scale 8) without the padding: ``0``, ``9116.36``, ``251000``."""
    short = amount.normalize()
    return short.quantize(_ONE) if short.as_tuple().exponent > 0 else short  # type: ignore[operator]


# --------------------------------------------------------------------------- datapackage

_FRICTIONLESS_TYPES = {
    "string": "string",
    "int16": "integer",
    "int32": "integer",
    "int64": "integer",
    "double": "number",
    "date32[day]": "date",
    "timestamp[us, tz=UTC]": "datetime",
}
_PRIMARY_KEYS = {
    "reports": ["report_id"],
    "facts": ["report_id", "table", "row", "column"],
    "pre2019": ["report_id", "position"],
}
LICENSE_NOTE = (
    "The figures are taken from government information the publishing bodies disclosed "
    "under the Regulations on the Disclosure of Government Information (政府信息公开条例); "
    "reuse of the source documents is governed by each body's terms. The pipeline's own "
    "code is MIT-licensed."
)


def _field(dataset: str, field: pa.Field) -> dict[str, object]:
    kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    out: dict[str, object] = {
        "name": field.name,
        "type": "number"
        if pa.types.is_decimal(kind)
        else _FRICTIONLESS_TYPES.get(str(kind), "any"),
        "description": COLUMN_DOCS[dataset][field.name],
    }
    if pa.types.is_decimal(kind):
        out["decimalChar"] = "."
        out["description"] = f"{out['description']} (exact decimal: {kind})"
    if not field.nullable:
        out["constraints"] = {"required": True}
    return out


def datapackage(data_dir: Path) -> dict[str, object]:
    """A Frictionless Data Package descriptor of the staged datasets (``datapackage.json``
    beside them): every file, field, type and meaning, the keys, the source's terms."""
    root = parquet_dir(data_dir)
    resources = []
    for name, schema in DATASETS.items():
        files = sorted(
            str(p.relative_to(root))
            for part in partitions(data_dir, name)
            for p in part.glob("*.parquet")
            if not p.name.startswith(".")
        )
        resource: dict[str, object] = {
            "name": name,
            "path": files,
            "format": "parquet",
            "mediatype": "application/vnd.apache.parquet",
            "description": f"hive-partitioned by report_year ({name}/report_year=YYYY/*.parquet)",
            "schema": {
                "fields": [_field(name, f) for f in [*schema, PARTITION_FIELD]],
                **({"primaryKey": _PRIMARY_KEYS[name]} if name in _PRIMARY_KEYS else {}),
                **(
                    {}
                    if name == "reports"
                    else {
                        "foreignKeys": [
                            {
                                "fields": ["report_id"],
                                "reference": {"resource": "reports", "fields": ["report_id"]},
                            }
                        ]
                    }
                ),
            },
        }
        resources.append(resource)
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "gov-ogi-annual-report-figures",
        "title": "Figures of China's government information-disclosure annual reports "
        "(政府信息公开工作年度报告)",
        "version": SCHEMA_VERSION,
        "licenses": [{"name": "other-at", "title": LICENSE_NOTE}],
        "sources": [
            {
                "title": "政府信息公开工作年度报告 published on government portals; every "
                "report's URL is in reports.url, every page as fetched in the raw archive"
            }
        ],
        "resources": resources,
    }


def printed_amounts(column: pd.Series) -> pd.Series:
    """Money figures as exact decimals at the scale they were printed with.

    Parquet stores them as decimal(28, 8), so they read back padded to 8 places
    (``Decimal('0E-8')`` for a zero fee); ``number`` has them as floats.
    """
    present = column.notna().to_numpy()
    if not present.any():
        return column
    out = column.astype("object").copy()
    out[present] = [as_printed(a) for a in column[present]]
    return out
