"""Command line: ``python -m pipeline COMMAND``.

One module per command in this package, each with a ``register(subparsers)`` function
that adds its parser and sets ``func`` (args -> exit code, see :mod:`.exit_codes`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pipeline.cli.exit_codes import ExitCode

# One module per command; each exposes register(subparsers).
COMMAND_MODULES = [
    "pipeline.cli.extract",
    "pipeline.cli.crawl",
    "pipeline.cli.reextract",
    "pipeline.cli.demo",
    "pipeline.cli.export_warc",
    "pipeline.cli.compact",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Crawl, extract and stage 政府信息公开工作年度报告 figures.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
