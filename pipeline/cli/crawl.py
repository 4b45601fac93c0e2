"""``python -m pipeline crawl``: the nightly crawl.

Exit codes (README, "Exit codes"): 0 every portal crawled; 5 some portals failed or were
blocked (:attr:`PortalSummary.outcome`); 1 nothing at all fetched (or the data directory
unusable); 2 invalid config or command line; 3 locked; 130 SIGINT, 143 SIGTERM (the
state is saved, the summary printed and written, the next run resumes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.exit_codes import ExitCode
from pipeline.crawl import CrawlSummary, load_config
from pipeline.crawl.config import select_portals
from pipeline.datadir import default_data_dir
from pipeline.errors import ConfigError, LockedError
from pipeline.flows.nightly import nightly
from pipeline.terminal import stderr_is_terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Discover and fetch 政府信息公开工作年度报告 from the portals in the config, "
        "archive every body under DATA_DIR/raw, extract and stage new or changed "
        "reports. Resumes an interrupted run; a later run only asks for changes. "
        "Writes a JSON summary of the run to DATA_DIR/runs/ (see also: status)."
    )
    parser.epilog = (
        "exit status: 0 every portal crawled; 5 some portals failed or were blocked; "
        "1 nothing fetched; 2 invalid config or options; 3 another writer holds the data "
        "directory; 130 / 143 stopped by SIGINT / SIGTERM (state saved, summary written, "
        "the next run resumes)"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config/portals.toml"),
        help="portals TOML file (default: config/portals.toml)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (default: $OGI_DATA_DIR, else data)",
    )
    parser.add_argument(
        "--portal",
        action="append",
        default=[],
        metavar="NAME",
        help="crawl only this portal (repeatable)",
    )
    parser.add_argument(
        "--max-pages",
        type=int,
        default=None,
        metavar="N",
        help="fetch at most N pages per portal in this run; the rest waits for the next run",
    )
    parser.add_argument(
        "--summary-json",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the run's JSON summary to PATH (always: DATA_DIR/runs/)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        metavar="S",
        help="spend at most S seconds per portal in this run; the rest waits for the next run",
    )
    parser.set_defaults(func=run)


#: the exit code of a run by its verdict (CrawlSummary.verdict)
VERDICT_CODES = {
    "ok": ExitCode.OK,
    "partial": ExitCode.PARTIAL,
    "nothing_fetched": ExitCode.FAILED,
}


def exit_code(summary: CrawlSummary) -> int:
    """What the command exits with after ``summary``."""
    if summary.interrupted == "SIGTERM":
        return ExitCode.TERMINATED
    if summary.interrupted:
        return ExitCode.INTERRUPTED
    return VERDICT_CODES[summary.verdict]


def run(args: argparse.Namespace) -> int:
    args.data_dir = args.data_dir or default_data_dir()
    try:
        portals = select_portals(load_config(args.config), args.portal, args.config)
    except ConfigError as exc:
        print(f"crawl: invalid config: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if args.max_pages is not None and args.max_pages < 1:
        print("crawl: --max-pages must be at least 1", file=sys.stderr)
        return ExitCode.USAGE
    if args.summary_json is not None and not args.summary_json.parent.is_dir():
        print(
            f"crawl: --summary-json {args.summary_json}: no directory {args.summary_json.parent}",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    if args.max_seconds is not None and args.max_seconds <= 0:
        print("crawl: --max-seconds must be positive", file=sys.stderr)
        return ExitCode.USAGE
    try:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"crawl: cannot use data directory {args.data_dir}: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    try:
        summary = nightly(
            portals,
            args.data_dir,
            max_pages=args.max_pages,
            progress=stderr_is_terminal(),
            exit_code=exit_code,
            summary_json=args.summary_json,
            max_seconds=args.max_seconds,
        )
    except LockedError as exc:
        print(f"crawl: {exc}", file=sys.stderr)
        return ExitCode.LOCKED
    except OSError as exc:  # unwritable state, archive or lock under the data directory
        print(f"crawl: data directory {args.data_dir}: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    print(f"crawl summary ({summary.seconds:.1f} s, {summary.requests} requests):")
    for portal in summary.portals:
        print(f"  {portal.line()}")
    if summary.record is not None:
        print(f"summary: {summary.record}")
    code = exit_code(summary)
    message = {
        "interrupted": f"interrupted by {summary.interrupted}: state saved, the next run resumes",
        "nothing_fetched": "nothing at all could be fetched",
        "partial": "some portals failed or were blocked: "
        + ", ".join(p.name for p in summary.portals if p.outcome in ("failed", "blocked")),
    }.get(summary.verdict)
    if message:
        print(f"crawl: {message} (exit {code})", file=sys.stderr)
    return code
