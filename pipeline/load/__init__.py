"""One-line loading of the staged data for notebooks.

    from pipeline import load
    facts = load.facts()                          # every figure, with report year/agency/region
    apps = load.applications(labels="en")  # wide: report x applicant, one column per outcome
    load.rates(by="report_year")                  # grant rate, share 不掌握, correction rates
    load.findings(status="fail")                  # identity checks that fail

Every call takes ``year=`` (an int or several), ``region=`` (a region name or code; a
name matches as a substring, so ``"衢州"`` finds 浙江省衢州市柯城区) and ``agency=``
(substring) filters, and ``data_dir=`` (default: ``$OGI_DATA_DIR``, else ``./data``).
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from pipeline import canonical
from pipeline.datadir import resolve
from pipeline.datasets import (
    NULLABLE_INTEGERS,
    UNKNOWN_YEAR,
    as_printed,
    dict_equals,
    full_schema,
    open_dataset,
)

Years = int | Iterable[int] | None
Names = str | Iterable[str] | None
DataDir = str | PathLike[str] | None

#: Columns of ``reports`` attached to every facts/findings/wide row.
REPORT_CONTEXT = ("report_year", "region", "region_code", "agency", "title")

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
}


def _as_list(value: Years | Names) -> list | None:
    if value is None:
        return None
    if isinstance(value, str | int):
        return [value]
    return list(value)


def _read(dataset: str, data_dir: Path, years: list[int] | None) -> pa.Table:
    found = open_dataset(data_dir, dataset)
    if found is None:
        return full_schema(dataset).empty_table()
    expr = None
    if years is not None:
        keys = [UNKNOWN_YEAR if y is None else int(y) for y in years]
        expr = ds.field("report_year").isin(keys)
    return found.to_table(filter=expr)


def _only_table(table: pa.Table, name: str) -> pa.Table:
    """Rows whose ``table`` key is ``name``."""
    return table.filter(dict_equals(table.column("table"), name))


def _plain(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas(types_mapper=NULLABLE_INTEGERS.get)  # keys stay categorical
    if "report_year" in frame:
        frame["report_year"] = frame["report_year"].astype("Int16").replace(UNKNOWN_YEAR, pd.NA)
    return frame


def reports(
    *, year: Years = None, region: Names = None, agency: Names = None, data_dir: DataDir = None
) -> pd.DataFrame:
    """One row per staged report (the latest staging of each report_id)."""
    frame = _plain(_read("reports", resolve(data_dir), _as_list(year)))
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
    year: Years,
    region: Names,
    agency: Names,
    data_dir: DataDir,
    table_name: str | None = None,
) -> pd.DataFrame:
    base = resolve(data_dir)
    meta = reports(year=year, region=region, agency=agency, data_dir=base)
    table = _read(dataset, base, _as_list(year))
    if table_name is not None:
        table = _only_table(table, table_name)
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
    frame = _with_context("facts", year, region, agency, data_dir, table)
    frame["amount"] = _amounts(frame["amount"])
    frame["number"] = _number(frame)
    return frame


def _amounts(column: pd.Series) -> pd.Series:
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
    frame = _with_context("findings", year, region, agency, data_dir)
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
    long = facts(table=name, year=year, region=region, agency=agency, data_dir=data_dir)
    order = _order(name, spread)
    entity_order = _order(name, entity)
    wide = _pivot(long, entity, spread, entity_name, entity_order, order, name)
    if labels != "key":
        spread_axis = "row" if spread == "row" else "column"
        entity_axis = "row" if entity == "row" else "column"
        wide = wide.rename(columns=canonical.labels(name, spread_axis, labels))
        entity_labels = canonical.labels(name, entity_axis, labels)
        wide[entity_name] = wide[entity_name].map(lambda k: entity_labels.get(k, k))
    return wide.reset_index(drop=True)


def _positions(column: pd.Series, order: list[str]) -> np.ndarray:
    """Position of each row's key in ``order`` (-1 for keys not in it), via category codes."""
    cat = column.astype("category")
    lookup = np.array([order.index(c) if c in order else -1 for c in cat.cat.categories] + [-1])
    return lookup[cat.cat.codes.to_numpy()]  # code -1 (missing) takes the final -1


def _pivot(
    long: pd.DataFrame,
    entity: str,
    spread: str,
    entity_name: str,
    entity_order: list[str],
    order: list[str],
    name: str,
) -> pd.DataFrame:
    """Long facts to one row per (report, entity) and one column per spread key (numpy)."""
    context = ["report_id", *REPORT_CONTEXT]
    if long.empty:
        return pd.DataFrame(columns=[*context, entity_name, *order])
    ent = _positions(long[entity], entity_order)
    spr = _positions(long[spread], order)
    ok = (ent >= 0) & (spr >= 0)
    reports = long["report_id"].astype("category")
    rep = reports.cat.codes.to_numpy()[ok]
    ent, spr = ent[ok], spr[ok]
    numbers = (long["value"] if name != "active_disclosure" else long["number"]).to_numpy(
        dtype="float64", na_value=np.nan
    )[ok]
    keys, row = np.unique(rep.astype(np.int64) * len(entity_order) + ent, return_inverse=True)
    grid = np.full((len(keys), len(order)), np.nan)
    grid[row, spr] = numbers
    present = np.zeros((len(keys), len(order)), dtype=bool)
    present[row, spr] = True
    used = [i for i in range(len(order)) if present[:, i].any()]
    rep_ids = reports.cat.categories.to_numpy()[keys // len(entity_order)]
    wide = pd.DataFrame({"report_id": rep_ids})
    meta = long.drop_duplicates("report_id").set_index("report_id")
    for column in REPORT_CONTEXT:
        wide[column] = meta[column].reindex(rep_ids).to_numpy()
    wide["report_year"] = wide["report_year"].astype("Int16")
    wide[entity_name] = np.array(entity_order, dtype=object)[keys % len(entity_order)]
    dtype = "Float64" if name == "active_disclosure" else "Int64"
    for i in used:
        wide[order[i]] = pd.array(grid[:, i], dtype="Float64").astype(dtype)
    wide["_rank"] = keys % len(entity_order)
    wide = wide.sort_values(["report_year", "agency", "report_id", "_rank"], kind="stable")
    return wide.drop(columns="_rank").reset_index(drop=True)


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


def rates(
    *,
    by: str | list[str] | None = None,
    year: Years = None,
    region: Names = None,
    agency: Names = None,
    data_dir: DataDir = None,
) -> pd.DataFrame:
    """The derived rates researchers use, per report or summed over ``by`` groups.

    Counts come from the 总计 column; where a report leaves 总计 blank, the sum of the
    applicant columns it does print is used. Rates are NA where the denominator is 0 or
    not printed. See :data:`RATE_DEFINITIONS`.
    """
    meta = reports(year=year, region=region, agency=agency, data_dir=data_dir)
    apps = applications(year=year, region=region, agency=agency, data_dir=data_dir)
    cases = reviews_lawsuits(year=year, region=region, agency=agency, data_dir=data_dir)
    base = meta[["report_id", *REPORT_CONTEXT]].set_index("report_id")
    counts = pd.DataFrame(index=base.index)
    for row in (
        "new_received",
        "carried_over",
        "granted",
        "partially_granted",
        "unavailable_not_held",
        "total_handled",
    ):
        counts[row] = _applicant_total(apps, row).reindex(base.index)
    counts["applications"] = counts["new_received"].add(counts["carried_over"], fill_value=0)
    counts["handled"] = counts["total_handled"]
    counts["granted_or_partly"] = counts["granted"].add(counts["partially_granted"], fill_value=0)
    for prefix, kinds in (
        ("review", ["review"]),
        ("lawsuit", ["lawsuit_direct", "lawsuit_after_review"]),
    ):
        part = cases[cases["case_type"].isin(kinds)] if not cases.empty else cases
        for column in ("corrected", "total", "pending"):
            values = (
                part.groupby("report_id")[column].sum(min_count=1)
                if not part.empty
                else pd.Series(dtype="Int64")
            )
            counts[f"{prefix}_{column}"] = values.reindex(base.index).astype("Float64")
        counts[f"{prefix}s_concluded"] = counts[f"{prefix}_total"] - counts[
            f"{prefix}_pending"
        ].fillna(0)
    counts = counts.rename(
        columns={"review_corrected": "reviews_corrected", "lawsuit_corrected": "lawsuits_corrected"}
    )
    keep = [
        "applications",
        "handled",
        "granted_or_partly",
        "unavailable_not_held",
        "reviews_concluded",
        "reviews_corrected",
        "lawsuits_concluded",
        "lawsuits_corrected",
    ]
    counts = counts[keep].astype("Float64")
    if by is None:
        out = base.join(counts).reset_index()
    else:
        groups = [by] if isinstance(by, str) else list(by)
        out = (
            base[groups].join(counts).groupby(groups, observed=True, dropna=False).sum(min_count=1)
        )
        out.insert(0, "reports", base.groupby(groups, observed=True, dropna=False).size())
        out = out.reset_index()
    out["grant_rate"] = _ratio(out["granted_or_partly"], out["handled"])
    out["not_held_rate"] = _ratio(out["unavailable_not_held"], out["handled"])
    out["review_correction_rate"] = _ratio(out["reviews_corrected"], out["reviews_concluded"])
    out["lawsuit_correction_rate"] = _ratio(out["lawsuits_corrected"], out["lawsuits_concluded"])
    return out


def _applicant_total(apps: pd.DataFrame, row: str) -> pd.Series:
    """Per report: the 总计 figure of ``row``, else the sum of the applicant columns."""
    if apps.empty or row not in apps:
        return pd.Series(dtype="Float64")
    total = apps[apps["applicant"] == "total"].set_index("report_id")[row].astype("Float64")
    parts = apps[apps["applicant"] != "total"].groupby("report_id")[row].sum(min_count=1)
    return total.reindex(total.index.union(parts.index)).fillna(parts.astype("Float64"))


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = numerator.astype("Float64")
    den = denominator.astype("Float64")
    return (num / den.where(den > 0)).astype("Float64")


def dictionary() -> pd.DataFrame:
    """The data dictionary: every canonical figure with labels, unit and formats."""
    return canonical.frame()
