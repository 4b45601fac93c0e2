"""``python -m pipeline demo``: the offline demo (no internet needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.demo.run import DEFAULT_PORT, DemoError, run_demo, summary_text


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
        return 1
    print(summary_text(result))
    return 0 if len(result.reports) else 1
