"""``python -m pipeline crawl``: the nightly crawl."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.exit_codes import ExitCode
from pipeline.crawl import load_config
from pipeline.datadir import default_data_dir
from pipeline.errors import ConfigError, LockedError
from pipeline.flows.nightly import nightly


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "crawl",
        help="fetch annual reports from the configured county portals",
        description=(
            "Discover and fetch 政府信息公开工作年度报告 from the portals in the config, "
            "archive every body under DATA_DIR/raw, extract and stage new or changed "
            "reports. Resumes an interrupted run; a later run only asks for changes."
        ),
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
        "--max-seconds",
        type=float,
        default=None,
        metavar="S",
        help="spend at most S seconds per portal in this run; the rest waits for the next run",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    args.data_dir = args.data_dir or default_data_dir()
    try:
        portals = load_config(args.config)
    except ConfigError as exc:
        print(f"crawl: invalid config: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if args.portal:
        known = {p.name for p in portals}
        missing = [n for n in args.portal if n not in known]
        if missing:
            print(
                f"crawl: invalid config: no portal named {missing[0]!r} in {args.config}",
                file=sys.stderr,
            )
            return ExitCode.USAGE
        portals = [p for p in portals if p.name in set(args.portal)]
    if args.max_pages is not None and args.max_pages < 1:
        print("crawl: --max-pages must be at least 1", file=sys.stderr)
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
            max_seconds=args.max_seconds,
            progress=sys.stderr.isatty(),
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
    if summary.fetched == 0:
        print("crawl: nothing at all could be fetched", file=sys.stderr)
        return ExitCode.FAILED
    return ExitCode.OK
