"""``python -m pipeline reextract``: re-run the extractor over the raw archive and re-stage."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from pipeline.cli.exit_codes import ExitCode
from pipeline.datadir import default_data_dir, parquet_dir, raw_dir
from pipeline.errors import ArchiveError, LockedError
from pipeline.flows import reextract


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reextract",
        help="re-extract every archived report with the current extractor (no network)",
        description=(
            "Re-run the current extractor over the raw archive on all cores, re-stage the "
            "Parquet data, and print which reports' figures changed. Exit status 3 when a "
            "crawl holds the data directory's writer lock."
        ),
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: $OGI_DATA_DIR, else data"
    )
    parser.add_argument(
        "--since",
        metavar="VERSION",
        help="only reports staged by an extractor older than VERSION (and unstaged pages)",
    )
    parser.add_argument("--workers", type=int, default=None, help="default: all cores")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir or default_data_dir()
    if not raw_dir(data_dir).is_dir() and not parquet_dir(data_dir).is_dir():
        print(
            f"error: {data_dir}: no raw archive or staged data here (run a crawl first)",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    show = None if args.no_progress else progress_bar()
    try:
        outcome = reextract.run(data_dir, since=args.since, workers=args.workers, progress=show)
    except LockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.LOCKED
    except (ArchiveError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    print(
        f"re-extracted {outcome.examined} documents: {outcome.staged} staged, "
        f"{len(outcome.changed)} with changed figures, {len(outcome.added)} newly staged, "
        f"{len(outcome.failed)} failed"
    )
    for rid, lines in sorted(outcome.changed.items()):
        print(f"changed {rid} {outcome.titles.get(rid, '')}")
        for line in lines:
            print(f"    {line}")
    for rid in outcome.added:
        print(f"new     {rid} {outcome.titles.get(rid, '')}")
    for url, reason in outcome.failed:
        print(f"failed  {url}: {reason}")
    print(f"staged data: {parquet_dir(data_dir)}")
    return ExitCode.FAILED if outcome.failed and not outcome.staged else ExitCode.OK


def progress_bar(stream: TextIO = sys.stderr, width: int = 30) -> Callable[[int, int], None]:
    """A one-line text progress bar on ``stream``."""

    def show(done: int, total: int) -> None:
        filled = width if total == 0 else int(width * done / total)
        stream.write(f"\rre-extracting [{'#' * filled}{' ' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show
