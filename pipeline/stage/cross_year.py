"""Cross-year findings: this year's 上年结转 against last year's 结转下年度 (pure).

For each report of year Y whose agency also has a report for Y-1 (same agency name and
region), every applicant column of ``applications/carried_over`` in Y is compared with
``applications/carried_forward`` in Y-1: ``pass`` when equal, ``fail`` (with expected =
last year's figure and printed = this year's) when not, ``not_assessable`` when only one
side prints a number.
"""

from __future__ import annotations

import pandas as pd

from pipeline.canonical import APPLICANT_COLUMNS
from pipeline.model import FINDING_COLUMNS

CHECK = "cross_year_carry"
FINDING_FIELDS = ("report_id", *FINDING_COLUMNS)


def agency_key(agency: object, region_code: object, region: object) -> str | None:
    """Reports of the same agency share this key; ``None`` when the agency is unknown."""
    if not isinstance(agency, str) or not agency.strip():
        return None
    place = region_code if isinstance(region_code, str) and region_code else region
    place = place if isinstance(place, str) else ""
    return f"{place.strip()}|{''.join(agency.split())}"


def latest_per_agency(reports: pd.DataFrame) -> pd.DataFrame:
    """One report per agency key: the latest published / fetched / extracted."""
    if reports.empty:
        return reports.assign(key=pd.Series(dtype="object"))
    keyed = reports.assign(
        key=[
            agency_key(a, c, r)
            for a, c, r in zip(
                reports["agency"], reports["region_code"], reports["region"], strict=True
            )
        ]
    )
    keyed = keyed[keyed["key"].notna()]
    keyed = keyed.sort_values(["published", "fetched_at", "extracted_at"], na_position="first")
    return keyed.drop_duplicates("key", keep="last")


def _figures(facts: pd.DataFrame, row: str) -> dict[tuple[str, str], int | None]:
    part = facts[(facts["table"] == "applications") & (facts["row"] == row)]
    return {
        (str(rid), str(col)): (None if pd.isna(val) else int(val))
        for rid, col, val in zip(part["report_id"], part["column"], part["value"], strict=True)
    }


def cross_year_findings(
    this_reports: pd.DataFrame,
    this_facts: pd.DataFrame,
    last_reports: pd.DataFrame,
    last_facts: pd.DataFrame,
    year: int,
) -> pd.DataFrame:
    """Findings for the reports of ``year`` (``this_*``) against ``year - 1`` (``last_*``).

    Reports frames need report_id, agency, region, region_code, published, fetched_at,
    extracted_at; facts frames need report_id, table, row, column, value.
    """
    last = latest_per_agency(last_reports)
    previous = dict(zip(last["key"], last["report_id"].astype(str), strict=True))
    over = _figures(this_facts, "carried_over")
    forward = _figures(last_facts, "carried_forward")
    rows: list[dict[str, object]] = []
    for rid, agency, code, region in zip(
        this_reports["report_id"].astype(str),
        this_reports["agency"],
        this_reports["region_code"],
        this_reports["region"],
        strict=True,
    ):
        key = agency_key(agency, code, region)
        prev_id = previous.get(key) if key else None
        if prev_id is None:
            continue
        for column in APPLICANT_COLUMNS:
            now_key, prev_key = (rid, column), (prev_id, column)
            if now_key not in over and prev_key not in forward:
                continue
            printed, expected = over.get(now_key), forward.get(prev_key)
            if printed is None and expected is None:
                continue
            if printed is None or expected is None:
                status = "not_assessable"
            else:
                status = "pass" if printed == expected else "fail"
            rows.append(
                {
                    "report_id": rid,
                    "check": CHECK,
                    "status": status,
                    "table": "applications",
                    "row": "carried_over",
                    "column": column,
                    "expected": None if expected is None else float(expected),
                    "printed": None if printed is None else float(printed),
                    "message": (
                        f"{year} 上年结转 ({column}) = {_show(printed)}; "
                        f"{year - 1} 结转下年度 in report {prev_id} = {_show(expected)}"
                    ),
                }
            )
    return pd.DataFrame(rows, columns=list(FINDING_FIELDS))


def _show(value: int | None) -> str:
    return "not printed" if value is None else str(value)
