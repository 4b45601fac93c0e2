"""``python -m pipeline demo``: the offline demo (no internet needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.exit_codes import ExitCode
from pipeline.errors import DemoError
from pipeline.flows.demo import DEFAULT_PORT, run_demo, summary_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="serve a bundled sample portal on 127.0.0.1, crawl, extract and stage it",
        description=(
            "Serve the bundled sample portal (real report pages) on 127.0.0.1, crawl it with "
            "the real crawler, extract and stage the reports, and print a summary."
        ),
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default: data")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        result = run_demo(args.data_dir, port=args.port)
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    print(summary_text(result))
    return ExitCode.OK if len(result.reports) else ExitCode.FAILED
