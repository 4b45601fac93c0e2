"""One-line loading of the staged data for notebooks.

    from pipeline import load
    facts = load.facts()                          # every figure, with report year/agency/region
    apps = load.applications(labels="en")  # wide: report x applicant, one column per outcome
    load.rates(by="report_year")                  # grant rate, share 不掌握, correction rates
    load.findings(status="fail")                  # identity checks that fail
    load.pre2019(key="applications_received")     # reports on 2008-2018: their 统计表 figures

Every call takes ``year=`` (an int or several), ``region=`` (a region name or code; a
name matches as a substring, so ``"衢州"`` finds 浙江省衢州市柯城区) and ``agency=``
(substring) filters, and ``data_dir=`` (default: ``$OGI_DATA_DIR``, else ``./data``).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline import canonical
from pipeline.datadir import ENV_VAR, resolve
from pipeline.datasets import (
    NULLABLE_INTEGERS,
    UNKNOWN_YEAR,
    Snapshot,
    full_schema,
    printed_amounts,
    published_files,
    read_live,
    reading,
    snapshot,
)
from pipeline.errors import DataDirError
from pipeline.load import live

Years = int | Iterable[int] | None
Names = str | Iterable[str] | None
DataDir = str | PathLike[str] | None

#: Columns of ``reports`` attached to every facts/findings/wide row.
REPORT_CONTEXT = ("report_year", "region", "region_code", "agency", "title")

#: How each count and rate is derived (the data dictionary prints these). Every count is
#: NA for a report whose needed row was not extracted, and so is every rate built on it.
RATE_DEFINITIONS = {
    "applications": "new_received + carried_over (申请总数: 新收 + 上年结转), total column",
    "handled": "total_handled (办结总计), total column",
    "grant_rate": "(granted + partially_granted) / total_handled — 予以公开 + 部分公开 over 办结",
    "not_held_rate": "unavailable_not_held / total_handled — 本机关不掌握 over 办结",
    "reviews_concluded": "review total − pending (行政复议 审结)",
    "review_correction_rate": "review corrected / (review total − pending) — 复议纠错率",
    "lawsuits_concluded": "(lawsuit_direct + lawsuit_after_review) total − pending",
    "lawsuit_correction_rate": (
        "(lawsuit_direct + lawsuit_after_review) corrected / their concluded — 诉讼纠错率"
    ),
    "counts": (
        "a row's 总计 cell, else the sum of the numbers printed in its row (a row printed "
        "with no number counts 0); NA when the row was not extracted"
    ),
    "NA rule": (
        "a rate is NA when any of its parts is NA or its denominator is 0; pooled over `by=` "
        "groups it uses only the reports having both parts (`<rate>_reports` of `n_reports`)"
    ),
}


def _as_list(value: Years | Names) -> list | None:
    if value is None:
        return None
    if isinstance(value, str | int):
        return [value]
    return list(value)


class EmptyDataWarning(UserWarning):
    """The data directory exists but holds no staged data yet."""


def _snapshot(data_dir: Path) -> Snapshot:
    if not data_dir.is_dir():
        raise DataDirError(f"{data_dir}: no such data directory (pass data_dir= or set ${ENV_VAR})")
    return snapshot(data_dir)


_FIGURE_COLUMNS = ["report_id", "table", "row", "column", "value", "amount", "report_year"]


@contextlib.contextmanager
def _figure_views(
    base: Path, warn_for: str, years: list | None, tables: list[str]
) -> Iterator[tuple[Any, str, str]]:
    """A DuckDB session with the live ``reports`` and the figures of ``tables`` as views
    (under the reader lock: no compaction meanwhile); warns when ``warn_for`` is empty."""
    with reading(base):
        snap = _snapshot(base)
        _staged(snap, warn_for)
        with live.session() as session:
            reports_view = live.create_view(session, snap, "reports", years=years)
            facts_view = live.create_view(
                session, snap, "facts", years=years, columns=_FIGURE_COLUMNS, tables=tables
            )
            yield session, reports_view, facts_view


def _staged(snap: Snapshot, dataset: str, stacklevel: int = 5) -> bool:
    """Whether anything of ``dataset`` is staged; warns when not."""
    if snap.commits or published_files(snap.data_dir, dataset):
        return True
    warnings.warn(
        f"{snap.data_dir}: no staged {dataset} yet (run a crawl, or `python -m pipeline demo`)",
        EmptyDataWarning,
        stacklevel=stacklevel,
    )
    return False


def _read(
    dataset: str,
    snap: Snapshot,
    years: list[int] | None,
    *,
    columns: list[str] | None = None,
    where: ds.Expression | None = None,
) -> pa.Table:
    """The live rows of ``dataset``: published files and committed pending writes."""
    if not _staged(snap, dataset):
        names = columns or full_schema(dataset).names
        return full_schema(dataset).empty_table().select(names)
    return read_live(snap, dataset, years=years, columns=columns, where=where)


def _plain(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas(types_mapper=NULLABLE_INTEGERS.get)  # keys stay categorical
    if "report_year" in frame:
        frame["report_year"] = frame["report_year"].astype("Int16").replace(UNKNOWN_YEAR, pd.NA)
    return frame


def reports(
    *, year: Years = None, region: Names = None, agency: Names = None, data_dir: DataDir = None
) -> pd.DataFrame:
    """One row per staged report (the latest staging of each report_id)."""
    base = resolve(data_dir)
    with reading(base):
        return _reports(_snapshot(base), year, region, agency)


def _reports(snap: Snapshot, year: Years, region: Names, agency: Names) -> pd.DataFrame:
    if _staged(snap, "reports"):
        with live.session() as session:  # many small files: DuckDB opens them faster
            view = live.create_view(session, snap, "reports", years=_as_list(year))
            table = live.as_dictionaries(live.fetch(session, f"SELECT * FROM {view}"), "reports")
    else:
        table = full_schema("reports").empty_table()
    frame = _plain(table)
    frame = frame.sort_values("extracted_at").drop_duplicates("report_id", keep="last")
    frame = _filter(frame, _as_list(region), _as_list(agency))
    return frame.sort_values(["report_year", "agency", "report_id"]).reset_index(drop=True)


def _filter(frame: pd.DataFrame, regions: list | None, agencies: list | None) -> pd.DataFrame:
    if regions:
        name = frame["region"].astype("string").fillna("")
        code = frame["region_code"].astype("string").fillna("")
        mask = pd.Series(False, index=frame.index)
        for wanted in regions:
            wanted = str(wanted)
            mask |= (code == wanted) | name.str.contains(wanted, regex=False)
        frame = frame[mask]
    if agencies:
        text = frame["agency"].astype("string").fillna("")
        mask = pd.Series(False, index=frame.index)
        for wanted in agencies:
            mask |= text.str.contains(str(wanted), regex=False)
        frame = frame[mask]
    return frame


def _with_context(
    dataset: str,
    snap: Snapshot,
    year: Years,
    region: Names,
    agency: Names,
    table_name: str | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    meta = _reports(snap, year, region, agency)
    where = None if table_name is None else ds.field("table") == table_name
    table = _read(dataset, snap, _as_list(year), columns=columns, where=where)
    frame = _plain(table)
    # Keep only rows of the reports kept above (filters, and the partition of the latest
    # copy of a report, should a crash have left an older copy in another year).
    wanted_year = dict(zip(meta["report_id"], meta["report_year"].fillna(-1), strict=True))
    ids = frame["report_id"].astype("category")
    year_of = ids.map(wanted_year)
    keep = year_of.notna().to_numpy() & (
        year_of.astype("float").to_numpy() == frame["report_year"].astype("float").fillna(-1)
    )
    frame = frame[keep].reset_index(drop=True)
    ids = frame["report_id"].astype("category")
    frame["report_id"] = ids
    lookup = meta.set_index("report_id")
    for column in REPORT_CONTEXT:
        if column == "report_year":
            continue
        mapping = lookup[column].astype("object").to_dict()
        mapped = ids.map(mapping) if len(ids) else pd.Series([], dtype="object")
        frame[column] = mapped.astype("category")
    front = ["report_id", *REPORT_CONTEXT]
    return frame[front + [c for c in frame.columns if c not in front]].reset_index(drop=True)


def facts(
    *,
    table: str | None = None,
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """Every staged figure (long form), with the report's year, region and agency."""
    base = resolve(data_dir)
    with reading(base):
        return _facts(_snapshot(base), table, year, region, agency)


def _facts(
    snap: Snapshot,
    table: str | None,
    year: Years,
    region: Names,
    agency: Names,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    frame = _with_context("facts", snap, year, region, agency, table, columns)
    frame["amount"] = printed_amounts(frame["amount"])
    frame["number"] = _number(frame)
    return frame


def _number(frame: pd.DataFrame) -> pd.Series:
    """The figure whatever its type, as a float (money decimals included)."""
    number = frame["value"].astype("Float64")
    has_amount = frame["amount"].notna().to_numpy()
    if has_amount.any():
        number[has_amount] = [float(a) for a in frame["amount"][has_amount]]
    return number


def findings(
    *,
    check: str | None = None,
    status: str | None = None,
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """Identity checks, structural findings and cross-year checks (``cross_year_carry``)."""
    base = resolve(data_dir)
    with reading(base):
        frame = _with_context("findings", _snapshot(base), year, region, agency)
    if check is not None:
        frame = frame[frame["check"].astype("string") == check]
    if status is not None:
        frame = frame[frame["status"].astype("string") == status]
    return frame.reset_index(drop=True)


#: For each table: which key is the "entity" of a wide row, which spreads into columns.
_WIDE = {
    "applications": ("column", "row", "applicant"),
    "reviews_lawsuits": ("row", "column", "case_type"),
    "active_disclosure": ("row", "column", "item"),
}


def table(
    name: str,
    *,
    labels: str = "key",
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """One statistical table in wide form.

    - ``applications``: one row per report and applicant type, one column per outcome;
    - ``reviews_lawsuits``: one row per report and case type, one column per result;
    - ``active_disclosure``: one row per report and item, one column per measure.

    ``labels``: ``"key"`` (stable English keys, default), ``"en"`` or ``"zh"`` to name the
    figure columns and the entity values by their English or Chinese labels.
    """
    if name not in _WIDE:
        raise ValueError(f"unknown table {name!r}; one of {', '.join(_WIDE)}")
    if labels not in ("key", "en", "zh"):
        raise ValueError("labels must be 'key', 'en' or 'zh'")
    entity, spread, entity_name = _WIDE[name]
    order, entity_order = _order(name, spread), _order(name, entity)
    base = resolve(data_dir)
    years = _as_list(year)
    where, params = _where(_as_list(region), _as_list(agency))
    with _figure_views(base, "facts", years, [name]) as (session, reports_view, facts_view):
        sql = _wide_sql(reports_view, facts_view, where, name, order, entity_order)
        result = live.fetch(session, sql, params)
    wide = _wide_frame(result, order, entity_name)
    if labels != "key":
        spread_axis = "row" if spread == "row" else "column"
        entity_axis = "row" if entity == "row" else "column"
        wide = wide.rename(columns=canonical.labels(name, spread_axis, labels))
        entity_labels = canonical.labels(name, entity_axis, labels)
        wide[entity_name] = wide[entity_name].map(lambda k: entity_labels.get(k, k))
    return wide.reset_index(drop=True)


def _strings(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _meta_sql(reports: str, where: str) -> str:
    """SQL: the reports kept (filters, the latest copy of each), year NULL where unknown."""
    return f"""
    meta AS (
      SELECT * REPLACE (nullif(report_year, 0) AS report_year) FROM {reports}
      WHERE {where}
      QUALIFY row_number() OVER (PARTITION BY report_id ORDER BY extracted_at DESC NULLS FIRST) = 1
    )"""


def _wide_sql(
    reports: str, facts: str, where: str, name: str, order: list[str], entity_order: list[str]
) -> str:
    """One row per report and entity, one column per spread key (and ``_has_<key>``: whether
    any kept report prints it), in the order of :func:`reports` and the canonical fields."""
    entity, spread, entity_name = _WIDE[name]
    figure = (
        "coalesce(CAST(value AS DOUBLE), CAST(amount AS DOUBLE))"
        if name == "active_disclosure"
        else "value"
    )
    cells = ", ".join(
        f"max(x) FILTER (WHERE s = '{key}') AS \"{key}\", bool_or(s = '{key}') AS \"_has_{key}\""
        for key in order
    )
    keys = ", ".join(f'w."{k}", w."_has_{k}"' for k in order)
    context = ", ".join(f"m.{c}" for c in REPORT_CONTEXT)
    return f"""
    WITH {_meta_sql(reports, where)},
    f AS (
      SELECT report_id, report_year, "{entity}" AS e, "{spread}" AS s, {figure} AS x
      FROM {facts}
      WHERE "{entity}" IN ({_strings(entity_order)}) AND "{spread}" IN ({_strings(order)})
    ),
    w AS (SELECT report_id, report_year, e, {cells} FROM f GROUP BY report_id, report_year, e)
    SELECT w.report_id, {context}, w.e AS "{entity_name}", {keys}
    FROM w JOIN meta m
      ON w.report_id = m.report_id AND w.report_year = coalesce(m.report_year, 0)
    ORDER BY m.report_year NULLS LAST, m.agency NULLS LAST, w.report_id,
      list_position([{_strings(entity_order)}], w.e)
    """


def _wide_frame(result: pa.Table, order: list[str], entity_name: str) -> pd.DataFrame:
    """The query's result as pandas: nullable numbers, only the columns some report prints."""
    if result.num_rows == 0:
        return pd.DataFrame(columns=["report_id", *REPORT_CONTEXT, entity_name, *order])
    used = [k for k in order if pc.any(result.column(f"_has_{k}")).as_py()]
    result = result.select(["report_id", *REPORT_CONTEXT, entity_name, *used])
    return result.to_pandas(
        types_mapper={
            pa.int64(): pd.Int64Dtype(),
            pa.float64(): pd.Float64Dtype(),
            pa.int16(): pd.Int16Dtype(),
        }.get
    )


def _order(name: str, axis: str) -> list[str]:
    seen: dict[str, None] = {}
    for field in canonical.fields():
        if field.table == name:
            seen[field.row if axis == "row" else field.column] = None
    return list(seen)


def applications(
    *,
    labels: str = "key",
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """``table("applications", ...)``."""
    return table(
        "applications", labels=labels, year=year, region=region, agency=agency, data_dir=data_dir
    )


def reviews_lawsuits(
    *,
    labels: str = "key",
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """``table("reviews_lawsuits", ...)``."""
    return table(
        "reviews_lawsuits",
        labels=labels,
        year=year,
        region=region,
        agency=agency,
        data_dir=data_dir,
    )


def active_disclosure(
    *,
    labels: str = "key",
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """``table("active_disclosure", ...)``."""
    return table(
        "active_disclosure",
        labels=labels,
        year=year,
        region=region,
        agency=agency,
        data_dir=data_dir,
    )


#: The case types of Table 4 behind the review and lawsuit counts.
_CASE_TYPES = {"review": ("review",), "lawsuit": ("lawsuit_direct", "lawsuit_after_review")}
#: rate -> (numerator count, denominator count)
RATES = {
    "grant_rate": ("granted_or_partly", "handled"),
    "not_held_rate": ("unavailable_not_held", "handled"),
    "review_correction_rate": ("reviews_corrected", "reviews_concluded"),
    "lawsuit_correction_rate": ("lawsuits_corrected", "lawsuits_concluded"),
}
COUNTS = (
    "applications",
    "handled",
    "granted_or_partly",
    "unavailable_not_held",
    "reviews_concluded",
    "reviews_corrected",
    "lawsuits_concluded",
    "lawsuits_corrected",
)


def rates(
    *,
    by: str | list[str] | None = None,
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """The derived rates researchers use, per report or pooled over ``by`` groups.

    A count comes from a row's 总计 cell; where 总计 is blank, from the sum of the numbers
    in the row's other cells (a row printed with no number counts 0). A row the extractor
    did not find is missing, and so is every count and rate that needs it: a rate is NA
    when any of its parts is missing or its denominator is 0. Pooled over ``by`` (any
    column of :func:`reports`), each rate uses only the reports that have both its parts;
    ``<rate>_reports`` says how many went in, ``n_reports`` how many the group has. See
    :data:`RATE_DEFINITIONS`.
    """
    groups = [] if by is None else [by] if isinstance(by, str) else list(by)
    columns = full_schema("reports").names
    unknown = [g for g in groups if g not in columns]
    if unknown:
        raise ValueError(
            f"rates(by=...): {', '.join(map(repr, unknown))} is not a column of the "
            f"reports; use any of: {', '.join(columns)}"
        )
    base = resolve(data_dir)
    years = _as_list(year)
    where, params = _where(_as_list(region), _as_list(agency))
    tables = ["applications", "reviews_lawsuits"]
    with _figure_views(base, "reports", years, tables) as (session, reports_view, facts_view):
        sql = _rates_sql(reports_view, facts_view, where, groups)
        table = live.fetch(session, sql, params)
    return _rates_frame(table)


def _where(regions: list | None, agencies: list | None) -> tuple[str, list[object]]:
    """SQL filter of the reports (as :func:`_filter`: a region name matches as a substring,
    a code exactly; an agency as a substring), and its parameters."""
    clauses: list[str] = []
    params: list[object] = []
    if regions:
        one = "(coalesce(region_code, '') = ? OR contains(coalesce(region, ''), ?))"
        clauses.append("(" + " OR ".join([one] * len(regions)) + ")")
        params += [str(w) for r in regions for w in (r, r)]
    if agencies:
        one = "contains(coalesce(agency, ''), ?)"
        clauses.append("(" + " OR ".join([one] * len(agencies)) + ")")
        params += [str(a) for a in agencies]
    return (" AND ".join(clauses) or "TRUE"), params


def _count(table: str, row: str, what: str = "total") -> str:
    """SQL: a report's ``what`` count of one row (NULL when the report does not print it)."""
    return f"max({what}) FILTER (WHERE t = '{table}' AND r = '{row}')"


def _cases(kind: str, what: str) -> str:
    """SQL: a case type's count, summed over its rows (NULL when one is missing)."""
    return " + ".join(_count("reviews_lawsuits", row, what) for row in _CASE_TYPES[kind])


#: Per report and row: its total (the 总计 cell, else the sum of the row's other numbers,
#: 0 when it prints none), pending and corrected; then per report the counts of COUNTS.
_COUNTS_SQL = f"""
per_row AS (
  SELECT report_id, "table" AS t, "row" AS r,
    coalesce(sum(number) FILTER (WHERE c = 'total'),
             coalesce(sum(number) FILTER (WHERE c <> 'total'), 0)) AS total,
    coalesce(sum(number) FILTER (WHERE c = 'pending'), 0) AS pending,
    coalesce(sum(number) FILTER (WHERE c = 'corrected'), 0) AS corrected
  FROM (
    SELECT report_id, "table", "row", "column" AS c,
           coalesce(CAST(value AS DOUBLE), CAST(amount AS DOUBLE)) AS number
    FROM {{facts}}
  )
  GROUP BY 1, 2, 3
),
counts AS (
  SELECT report_id,
    {_count("applications", "new_received")} + {_count("applications", "carried_over")}
      AS applications,
    {_count("applications", "total_handled")} AS handled,
    {_count("applications", "granted")} + {_count("applications", "partially_granted")}
      AS granted_or_partly,
    {_count("applications", "unavailable_not_held")} AS unavailable_not_held,
    ({_cases("review", "total")}) - ({_cases("review", "pending")}) AS reviews_concluded,
    {_cases("review", "corrected")} AS reviews_corrected,
    ({_cases("lawsuit", "total")}) - ({_cases("lawsuit", "pending")}) AS lawsuits_concluded,
    {_cases("lawsuit", "corrected")} AS lawsuits_corrected
  FROM per_row GROUP BY report_id
)"""


def _rates_sql(reports: str, facts: str, where: str, groups: list[str]) -> str:
    """One query: the reports kept (filters, latest copy), their counts, and the rates per
    report or pooled over ``groups`` (the rules of :data:`RATE_DEFINITIONS`)."""
    head = f"""
    WITH {_meta_sql(reports, where)},
    {_COUNTS_SQL.format(facts=facts)},
    joined AS (SELECT * FROM meta LEFT JOIN counts USING (report_id))
    """
    if not groups:
        context = ", ".join(f'"{c}"' for c in ["report_id", *REPORT_CONTEXT])
        rates = ", ".join(
            f"CASE WHEN {d} > 0 THEN {n} / {d} END AS {rate}" for rate, (n, d) in RATES.items()
        )
        order = "report_year NULLS LAST, agency NULLS LAST, report_id"
        return f"{head} SELECT {context}, {', '.join(COUNTS)}, {rates} FROM joined ORDER BY {order}"
    keys = ", ".join(f'"{g}"' for g in groups)
    sums = ", ".join(f"sum({c}) AS {c}" for c in COUNTS)
    pooled = []
    for rate, (n, d) in RATES.items():
        both = f"FILTER (WHERE {n} IS NOT NULL AND {d} IS NOT NULL)"
        pooled.append(
            f"CASE WHEN sum({d}) {both} > 0 THEN sum({n}) {both} / sum({d}) {both} END AS {rate}"
        )
        pooled.append(f"count(*) {both} AS {rate}_reports")
    order = ", ".join(f'"{g}" NULLS LAST' for g in groups)
    return (
        f"{head} SELECT {keys}, count(*) AS n_reports, {sums}, {', '.join(pooled)} "
        f"FROM joined GROUP BY {keys} ORDER BY {order}"
    )


def _rates_frame(table: pa.Table) -> pd.DataFrame:
    """The query's result as pandas: nullable numbers, categorical keys as :func:`reports`
    gives them."""
    frame = table.to_pandas(
        types_mapper={
            pa.float64(): pd.Float64Dtype(),
            pa.int16(): pd.Int16Dtype(),
        }.get
    )
    schema = full_schema("reports")
    for name in frame.columns:
        if name in schema.names and pa.types.is_dictionary(schema.field(name).type):
            frame[name] = frame[name].astype("category")
        elif name in COUNTS or name in RATES:
            frame[name] = frame[name].astype("Float64")
    return frame


def dictionary() -> pd.DataFrame:
    """The data dictionary: every canonical figure with labels, unit and formats."""
    return canonical.frame()


def pre2019_dictionary() -> pd.DataFrame:
    """The canonical keys of :func:`pre2019` (key, label_zh, label_en, notes)."""
    return canonical.pre2019_frame()


# --------------------------------------------------------------------------- pre-2019

PERIOD_KINDS = ("this_year", "cumulative")


def pre2019(
    *,
    key: Names = None,
    period_kind: str | None = None,
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """The figures of the pre-2019 statistics tables (政府信息公开情况统计表 of the reports
    on 2008–2018), long form: one row per printed figure with its label, numbering,
    parent, period, unit and canonical key, and the report's year, region and agency;
    each report's figures in printed order (``position``).

    ``key``: one or several keys of ``pipeline/spec/pre2019.csv`` (see
    :func:`pre2019_dictionary`; figures whose label has no key are left out then);
    ``period_kind``: ``"this_year"`` (本年度, "2016年度") or ``"cumulative"`` (历年累计).
    ``amount`` holds exact Decimals as printed, ``number`` every figure as a float.
    """
    keys = _as_list(key)
    known = [k.key for k in canonical.pre2019_keys()]
    unknown = sorted(set(map(str, keys or [])) - set(known))
    if unknown:
        raise ValueError(f"unknown pre-2019 key {', '.join(map(repr, unknown))}; one of {known}")
    if period_kind is not None and period_kind not in PERIOD_KINDS:
        raise ValueError(f"period_kind must be one of {', '.join(PERIOD_KINDS)}")
    base = resolve(data_dir)
    years = _as_list(year)
    where, params = _where(_as_list(region), _as_list(agency))
    with reading(base):
        snap = _snapshot(base)
        _staged(snap, "reports", stacklevel=3)
        with live.session() as session:
            reports_view = live.create_view(session, snap, "reports", years=years)
            figures_view = live.create_view(session, snap, "pre2019", years=years)
            sql, more = _pre2019_sql(reports_view, figures_view, where, keys, period_kind)
            table = live.fetch(session, sql, params + more)
    return _pre2019_frame(table)


def _pre2019_sql(
    reports: str, figures: str, where: str, keys: list | None, period_kind: str | None
) -> tuple[str, list[object]]:
    """One query: the reports kept (filters, latest copy) and their figures; its extra
    parameters (keys, period kind)."""
    clauses, params = ["TRUE"], list[object]()
    if keys:
        clauses.append(f'p."key" IN ({", ".join("?" * len(keys))})')
        params += [str(k) for k in keys]
    if period_kind is not None:
        clauses.append("p.period_kind = ?")
        params.append(period_kind)
    context = ", ".join(f"m.{c}" for c in REPORT_CONTEXT)
    sql = f"""
    WITH {_meta_sql(reports, where)}
    SELECT p.report_id, {context}, p.* EXCLUDE (report_id, report_year)
    FROM {figures} p JOIN meta m
      ON p.report_id = m.report_id AND p.report_year = coalesce(m.report_year, 0)
    WHERE {" AND ".join(clauses)}
    ORDER BY m.report_year NULLS LAST, m.agency NULLS LAST, p.report_id, p.position
    """
    return sql, params


def _pre2019_frame(table: pa.Table) -> pd.DataFrame:
    """The query's result as pandas: keys and labels categorical (as :func:`facts` gives
    them), nullable integers, amounts as printed, ``number``."""
    frame = table.to_pandas(types_mapper=NULLABLE_INTEGERS.get)
    schema = full_schema("pre2019")
    for name in frame.columns:
        typed = name in schema.names and pa.types.is_dictionary(schema.field(name).type)
        if typed or name in REPORT_CONTEXT[1:]:
            frame[name] = frame[name].astype("category")
    frame["amount"] = printed_amounts(frame["amount"])
    frame["number"] = _number(frame)
    return frame
