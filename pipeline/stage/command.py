"""``python -m pipeline reextract``: re-run the extractor over the raw archive and re-stage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.stage.store import parquet_root


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reextract",
        help="re-extract every archived report with the current extractor (no network)",
        description=(
            "Re-run the current extractor over the raw archive on all cores, re-stage the "
            "Parquet data, and print which reports' figures changed. Exit status 3 when a "
            "crawl holds the data directory's lock."
        ),
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default: data")
    parser.add_argument(
        "--since",
        metavar="VERSION",
        help="only reports staged by an extractor older than VERSION (and unstaged pages)",
    )
    parser.add_argument("--workers", type=int, default=None, help="default: all cores")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.archive import ArchiveError
    from pipeline.crawl.state import CrawlLocked
    from pipeline.stage import reextract

    data_dir: Path = args.data_dir
    if not (data_dir / "raw").is_dir() and not parquet_root(data_dir).is_dir():
        print(
            f"error: {data_dir}: no raw archive or staged data here (run a crawl first)",
            file=sys.stderr,
        )
        return 1
    show = None if args.no_progress else reextract.progress_bar()
    try:
        outcome = reextract.run(data_dir, since=args.since, workers=args.workers, progress=show)
    except CrawlLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (ArchiveError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
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
    print(f"staged data: {parquet_root(data_dir)}")
    return 1 if outcome.failed and not outcome.staged else 0
