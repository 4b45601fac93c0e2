"""The staged Parquet datasets: their explicit Arrow schemas and their layout on disk,
shared by the writer (:mod:`pipeline.stage`) and the readers (:mod:`pipeline.load`).

Three datasets live under ``<data dir>/parquet/``: ``reports`` (one row per report),
``facts`` (one row per printed figure) and ``findings`` (identity checks and structural
observations, cross-year checks included). Each is hive-partitioned by ``report_year``
(``report_year=2023/``; ``report_year=0`` where the year is unknown), so the year lives in
the directory name, not in the files.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline.datadir import parquet_dir

#: Bumped whenever a column is added, removed or changes type.
SCHEMA_VERSION = "2"

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

DATASETS: dict[str, pa.Schema] = {
    "reports": REPORTS_SCHEMA,
    "facts": FACTS_SCHEMA,
    "findings": FINDINGS_SCHEMA,
}

#: What each column means, per dataset (the data dictionary and datapackage.json).
_SHARED_DOCS = {
    "report_id": "16 hex digits of SHA-256 of the report URL; joins the three datasets",
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
            "found: see its warnings), no_tables, image_only (the tables are printed as "
            "images), unreadable (encrypted, damaged, converter missing, unsupported format)"
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
    },
    "findings": {
        "check": (
            "name of the check: the identities balance, outcome_sum, row_total, review_total; "
            "cross_year_carry (this year's 上年结转 against last year's 结转下年度); or a "
            "structural finding (table_missing, rows_missing, row_incomplete, truncated, "
            "row_unrecognised, label_unmapped, duplicate_row, not_an_integer)"
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

#: Partition of the reports whose year is unknown (a real null key trips some readers).
UNKNOWN_YEAR = 0


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
    """The dataset with its explicit schema, or ``None`` if nothing is staged yet."""
    root = dataset_dir(data_dir, dataset)
    files = [
        str(p)
        for part in partitions(data_dir, dataset)
        for p in sorted(part.glob("*.parquet"))
        if not p.name.startswith(".")
    ]
    if not files:
        return None
    return ds.dataset(
        files,
        schema=full_schema(dataset),
        format="parquet",
        partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
        partition_base_dir=str(root),
    )


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
