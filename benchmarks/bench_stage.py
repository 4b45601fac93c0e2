"""Staging benchmark (run on demand, not a test): prints figures, asserts nothing timed.

Stages N synthetic 2021-format reports (200 figures each; default 100,000 reports, so
20 million fact rows, spread over 7 report years) into a fresh data directory in one
``stage_reports`` batch, then re-stages some of them in batches of 500 (the crawler's
call: it stages 500 reports per write) and some one at a time (``extract URL --stage``),
and times the one-line loads researchers use.

    .venv/bin/python benchmarks/bench_stage.py [--reports N] [--batches N] [--single N]
        [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.synthetic

from pipeline import load
from pipeline.stage import BATCH_SIZE as STAGE_BATCH
from pipeline.stage import StageItem, stage_report, stage_reports
from tests.synthetic import synthetic_report, synthetic_url

YEARS = range(2019, 2026)
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def items(count: int) -> Iterator[StageItem]:
    for number in range(count):
        yield StageItem(
            report=synthetic_report(number, YEARS[number % len(YEARS)]),
            url=synthetic_url(number),
            region=f"合成省{number % 31}",
            region_code=f"{110000 + number % 31 * 10000}",
            fetched_at=FETCHED,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument(
        "--batches", type=int, default=4, help=f"re-staging batches of {STAGE_BATCH} (crawler)"
    )
    parser.add_argument(
        "--single", type=int, default=200, help="one-at-a-time re-stagings (extract --stage)"
    )
    parser.add_argument("--data-dir", type=Path, help="default: a temporary directory")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-stage-"))
    try:
        run(data_dir, args.reports, args.batches, args.single)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(data_dir: Path, count: int, batches: int, single: int) -> None:
    rows = count * len(synthetic_report(0, 2020).fact_list)
    start = time.perf_counter()
    for _ in items(min(count, 5_000)):
        pass
    gen = (time.perf_counter() - start) / min(count, 5_000) * count
    print(f"reports: {count:,}  fact rows: {rows:,}  (making the Report objects: ~{gen:.1f} s)")

    start = time.perf_counter()
    stage_reports(data_dir, items(count))
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in (data_dir / "parquet").rglob("*.parquet"))
    files = sum(1 for _ in (data_dir / "parquet").rglob("*.parquet"))
    print(
        f"batch stage: {seconds:.1f} s, {rows / seconds:,.0f} fact rows/s "
        f"({rows / max(seconds - gen, 1e-9):,.0f} rows/s without making the objects), "
        f"{count / seconds:,.0f} reports/s; peak RSS {peak_rss_mib():,.0f} MiB; "
        f"{size / 2**20:,.1f} MiB on disk in {files} files"
    )

    batches = min(batches, count // STAGE_BATCH)
    start = time.perf_counter()
    for batch in range(batches):
        numbers = range(batch * STAGE_BATCH, (batch + 1) * STAGE_BATCH)
        stage_reports(
            data_dir,
            (
                StageItem(
                    report=synthetic_report(n, YEARS[n % len(YEARS)], bump=1),
                    url=synthetic_url(n),
                    region=f"合成省{n % 31}",
                    region_code=f"{110000 + n % 31 * 10000}",
                    fetched_at=FETCHED,
                )
                for n in numbers
            ),
        )
    if batches:
        per = (time.perf_counter() - start) / batches
        print(
            f"re-stage in batches of {STAGE_BATCH} (the crawler's call): {per:.2f} s per "
            f"batch, {per / STAGE_BATCH * 1000:.1f} ms per report"
        )

    start = time.perf_counter()
    for number in range(single):
        report = synthetic_report(number, YEARS[number % len(YEARS)], bump=1)
        stage_report(
            data_dir,
            report,
            url=synthetic_url(number),
            region=None,
            region_code=None,
            fetched_at=FETCHED,
        )
    per = (time.perf_counter() - start) / max(single, 1)
    print(f"one-at-a-time re-stage (extract URL --stage): {per * 1000:.0f} ms per report")

    for label, call in (
        ("pandas.read_parquet(facts)", lambda: pd.read_parquet(data_dir / "parquet" / "facts")),
        ("load.facts()", lambda: load.facts(data_dir=data_dir)),
        ("load.applications()", lambda: load.applications(data_dir=data_dir)),
        ("load.applications(year=2023)", lambda: load.applications(data_dir=data_dir, year=2023)),
        ("load.rates(by='report_year')", lambda: load.rates(data_dir=data_dir, by="report_year")),
    ):
        start = time.perf_counter()
        frame = call()
        print(f"{label}: {time.perf_counter() - start:.1f} s, {len(frame):,} rows")
        del frame
    print(f"peak RSS overall: {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
