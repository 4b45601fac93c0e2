"""Staging and loading benchmark (run on demand, not a test): prints figures, asserts nothing
timed.

Stages N synthetic 2021-format reports (200 figures each, spread over 7 report years; with
``--pre2019-every K`` every K-th one is a report on 2011-2018 with a 50-figure pre-2019
统计表 instead, staged in the fourth dataset) into a fresh data directory in one
``stage_reports`` batch (then compacts, as the end of a crawl does), re-stages some in
batches of 500 (the crawler's call) and some one at a time (``stage_report``, what
``extract URL --stage`` calls). Each one-at-a-time re-stage is interleaved with the floor it
is compared with: writing that report's own rows (its three small Parquet files, four with
a pre-2019 table; zstd, fsync'd and renamed into place) — medians of both are printed, and
their ratio. Then the one-line loads are timed against the equivalent DuckDB query on the
same files (interleaved, medians of ``--repeats``) and their results compared.

    .venv/bin/python benchmarks/bench_stage.py [--reports N] [--batches N] [--single N]
        [--repeats N] [--no-load] [--data-dir DIR] [--pre2019-every K]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.synthetic

from pipeline import load, stage
from pipeline.model import Report
from pipeline.stage import BATCH_SIZE as STAGE_BATCH
from pipeline.stage import StageItem, stage_report, stage_reports
from pipeline.stage.convert import facts_table, findings_table, pre2019_table, reports_table
from tests.synthetic import synthetic_pre2019_report, synthetic_report, synthetic_url

YEARS = range(2019, 2026)
OLD_YEARS = range(2011, 2019)
#: Every PRE2019_EVERY-th report is a pre-2019 one (0: none); set by ``--pre2019-every``.
PRE2019_EVERY = 0
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)
COMPACT: Callable[[Path], object] | None = getattr(stage, "compact", None)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(number: int, bump: int = 0) -> Report:
    if PRE2019_EVERY and number % PRE2019_EVERY == 0:
        return synthetic_pre2019_report(number, OLD_YEARS[number % len(OLD_YEARS)], bump=bump)
    return synthetic_report(number, YEARS[number % len(YEARS)], bump=bump)


def item(number: int, bump: int = 0, region: bool = True) -> StageItem:
    return StageItem(
        report=report(number, bump),
        url=synthetic_url(number),
        region=f"合成省{number % 31}" if region else None,
        region_code=f"{110000 + number % 31 * 10000}" if region else None,
        fetched_at=FETCHED,
    )


def items(count: int) -> Iterator[StageItem]:
    for number in range(count):
        yield item(number)


def write_own_rows(directory: Path, one: StageItem) -> None:
    """The floor: the report's rows written as new files (one per dataset it has rows in:
    three, four with a pre-2019 table), atomically and durably."""
    for name, table in (
        ("facts", facts_table([one])),
        ("findings", findings_table([one])),
        ("reports", reports_table([one], FETCHED)),
        ("pre2019", pre2019_table([one])),
    ):
        if name == "pre2019" and table.num_rows == 0:  # what staging writes: nothing
            continue
        final = directory / f"{name}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = final.with_name(f".{final.name}.tmp")
        with open(tmp, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        fd = os.open(directory, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument(
        "--batches", type=int, default=2, help=f"re-staging batches of {STAGE_BATCH} (crawler)"
    )
    parser.add_argument("--single", type=int, default=60, help="one-at-a-time re-stagings")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each load (medians)")
    parser.add_argument("--no-load", action="store_true", help="skip the load timings")
    parser.add_argument("--data-dir", type=Path, help="default: a temporary directory")
    parser.add_argument(
        "--pre2019-every", type=int, default=0, help="every K-th report is a pre-2019 one"
    )
    args = parser.parse_args()
    global PRE2019_EVERY
    PRE2019_EVERY = args.pre2019_every
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-stage-"))
    try:
        run_stage(data_dir, args.reports, args.batches, args.single)
        if not args.no_load:
            run_load(data_dir, args.repeats)
        print(f"peak RSS overall: {peak_rss_mib():,.0f} MiB")
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)


def run_stage(data_dir: Path, count: int, batches: int, single: int) -> None:
    old = sum(1 for n in range(count) if PRE2019_EVERY and n % PRE2019_EVERY == 0)
    rows = (count - old) * len(synthetic_report(0, 2020).fact_list)
    figures = old * len(synthetic_pre2019_report(0, 2012).pre2019_list)
    print(f"reports: {count:,}  fact rows: {rows:,}  pre-2019 reports: {old:,}, rows {figures:,}")
    seconds, _ = timed(lambda: stage_reports(data_dir, items(count)))
    print(f"batch stage: {seconds:.1f} s, {count / seconds:,.0f} reports/s")
    if COMPACT is not None:
        seconds, _ = timed(lambda: COMPACT(data_dir))
        print(f"compact after the batch: {seconds:.1f} s")
    _on_disk(data_dir)

    batches = min(batches, count // STAGE_BATCH)
    per_batch = []
    for batch in range(batches):
        numbers = range(batch * STAGE_BATCH, (batch + 1) * STAGE_BATCH)
        seconds, _ = timed(lambda n=numbers: stage_reports(data_dir, (item(i, 1) for i in n)))
        per_batch.append(seconds)
    if per_batch:
        per = statistics.median(per_batch)
        print(
            f"re-stage in batches of {STAGE_BATCH} (the crawler's call): median {per:.2f} s "
            f"per batch, {per / STAGE_BATCH * 1000:.1f} ms per report"
        )

    floor_dir = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    restage, floor = [], []
    try:
        for number in range(single):
            one = item(count - 1 - number, 2, region=False)  # extract --stage: no region
            seconds, _ = timed(
                lambda o=one: stage_report(
                    data_dir,
                    o.report,
                    url=o.url,
                    region=None,
                    region_code=None,
                    fetched_at=FETCHED,
                )
            )
            restage.append(seconds)
            seconds, _ = timed(lambda o=one: write_own_rows(floor_dir, o))
            floor.append(seconds)
    finally:
        shutil.rmtree(floor_dir, ignore_errors=True)
    if single:
        mine, base = statistics.median(restage) * 1000, statistics.median(floor) * 1000
        print(
            f"one-at-a-time re-stage: median {mine:.1f} ms per report (mean "
            f"{statistics.mean(restage) * 1000:.1f}); writing its own rows: median {base:.1f} ms;"
            f" ratio {mine / base:.2f}"
        )
    if COMPACT is not None:
        seconds, _ = timed(lambda: COMPACT(data_dir))
        print(f"compact after the re-stagings: {seconds:.2f} s")


def _on_disk(data_dir: Path) -> None:
    files = list((data_dir / "parquet").rglob("*.parquet"))
    size = sum(p.stat().st_size for p in files)
    print(f"{size / 2**20:,.1f} MiB on disk in {len(files)} files; peak RSS {peak_rss_mib():,.0f}")


# --------------------------------------------------------------------------- loading


def _glob(data_dir: Path, dataset: str) -> str:
    return f"read_parquet('{data_dir}/parquet/{dataset}/**/*.parquet', hive_partitioning=true)"


def duck_facts(data_dir: Path, arrow: bool = False) -> pd.DataFrame:
    query = duckdb.sql(
        f"""
        SELECT f.report_id, nullif(f.report_year, 0) AS report_year, r.region, r.region_code,
               r.agency, r.title, f.* EXCLUDE (report_id, report_year),
               coalesce(CAST(f.value AS DOUBLE), CAST(f.amount AS DOUBLE)) AS number
        FROM {_glob(data_dir, "facts")} f JOIN {_glob(data_dir, "reports")} r
          USING (report_id, report_year)
        """
    )
    return query.to_arrow_table() if arrow else query.df()


def duck_applications(data_dir: Path) -> pd.DataFrame:
    return duckdb.sql(
        f"""
        WITH wide AS (
          PIVOT (SELECT report_id, report_year, "column" AS applicant, "row", value
                 FROM {_glob(data_dir, "facts")} WHERE "table" = 'applications')
          ON "row" USING first(value) GROUP BY report_id, report_year, applicant
        )
        SELECT w.report_id, nullif(w.report_year, 0) AS report_year, r.region, r.region_code,
               r.agency, r.title, w.* EXCLUDE (report_id, report_year)
        FROM wide w JOIN {_glob(data_dir, "reports")} r USING (report_id, report_year)
        """
    ).df()


_COUNT = "max(total) FILTER (WHERE t = '{t}' AND r = '{r}')"


def duck_rates(data_dir: Path) -> pd.DataFrame:
    """Per report the counts behind the rates, pooled by report year (the rules of
    ``load.RATE_DEFINITIONS``), in one query."""

    def count(t: str, r: str, what: str = "total") -> str:
        return f"max({what}) FILTER (WHERE t = '{t}' AND r = '{r}')"

    apps = {n: count("applications", n) for n in (
        "new_received", "carried_over", "granted", "partially_granted",
        "unavailable_not_held", "total_handled")}
    case = {
        (kind, what): count("reviews_lawsuits", kind, what)
        for kind in ("review", "lawsuit_direct", "lawsuit_after_review")
        for what in ("total", "pending", "corrected")
    }
    rates = {
        "grant_rate": ("granted_or_partly", "handled"),
        "not_held_rate": ("unavailable_not_held", "handled"),
        "review_correction_rate": ("reviews_corrected", "reviews_concluded"),
        "lawsuit_correction_rate": ("lawsuits_corrected", "lawsuits_concluded"),
    }
    pooled = ",\n".join(
        f"sum({n}) FILTER (WHERE {n} IS NOT NULL AND {d} IS NOT NULL) / "
        f"nullif(greatest(sum({d}) FILTER (WHERE {n} IS NOT NULL AND {d} IS NOT NULL), 0), 0)"
        f" AS {rate},\n count(*) FILTER (WHERE {n} IS NOT NULL AND {d} IS NOT NULL)"
        f" AS {rate}_reports"
        for rate, (n, d) in rates.items()
    )
    return duckdb.sql(
        f"""
        WITH f AS (
          SELECT report_id, "table" AS t, "row" AS r, "column" AS c,
                 coalesce(CAST(value AS DOUBLE), CAST(amount AS DOUBLE)) AS number
          FROM {_glob(data_dir, "facts")}
          WHERE "table" IN ('applications', 'reviews_lawsuits')
        ), per_row AS (
          SELECT report_id, t, r,
                 coalesce(sum(number) FILTER (WHERE c = 'total'),
                          coalesce(sum(number) FILTER (WHERE c <> 'total'), 0)) AS total,
                 coalesce(sum(number) FILTER (WHERE c = 'pending'), 0) AS pending,
                 coalesce(sum(number) FILTER (WHERE c = 'corrected'), 0) AS corrected
          FROM f GROUP BY report_id, t, r
        ), per_report AS (
          SELECT report_id,
            {apps["new_received"]} + {apps["carried_over"]} AS applications,
            {apps["total_handled"]} AS handled,
            {apps["granted"]} + {apps["partially_granted"]} AS granted_or_partly,
            {apps["unavailable_not_held"]} AS unavailable_not_held,
            {case["review", "total"]} - {case["review", "pending"]} AS reviews_concluded,
            {case["review", "corrected"]} AS reviews_corrected,
            ({case["lawsuit_direct", "total"]} + {case["lawsuit_after_review", "total"]})
              - ({case["lawsuit_direct", "pending"]} + {case["lawsuit_after_review", "pending"]})
              AS lawsuits_concluded,
            {case["lawsuit_direct", "corrected"]} + {case["lawsuit_after_review", "corrected"]}
              AS lawsuits_corrected
          FROM per_row GROUP BY report_id
        ), joined AS (
          SELECT nullif(r.report_year, 0) AS report_year, p.* EXCLUDE (report_id)
          FROM {_glob(data_dir, "reports")} r LEFT JOIN per_report p USING (report_id)
        )
        SELECT report_year, count(*) AS n_reports,
          sum(applications) AS applications, sum(handled) AS handled,
          sum(granted_or_partly) AS granted_or_partly,
          sum(unavailable_not_held) AS unavailable_not_held,
          sum(reviews_concluded) AS reviews_concluded, sum(reviews_corrected) AS reviews_corrected,
          sum(lawsuits_concluded) AS lawsuits_concluded,
          sum(lawsuits_corrected) AS lawsuits_corrected,
          {pooled}
        FROM joined GROUP BY report_year ORDER BY report_year NULLS LAST
        """
    ).df()


def duck_pre2019(data_dir: Path) -> pd.DataFrame:
    return duckdb.sql(
        f"""
        SELECT p.report_id, nullif(p.report_year, 0) AS report_year, r.region, r.region_code,
               r.agency, r.title, p.* EXCLUDE (report_id, report_year)
        FROM {_glob(data_dir, "pre2019")} p JOIN {_glob(data_dir, "reports")} r
          USING (report_id, report_year)
        ORDER BY report_year, r.agency, p.report_id, p.position
        """
    ).df()


def _same_pre2019(mine: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    key = ["report_id", "position"]

    def norm(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[[*key, "label", "period", "value"]].astype(
            {"report_id": str, "label": str, "period": str, "position": int}
        )
        return out.astype({"value": "Float64"}).sort_values(key).reset_index(drop=True)

    return len(mine) > 0 and norm(mine).equals(norm(theirs))


def _same_facts(mine: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    key = ["report_id", "table", "row", "column"]

    def norm(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[[*key, "value", "number", "agency"]].astype(
            {k: str for k in [*key, "agency"]}
        )
        out = out.astype({"value": "Float64", "number": "Float64"})
        return out.sort_values(key).reset_index(drop=True)

    return norm(mine).equals(norm(theirs))


def _same_wide(mine: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    key = ["report_id", "applicant"]
    columns = [c for c in mine.columns if c in theirs.columns and c not in REPORT_TEXT]

    def norm(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[columns].astype({k: str for k in key})
        out = out.astype({c: "Float64" for c in columns if c not in key})
        return out.sort_values(key).reset_index(drop=True)

    return len(columns) > 20 and norm(mine).equals(norm(theirs))


REPORT_TEXT = ("region", "region_code", "agency", "title")


def _same_rates(mine: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    if list(mine.columns) != list(theirs.columns) or len(mine) != len(theirs):
        return False
    for column in mine.columns:
        a = pd.to_numeric(mine[column].astype("Float64"), errors="coerce").to_numpy(
            dtype="float64", na_value=math.nan
        )
        b = pd.to_numeric(theirs[column].astype("Float64"), errors="coerce").to_numpy(
            dtype="float64", na_value=math.nan
        )
        same = ((abs(a - b) <= 1e-9 * abs(b) + 1e-12) | (pd.isna(a) & pd.isna(b))).all()
        if not same:
            return False
    return True


def run_load(data_dir: Path, repeats: int) -> None:
    if COMPACT is not None:
        COMPACT(data_dir)
    seconds, _ = timed(lambda: pd.read_parquet(data_dir / "parquet" / "facts"))
    print(f"pandas.read_parquet(facts): {seconds:.2f} s")
    seconds, _ = timed(lambda: duck_facts(data_dir, arrow=True))
    print(f"the DuckDB facts query to Arrow, without pandas: {seconds:.2f} s")
    cases: list[tuple[str, Callable[[], pd.DataFrame], Callable[[], pd.DataFrame], Callable]] = [
        ("load.facts()", lambda: load.facts(data_dir=data_dir), lambda: duck_facts(data_dir),
         _same_facts),
        (
            "load.applications()",
            lambda: load.applications(data_dir=data_dir),
            lambda: duck_applications(data_dir),
            _same_wide,
        ),
        (
            "load.rates(by='report_year')",
            lambda: load.rates(data_dir=data_dir, by="report_year"),
            lambda: duck_rates(data_dir),
            _same_rates,
        ),
    ]
    if PRE2019_EVERY:
        cases.append(
            (
                "load.pre2019()",
                lambda: load.pre2019(data_dir=data_dir),
                lambda: duck_pre2019(data_dir),
                _same_pre2019,
            )
        )
    for label, mine, theirs, same in cases:
        ours, duck = [], []
        for _ in range(repeats):
            seconds, frame = timed(mine)
            ours.append(seconds)
            seconds, other = timed(theirs)
            duck.append(seconds)
        a, b = statistics.median(ours), statistics.median(duck)
        print(
            f"{label}: {a:.2f} s, {len(frame):,} rows; DuckDB query {b:.2f} s, "  # type: ignore[arg-type]
            f"{len(other):,} rows; ratio {a / b:.2f}; identical: {same(frame, other)}"  # type: ignore[arg-type]
        )
        del frame, other


if __name__ == "__main__":
    main()
