"""``python -m pipeline compact``: publish the pending staging writes to the Parquet files."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline.cli.exit_codes import ExitCode
from pipeline.datadir import default_data_dir, parquet_dir
from pipeline.stage import compact


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Fold the pending staging writes into the published Parquet files (the ones "
        "pandas, DuckDB and Polars read) and recompute the cross-year checks. The nightly "
        "crawl, reextract and extract --stage end with one; this runs it by hand, e.g. "
        "during a long first crawl (it waits for the staging write in progress)."
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: $OGI_DATA_DIR, else data"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir or default_data_dir()
    if not parquet_dir(data_dir).is_dir():
        print(f"error: {data_dir}: nothing staged here (run a crawl first)", file=sys.stderr)
        return ExitCode.FAILED
    start = time.perf_counter()
    done = compact(data_dir)
    print(
        f"compacted {done.commits} pending writes in {time.perf_counter() - start:.1f} s: "
        f"{done.published} reports published, {done.taken_out} taken out of a year, "
        f"{done.files} files rewritten ({parquet_dir(data_dir)})"
    )
    return ExitCode.OK
