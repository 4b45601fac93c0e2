"""``python -m pipeline demo``: the offline demo (no internet needed).

It writes to its own data directory (``data-demo`` by default, never ``$OGI_DATA_DIR``)
so that its sample reports never mix with crawled data; on port 8731 unless that is
taken, then on any free port (``--port N`` insists on N).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.exit_codes import ExitCode
from pipeline.datadir import DEMO_DATA_DIR
from pipeline.errors import DemoError, PortInUseError
from pipeline.flows.demo import DEFAULT_PORT, DemoResult, run_demo, summary_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Serve the bundled sample portal (real report pages) on 127.0.0.1, crawl it with "
        "the real crawler, extract and stage the reports, and print a summary. Writes to "
        f"its own data directory ({DEMO_DATA_DIR}), not to $OGI_DATA_DIR."
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEMO_DATA_DIR,
        help=f"default: {DEMO_DATA_DIR} (the demo never uses $OGI_DATA_DIR)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"default: {DEFAULT_PORT}, or a free port when {DEFAULT_PORT} is in use",
    )
    parser.set_defaults(func=run)


def demo(data_dir: Path, port: int | None) -> DemoResult:
    """The demo on ``port``; without one, on the default port or else on a free one."""
    if port is not None:
        return run_demo(data_dir, port=port)
    try:
        return run_demo(data_dir, port=DEFAULT_PORT)
    except PortInUseError:
        print(f"demo: port {DEFAULT_PORT} is in use; serving on a free port", file=sys.stderr)
        return run_demo(data_dir, port=0)


def run(args: argparse.Namespace) -> int:
    try:
        result = demo(args.data_dir, args.port)
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    print(summary_text(result))
    return ExitCode.OK if len(result.reports) else ExitCode.FAILED
